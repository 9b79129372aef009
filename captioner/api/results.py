"""What `caption` and `classify` return per input: the answer, or the one-line reason it could not be read.

One schema for a result everywhere (the CLI's JSON, caption-folder's JSONL and CSV, the server's JSON, evaluate's
items, these objects): `input` names the input, then `caption`, `log_prob` and `captions` (each
{`caption`, `log_prob`}, best first) for a caption model, `label`, `probability` and `top` (each {`label`,
`probability`}) for a classifier, or `error`: the one-line reason it could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field

from captioner.search.caption import Caption

__all__ = ["Caption", "CaptionResult", "LabelResult"]


@dataclass(frozen=True)
class CaptionResult:
    """One input's captions, best first (`num_captions` of them), or `error` when it could not be read.

    `input` names it: the path as given, or `<PIL.Image #3>`-style for an in-memory item (its index)."""

    input: str
    captions: list[Caption] = field(default_factory=list)
    error: str | None = None

    @property
    def caption(self) -> str | None:
        """The best caption (None when `error` is set)."""
        return self.captions[0].text if self.captions else None

    @property
    def text(self) -> str | None:
        """The best caption: the same as `caption`."""
        return self.caption

    @property
    def log_prob(self) -> float | None:
        """The best caption's log-probability (natural log, summed over its tokens and <end>)."""
        return self.captions[0].log_prob if self.captions else None

    def to_json(self, all_captions: bool = True, digits: int | None = None) -> dict:
        """The result in the one schema: {input, caption, log_prob, captions} or {input, error}; `all_captions`
        False leaves `captions` out, `digits` rounds the log-probabilities."""
        if self.error is not None:
            return {"input": self.input, "error": self.error}
        record = {"input": self.input, "caption": self.caption, "log_prob": _rounded(self.log_prob, digits)}
        if all_captions:
            record["captions"] = [{"caption": c.text, "log_prob": _rounded(c.log_prob, digits)} for c in self.captions]
        return record


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

    def to_json(self, digits: int | None = None) -> dict:
        """The result in the one schema: {input, label, probability, top} or {input, error}."""
        if self.error is not None:
            return {"input": self.input, "error": self.error}
        return {"input": self.input, "label": self.label, "probability": _rounded(self.probability, digits),
                "top": [{"label": label, "probability": _rounded(p, digits)} for label, p in self.top]}


def _rounded(value: float, digits: int | None) -> float:
    return float(value) if digits is None else round(float(value), digits)
