"""Small JPEG previews as data: URIs, so a report page is one self-contained file (no links to the images)."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageOps

from captioner.inputs.frames import load_clip
from captioner.inputs.images import ImageError, opened_image

IMAGE_SIDE = 160  # longest side of an image thumbnail, in pixels
FRAME_SIDE = 72  # each frame of a clip's strip


def previews(path: str, frames: int = 0) -> list[str]:
    """One data URI for an image, or one per sampled frame for a clip; [] when the file cannot be read now."""
    try:
        if frames:
            return [_data_uri(Image.fromarray(np.asarray(f, dtype=np.uint8)), FRAME_SIDE)
                    for f in load_clip(path, frames, FRAME_SIDE)]
        with opened_image(path) as img:
            img = ImageOps.exif_transpose(img)  # shown the way the encoder saw it
            return [_data_uri(img.convert("RGB"), IMAGE_SIDE)]
    except (ImageError, OSError, ValueError):
        return []


def _data_uri(img: Image.Image, side: int) -> str:
    img = img.copy()
    img.thumbnail((side, side))
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
