"""Caption files in every common layout, read through one interface: `load_captions`."""

from captioner.datasets.base import SPLITS, CaptionSet, DatasetError
from captioner.datasets.detect import load_captions
from captioner.datasets.paths import resolve_clip, resolve_image, safe_key

__all__ = ["CaptionSet", "DatasetError", "SPLITS", "load_captions", "resolve_clip", "resolve_image", "safe_key"]
