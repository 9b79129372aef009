"""Flickr8k/Flickr30k token layout: `image.jpg#n<TAB>caption`, one caption a line."""

from __future__ import annotations

import re

from captioner.datasets.base import CaptionSet, DatasetError
from captioner.datasets.collect import Collector
from captioner.datasets.splits import find_splits
from captioner.datasets.textfile import read_lines

_LINE = re.compile(r"^(?P<name>[^\t]+)#(?P<n>\d+)\t(?P<caption>.*)$")


def looks_like_token_file(first_line: str) -> bool:
    return _LINE.match(first_line) is not None


def read_token_file(path: str) -> CaptionSet:
    out = Collector(path)
    seen: dict[tuple[str, str], int] = {}
    for number, line in read_lines(path):
        if not line.strip():
            continue
        match = _LINE.match(line)
        where = f"{path}:{number}"
        if match is None:
            raise DatasetError(f"{where}: expected 'image.jpg#N<TAB>caption', got {line[:60]!r}")
        name, n = match["name"].strip(), match["n"]
        if (name, n) in seen:
            raise DatasetError(f"{where}: duplicate key {name}#{n} (first on line {seen[(name, n)]})")
        seen[(name, n)] = number
        out.add(name, match["caption"], where)
    splits, split_source = find_splits(path)
    return CaptionSet(path, "flickr-token", out.captions, splits, split_source, out.skipped)
