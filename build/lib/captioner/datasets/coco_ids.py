"""The image id a COCO results file gives a file."""

from __future__ import annotations

import os
import re


def coco_image_id(key: str):
    """COCO file names are numbers (000000397133.jpg -> 397133); other names stay strings."""
    stem = os.path.splitext(os.path.basename(key))[0]
    digits = re.fullmatch(r"(?:COCO_\w+_)?0*(\d+)", stem)
    return int(digits.group(1)) if digits else key
