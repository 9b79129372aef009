"""What `caption` and `classify` return per input: the answer, or the one-line reason it could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field

from captioner.search.captioning import Caption

__all__ = ["Caption", "CaptionResult", "LabelResult"]


@dataclass(frozen=True)
class CaptionResult:
    """One input's captions, best first (`num_captions` of them), or `error` when it could not be read.

    `input` names it: the path as given, or `<PIL.Image #3>`-style for an in-memory item (its index)."""

    input: str
    captions: list[Caption] = field(default_factory=list)
    error: str | None = None

    @property
    def text(self) -> str | None:
        """The best caption (None when `error` is set)."""
        return self.captions[0].text if self.captions else None

    @property
    def log_prob(self) -> float | None:
        """The best caption's log-probability (natural log, summed over its tokens and <end>)."""
        return self.captions[0].log_prob if self.captions else None


@dataclass(frozen=True)
class LabelResult:
    """One clip's `top_k` classes as (label, probability), most likely first, or `error`."""

    input: str
    top: list[tuple[str, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def label(self) -> str | None:
        """The most likely class (None when `error` is set)."""
        return self.top[0][0] if self.top else None

    @property
    def probability(self) -> float | None:
        """Its softmax probability."""
        return self.top[0][1] if self.top else None
