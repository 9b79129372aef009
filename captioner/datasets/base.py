"""What every reader returns."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from captioner.base.errors import UsageError
from captioner.inputs.filetypes import looks_like_video, strip_clip_extension

SPLITS = ("train", "val", "test")
SPLIT_ALIASES = {"train": "train", "restval": "train", "val": "val", "dev": "val", "validate": "val", "test": "test"}
CLIP_LAYOUTS = ("msvd", "msrvtt")  # layouts whose names are always clips


class DatasetError(UsageError):
    """A malformed caption file; the message names the file and line or record."""


def hashed_split(key: str) -> str:
    """A stable 90/5/5 split for sources that carry none (COCO json, a bare CSV)."""
    bucket = zlib.crc32(key.encode("utf-8")) % 100
    return "train" if bucket < 90 else "val" if bucket < 95 else "test"


@dataclass
class CaptionSet:
    source: str  # the caption file
    layout: str  # "flickr8k-token", "csv", "coco", "karpathy", ...
    captions: dict[str, list[str]]  # image key (path relative to the image root) -> raw captions, file order
    splits: dict[str, str] | None = None  # image key -> train|val|test, when the source has them
    split_source: str = "none"  # where `splits` came from, for messages
    skipped: list[str] = field(default_factory=list)  # one line per record reported and skipped
    image_ids: dict[str, int] = field(default_factory=dict)  # COCO ids where the source has them (results files)
    _clip_splits: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def num_captions(self) -> int:
        return sum(len(c) for c in self.captions.values())

    @property
    def kind(self) -> str:
        """"clip" when the file names clips (a video layout, or any video file name), else "image"."""
        if self.layout in CLIP_LAYOUTS or any(looks_like_video(k) for k in self.captions):
            return "clip"
        return "image"

    def split_of(self, key: str) -> str:
        if self.splits is None:
            return hashed_split(key)
        if key in self.splits:
            return self.splits[key]
        # A split file may name a clip by file name or by id ('abc_1_5.mp4' / 'abc_1_5'), either way round.
        if self._clip_splits is None:
            self._clip_splits = {strip_clip_extension(k): v for k, v in self.splits.items()}
        return self._clip_splits.get(strip_clip_extension(key), "unassigned")

    def select(self, split: str | None) -> "CaptionSet":
        """The images of one split (all images for None)."""
        if split is None:
            return self
        split = SPLIT_ALIASES.get(split)
        if split is None:
            raise UsageError(f"unknown split (choose from {', '.join(SPLITS)})")
        chosen = {k: v for k, v in self.captions.items() if self.split_of(k) == split}
        return CaptionSet(self.source, self.layout, chosen, self.splits, self.split_source, self.skipped,
                          self.image_ids)

    def training_keys(self) -> list[str]:
        """The images (or clips) of the train and validation splits, sorted: what training needs features for."""
        return sorted(set(self.select("train").captions) | set(self.select("val").captions))

    def describe_split(self) -> str:
        if self.splits is None:
            return "no split in the source: a stable 90/5/5 hash split of image names is used"
        return f"split from {self.split_source}"
