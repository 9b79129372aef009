"""The MSVD (Microsoft Video Description corpus) CSV: one description a row, many languages.

Header `VideoID,Start,End,WorkerID,Source,AnnotationTime,Language,Description`; the clip is the file
`VideoID_Start_End.<ext>` under the clip root. Only English rows are used.
"""

from __future__ import annotations

from captioner.datasets.base import CaptionSet, DatasetError
from captioner.datasets.collect import Collector
from captioner.datasets.csv_layout import csv_row
from captioner.datasets.splits import find_splits
from captioner.datasets.textfile import read_lines

HEADER = ["VideoID", "Start", "End", "WorkerID", "Source", "AnnotationTime", "Language", "Description"]


def looks_like_msvd(first_line: str) -> bool:
    return [c.strip() for c in first_line.split(",")][:3] == HEADER[:3]


def clip_id(video_id: str, start: str, end: str) -> str:
    return f"{video_id}_{start}_{end}"


def read_msvd(path: str) -> CaptionSet:
    out = Collector(path)
    other_languages = 0
    for number, line in read_lines(path):
        where = f"{path}:{number}"
        if number == 1:
            if [c.strip() for c in line.split(",")] != HEADER:
                raise DatasetError(f"{where}: expected the MSVD header '{','.join(HEADER)}', got {line[:80]!r}")
            continue
        if not line.strip():
            continue
        row = csv_row(line, where)
        if len(row) != len(HEADER):
            raise DatasetError(f"{where}: expected {len(HEADER)} fields ({','.join(HEADER)}), got {len(row)}; "
                               "quote descriptions that contain commas")
        video_id, start, end, language, description = row[0].strip(), row[1].strip(), row[2].strip(), row[6], row[7]
        if not video_id or not start.isdigit() or not end.isdigit():
            raise DatasetError(f"{where}: VideoID must be set and Start, End whole seconds, got "
                               f"{video_id!r}, {start!r}, {end!r}")
        if language.strip().lower() != "english":
            other_languages += 1
            continue
        out.add(clip_id(video_id, start, end), description, where, file_name=False)
    if not out.captions:
        raise DatasetError(f"{path}: no English descriptions ({other_languages} rows in other languages)")
    splits, split_source = find_splits(path)
    return CaptionSet(path, "msvd", out.captions, splits, split_source, out.skipped)
