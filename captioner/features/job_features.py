"""What a training job reads: the features of its images or clips, extracted before training as a step of its own
(`features_for.features_for_job`). The trainers take this and nothing that extracts."""

from __future__ import annotations

from dataclasses import dataclass

from captioner.features.cache import FeatureCache
from captioner.features.encoder_spec import EncoderSpec


@dataclass(frozen=True)
class JobFeatures:
    """What a training job reads, made by `features_for_job` as a step of its own before training starts: a
    read-only cache holding the features of the job's images (or clips of `frames` frames), the keys that have
    them, and the files that could not be read (each already named once, as skipped). Close it, or use it as a
    context manager, when done."""

    cache: FeatureCache
    keys: frozenset[str]
    failed: tuple[tuple[str, str], ...]
    frames: int = 0

    @property
    def spec(self) -> EncoderSpec:
        """What produced the features: the model trained on them records it."""
        return self.cache.fingerprint

    def usable(self, keys) -> list[str]:
        """Those of `keys` that have features, sorted."""
        return sorted(k for k in keys if k in self.keys)

    def __enter__(self) -> JobFeatures:
        return self

    def __exit__(self, *exc) -> None:
        self.cache.close()
