"""Images already in memory -> the encoder's pixels, by the same recipe as files: PIL images, uint8 arrays,
encoded bytes, and a clip's frames as a sequence. A bad one is an ImageError with a one-line reason."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

from captioner.inputs.decode_budget import DecodeBudget
from captioner.inputs.frames import FrameSampler, _decode_animation
from captioner.inputs.images import MAX_PIXELS, ImageError, load_image, to_pixels

KINDS = ("a path, a PIL.Image, a uint8 array (H, W, 3), encoded image bytes, a binary file object, "
         "or a clip's frames")


def is_file_object(item) -> bool:
    """A readable file object: an open file, io.BytesIO, a web framework's upload (anything with read())."""
    return callable(getattr(item, "read", None)) and not isinstance(item, (str, bytes))


def is_in_memory(item) -> bool:
    """Whether `item` is one of the in-memory kinds (anything else but a path gets its reason from the caller)."""
    return isinstance(item, (Image.Image, np.ndarray, bytes, bytearray, memoryview, list, tuple)) \
        or is_file_object(item)


def in_memory_pixels(item, frames: int, size: int = 224, budget: DecodeBudget | None = None) -> np.ndarray:
    """(k, size, size, 3) uint8: one image (k = 1) for an image model (`frames` 0), else up to `frames` frames
    sampled as from a clip file. Encoded bytes decode within `budget` (an image charged its pixels, an animation
    held to the limits frame by frame, as `load_clip` holds a file)."""
    if is_file_object(item):
        data = item.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError("a file object opened as text; open it in binary mode ('rb')")
        item = data
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = io.BytesIO(bytes(item))
        if frames:  # an animated GIF/WebP; a video's bytes are not a format Pillow reads
            sampler = FrameSampler(frames)
            _decode_animation(data, size, sampler, budget or DecodeBudget())
            return sampler.frames()
        return load_image(data, size, budget)[None]
    if isinstance(item, (list, tuple)) or (isinstance(item, np.ndarray) and item.ndim == 4):
        if not frames:
            raise ImageError("a sequence of frames (a clip); this model describes images")
        if len(item) == 0:
            raise ImageError("no frames")
        sampler = FrameSampler(frames)  # as a clip file is sampled
        for frame in item:
            sampler.add(lambda frame=frame: _one_image(frame, size))
        return sampler.frames()
    if frames:
        raise ImageError("an image; this model describes clips")
    return _one_image(item, size)[None]


def _one_image(item, size: int) -> np.ndarray:
    if isinstance(item, Image.Image):
        width, height = item.size
        if width * height > MAX_PIXELS:
            raise ImageError(f"image too large ({width}x{height} pixels, limit {MAX_PIXELS:,})")
        return to_pixels(ImageOps.exif_transpose(item), size)
    if isinstance(item, np.ndarray):
        if item.dtype != np.uint8:
            raise ImageError(f"an array of {item.dtype}; images are uint8 (H, W, 3)")
        if item.ndim != 3 or item.shape[2] != 3 or 0 in item.shape:
            raise ImageError(f"an array of shape {item.shape}; images are uint8 (H, W, 3)")
        return to_pixels(Image.fromarray(item, "RGB"), size)
    raise ImageError(f"a frame of type {type(item).__name__}; frames are PIL images or uint8 (H, W, 3) arrays")
