"""An uploaded file's bytes -> the encoder's pixels, by the same recipe as a file on disk, or the one-line
reason it cannot be used. Videos are recognised by their first bytes, not by the name the client gave."""

from __future__ import annotations

import tempfile

import numpy as np

from captioner.inputs.decode_budget import DecodeBudget
from captioner.inputs.frames import load_clip
from captioner.inputs.images import ImageError
from captioner.inputs.in_memory import in_memory_pixels


def video_suffix(data: bytes) -> str | None:
    """The container's usual extension when `data` starts like a video (what PyAV, not Pillow, reads)."""
    if data[4:8] == b"ftyp":
        return ".mov" if data[8:10] == b"qt" else ".mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return ".mkv"  # Matroska and WebM
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return ".avi"
    return None


def is_clip_upload(data: bytes) -> bool:
    """A video or an animated GIF/WebP by its first bytes: decoded by the clip decoders, not the image ones."""
    return video_suffix(data) is not None or data[:6] in (b"GIF87a", b"GIF89a") or \
        (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def upload_pixels(data: bytes, frames: int, size: int, budget: DecodeBudget | None = None) -> np.ndarray:
    """(k, size, size, 3) uint8: one image (k = 1) for an image model (`frames` 0), else a clip's sampled frames,
    decoded within `budget`. ImageError with the reason otherwise."""
    budget = budget or DecodeBudget()
    if not data:
        raise ImageError("empty file (0 bytes)")
    suffix = video_suffix(data)
    if suffix is None:
        return in_memory_pixels(data, frames, size, budget)
    if not frames:
        raise ImageError("a video clip; this model describes images")
    # PyAV reads a container from a file it can seek in; the upload is written to one only we can read.
    with tempfile.NamedTemporaryFile(suffix=suffix, prefix="captioner-upload-") as tmp:
        tmp.write(data)
        tmp.flush()
        return load_clip(tmp.name, frames, size, budget)
