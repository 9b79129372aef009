"""Cached vectors as model inputs: (k, D) for images, (k, N, D) for clips, short clips padded with zero frames.

An all-zero row is how the models see "no frame here" (Keras' Masking convention): fc2 vectors of real
frames are never all zero in practice.
"""

from __future__ import annotations

import numpy as np

from captioner.features.cache import FeatureCache
from captioner.inputs.images import ImageFile


def clip_keys(cache: FeatureCache, key: str, frames: int) -> list[str]:
    """The cache keys of the frames stored for clip `key` at N = `frames` (fewer than N for a short clip)."""
    item = ImageFile(key, key, frames)
    candidates = item.cache_keys(frames)
    count = next((i for i, k in enumerate(candidates) if k not in cache), frames)
    return candidates[:count]


def padded_positions(counts: list[int], frames: int) -> np.ndarray:
    """(len(counts), frames) positions into a flat run of clips with `counts` frames each; -1 = padding."""
    out = np.full((len(counts), frames), -1, dtype=np.int64)
    start = 0
    for i, count in enumerate(counts):
        out[i, :count] = np.arange(start, start + count)
        start += count
    return out


def stack_clips(features: np.ndarray, counts: list[int], frames: int) -> np.ndarray:
    """Encoder output (sum(counts), D) -> (len(counts), frames, D), zero-padded; images (frames 0) unchanged."""
    if not frames:
        return features
    return gather_rows(features, padded_positions(counts, frames)).astype(features.dtype)


def cached_inputs(cache: FeatureCache, keys: list[str], frames: int) -> np.ndarray:
    """(k, D) image vectors, or (k, frames, D) clip frames, copied out of the cache."""
    if not frames:
        return cache.get(keys)
    stored = [clip_keys(cache, key, frames) for key in keys]
    flat = cache.get([k for ks in stored for k in ks])
    return stack_clips(flat, [len(ks) for ks in stored], frames)


def cached_rows(cache: FeatureCache, keys: list[str], frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(memmap, rows) without copying: rows (k,) for images, (k, frames) for clips with -1 for padding."""
    if not frames:
        return cache.matrix(keys)
    stored = [clip_keys(cache, key, frames) for key in keys]
    memmap, flat = cache.matrix([k for ks in stored for k in ks])
    positions = padded_positions([len(ks) for ks in stored], frames)
    return memmap, np.append(flat, -1)[positions]  # position -1 picks the appended -1: padding stays padding


def gather_rows(memmap: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """float32 inputs for `rows` as made by `cached_rows`: (B, D), or (B, N, D) with zeros where rows is -1."""
    out = np.asarray(memmap[np.maximum(rows, 0)], dtype=np.float32)
    if rows.ndim == 2:
        out[rows < 0] = 0.0
    return out


def frame_sample(memmap: np.ndarray, rows: np.ndarray, limit: int = 20_000, seed: int = 0) -> np.ndarray:
    """Up to `limit` real frame vectors (float32) of the clips in `rows` (k, N): for the frame statistics."""
    real = rows[rows >= 0]
    if len(real) > limit:
        real = np.sort(np.random.default_rng(seed).choice(real, limit, replace=False))
    return np.asarray(memmap[real], dtype=np.float32)
