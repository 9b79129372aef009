"""The widely shared `image,caption` CSV layout (header line, one caption a row)."""

from __future__ import annotations

import csv
import io

from captioner.datasets.base import CaptionSet, DatasetError
from captioner.datasets.collect import Collector
from captioner.datasets.splits import find_splits
from captioner.datasets.textfile import read_lines

HEADER = ["image", "caption"]


def looks_like_csv(first_line: str) -> bool:
    return [c.strip().lower() for c in first_line.split(",")] == HEADER


def csv_row(line: str, where: str) -> list[str]:
    """The fields of one CSV line (quoted fields may hold commas)."""
    try:
        return next(csv.reader(io.StringIO(line)))
    except csv.Error as exc:
        raise DatasetError(f"{where}: {exc}") from None


def read_csv_file(path: str) -> CaptionSet:
    out = Collector(path)
    lines = read_lines(path)
    for number, line in lines:
        if number == 1:
            if not looks_like_csv(line):
                raise DatasetError(f"{path}:1: expected the header 'image,caption', got {line[:60]!r}")
            continue
        if not line.strip():
            continue
        row = csv_row(line, f"{path}:{number}")
        if len(row) != 2:
            raise DatasetError(f"{path}:{number}: expected 2 fields (image,caption), got {len(row)}; "
                               "quote captions that contain commas")
        out.add(row[0], row[1], f"{path}:{number}")
    splits, split_source = find_splits(path)
    return CaptionSet(path, "csv", out.captions, splits, split_source, out.skipped)
