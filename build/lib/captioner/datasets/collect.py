"""Shared bookkeeping of the readers: keys checked, odd names skipped, empty or duplicate captions refused."""

from __future__ import annotations

from captioner.datasets.base import DatasetError
from captioner.datasets.paths import safe_key
from captioner.inputs.filetypes import looks_like_media


class Collector:
    def __init__(self, source: str):
        self.source = source
        self.captions: dict[str, list[str]] = {}
        self.skipped: list[str] = []

    def add(self, name: str, caption: str, where: str, file_name: bool = True) -> None:
        """Record one caption of image or clip `name`; `where` is "file:line" or "file: record ...".

        `file_name=False` for layouts that name clips by id (MSVD, MSR-VTT), without an extension.
        """
        key = safe_key(name, where)
        if file_name and not looks_like_media(key):
            # Flickr8k's token file famously holds "2258277193_586949ec62.jpg.1": report, do not die.
            self.skipped.append(f"{where}: skipped image name {name!r} (not an image or video file name)")
            return
        caption = " ".join(caption.split())
        if not caption:
            raise DatasetError(f"{where}: empty caption for {name!r}")
        self.captions.setdefault(key, []).append(caption)
