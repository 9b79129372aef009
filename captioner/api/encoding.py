"""Any mix of inputs -> encoder features, in input order: files through the commands' decoding pipeline (threads
or the GPU, read ahead), in-memory images by the same pixel recipe; a bad input gets its reason, not a raise."""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np

from captioner.base.errors import InputError
from captioner.features.extraction import decoded_batches
from captioner.inputs.images import ImageError, ImageFile
from captioner.inputs.in_memory import KINDS, in_memory_pixels, is_file_object, is_in_memory

# Inputs decoded, encoded and searched together: bounds memory whatever the number of inputs.
CHUNK = 256


def name_of(item, index: int) -> str:
    """A path as given; for in-memory inputs their kind and position, e.g. `<ndarray #2>`."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    return f"<{'PIL.Image' if type(item).__module__.startswith('PIL') else type(item).__name__} #{index}>"


def check_inputs(inputs) -> list:
    """The inputs as a list; a single path, image or file (not in a list) is a usage error of the call. An input
    of a kind not taken is not: it becomes that item's error (`unsupported_reason`), the others are captioned."""
    if isinstance(inputs, (str, os.PathLike, bytes)) or (isinstance(inputs, np.ndarray) and inputs.ndim == 3) \
            or type(inputs).__module__.startswith("PIL") or is_file_object(inputs):
        raise InputError("pass a list of inputs (one image is [image])")
    return list(inputs)


def unsupported_reason(item) -> str | None:
    """The one-line reason an input of a kind not taken gets in its result; None for a kind taken."""
    if isinstance(item, (str, os.PathLike)) or is_in_memory(item):
        return None
    return f"unsupported input: a {type(item).__name__}; pass {KINDS}"


def encoded(inputs: list, encoder, frames: int, batch_size: int, gpu=None
            ) -> Iterator[list[tuple[str, np.ndarray | None, str | None]]]:
    """Per chunk of inputs: [(name, (k, D) float32 features (uint8 pixels from a pass-through encoder) or None,
    reason or None)], in input order
    (k = 1 for an image, the sampled frames of a clip)."""
    for start in range(0, len(inputs), CHUNK):
        part = inputs[start:start + CHUNK]
        names = [name_of(item, start + i) for i, item in enumerate(part)]
        out: list = [None] * len(part)
        files, pixels = [], []  # ImageFile keyed by its position; (position, (k, S, S, 3) uint8)
        for i, item in enumerate(part):
            reason = unsupported_reason(item)
            if reason:
                out[i] = (names[i], None, reason)
                continue
            if isinstance(item, (str, os.PathLike)):
                files.append(ImageFile(str(i), os.fspath(item), frames))
                continue
            try:
                pixels.append((i, in_memory_pixels(item, frames, encoder.input_size)))
            except ImageError as exc:
                out[i] = (names[i], None, str(exc))
        for good, batch, counts, bad in decoded_batches(files, encoder.input_size, batch_size, gpu=gpu):
            for item, reason in bad:
                out[int(item.key)] = (names[int(item.key)], None, reason)
            if good:
                for item, rows in zip(good, _split(encoder.encode(batch), counts)):
                    out[int(item.key)] = (names[int(item.key)], rows, None)
        for group in _groups(pixels, batch_size):
            counts = [len(p) for _, p in group]
            for (i, _), rows in zip(group, _split(encoder.encode(np.concatenate([p for _, p in group])), counts)):
                out[i] = (names[i], rows, None)
        yield out


def _split(features: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Rows per input; float32 features, or uint8 pixels as they are (an exported model's input)."""
    features = np.asarray(features)
    return np.split(features if features.dtype == np.uint8 else features.astype(np.float32), np.cumsum(counts)[:-1])


def _groups(pixels: list, batch_size: int) -> Iterator[list]:
    group, size = [], 0
    for entry in pixels:
        group.append(entry)
        size += len(entry[1])
        if size >= batch_size:
            yield group
            group, size = [], 0
    if group:
        yield group
