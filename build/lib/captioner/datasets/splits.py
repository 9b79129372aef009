"""Split files found next to a caption file.

Two layouts: Flickr's `*trainImages.txt` / `*devImages.txt` / `*testImages.txt` (one image a line), or a
`split.tsv` (`image<TAB>train|dev|val|test`).
"""

from __future__ import annotations

import glob
import os

from captioner.datasets.base import SPLIT_ALIASES, DatasetError
from captioner.datasets.paths import safe_key
from captioner.datasets.textfile import read_lines

_FLICKR = {"train": "*trainImages.txt", "val": "*devImages.txt", "test": "*testImages.txt"}


def find_splits(caption_file: str) -> tuple[dict[str, str] | None, str]:
    """(image key -> split, description) or (None, "none") when there is no split file."""
    directory = os.path.dirname(os.path.abspath(caption_file))
    tsv = os.path.join(directory, "split.tsv")
    if os.path.isfile(tsv):
        return _read_tsv(tsv), tsv
    found = {split: sorted(glob.glob(os.path.join(directory, pattern))) for split, pattern in _FLICKR.items()}
    if not any(found.values()):
        return None, "none"
    splits: dict[str, str] = {}
    for split, files in found.items():
        for path in files[:1]:
            for number, line in read_lines(path):
                if line.strip():
                    splits[safe_key(line, f"{path}:{number}")] = split
    return splits, ", ".join(os.path.basename(f[0]) for f in found.values() if f)


def _read_tsv(path: str) -> dict[str, str]:
    splits = {}
    for number, line in read_lines(path):
        if not line.strip():
            continue
        parts = line.split("\t")
        where = f"{path}:{number}"
        if len(parts) != 2 or parts[1].strip().lower() not in SPLIT_ALIASES:
            raise DatasetError(f"{where}: expected 'image<TAB>train|val|test', got {line[:60]!r}")
        splits[safe_key(parts[0], where)] = SPLIT_ALIASES[parts[1].strip().lower()]
    return splits
