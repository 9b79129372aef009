"""A feature cache of made-up vectors (the tiny encoder's, or pixels for a model with its own CNN), for the
trainers' stage tests: no image is decoded and no encoder is built, so a training run costs its epochs alone."""

from __future__ import annotations

import numpy as np

from captioner.features.cache import FeatureCache
from captioner.features.encoder import fingerprint
from captioner.features.encoder_spec import EncoderSpec
from captioner.features.job_features import JobFeatures
from captioner.inputs.images import ImageFile

SPEC = fingerprint("random-tiny")


def write_made_cache(directory: str, vectors: dict[str, np.ndarray], frames: int = 0, spec: EncoderSpec = SPEC):
    """Store `vectors`: key -> (D,) for an image, or (n, D) with n <= `frames` for a clip of `frames` frames (a
    clip with fewer is a short one, padded when read)."""
    keys, rows = [], []
    for key, value in vectors.items():
        value = np.atleast_2d(value)
        keys += ImageFile(key, key, frames).cache_keys(len(value))
        rows.append(value)
    with FeatureCache.open(directory, spec, writable=True) as cache:
        cache.append(keys, np.concatenate(rows))


def made_vectors(keys, frames: int = 0, seed: int = 0, short: frozenset = frozenset(),
                 spec: EncoderSpec = SPEC) -> dict[str, np.ndarray]:
    """Seeded random vectors of the spec's width: non-negative floats as fc2 vectors are, or uint8 pixels; the
    clips in `short` get one frame fewer."""
    rng = np.random.default_rng(seed)
    out = {}
    for key in sorted(keys):
        shape = (frames - (key in short), spec.dim) if frames else (spec.dim,)
        out[key] = rng.integers(0, 256, shape, dtype=np.uint8) if spec.is_pixels else np.abs(rng.normal(size=shape))
    return out


def made_job_features(directory: str, keys, frames: int = 0, failed=(), spec: EncoderSpec = SPEC) -> JobFeatures:
    """What `features_for_job` hands a trainer: the cache read-only, the keys that have features (`keys`), and
    the files that could not be read."""
    return JobFeatures(FeatureCache.open(directory, spec), frozenset(keys), tuple(failed), frames)
