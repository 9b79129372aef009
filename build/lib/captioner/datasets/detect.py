"""Pick the reader from the file itself, not from flags."""

from __future__ import annotations

import os

from captioner.datasets.base import CaptionSet, DatasetError
from captioner.datasets.csv_layout import looks_like_csv, read_csv_file
from captioner.datasets.flickr import looks_like_token_file, read_token_file
from captioner.datasets.json_layouts import is_coco, is_karpathy, load_json, read_coco, read_karpathy
from captioner.datasets.msrvtt import is_msrvtt, read_msrvtt
from captioner.datasets.msvd import looks_like_msvd, read_msvd
from captioner.datasets.textfile import read_lines


def load_captions(path: str) -> CaptionSet:
    """Read any supported caption file; raises DatasetError (one line, file and line named)."""
    if os.path.isdir(path):
        raise DatasetError(f"{path}: is a directory; give the caption file (token .txt, .csv or .json)")
    if not os.path.exists(path):
        raise DatasetError(f"{path}: no such caption file")
    if path.lower().endswith(".json"):
        data = load_json(path)
        if is_coco(data):
            return read_coco(path, data)
        if is_karpathy(data):
            return read_karpathy(path, data)
        if is_msrvtt(data):
            return read_msrvtt(path, data)
        raise DatasetError(f"{path}: JSON is neither COCO captions (images + annotations), Karpathy "
                           "(images[].sentences) nor MSR-VTT (videos + sentences)")
    first = next((line for _, line in read_lines(path) if line.strip()), None)
    if first is None:
        raise DatasetError(f"{path}: caption file is empty")
    if looks_like_csv(first):
        return read_csv_file(path)
    if looks_like_msvd(first):
        return read_msvd(path)
    if looks_like_token_file(first):
        return read_token_file(path)
    raise DatasetError(f"{path}:1: unknown caption layout: expected 'image.jpg#0<TAB>caption', "
                       f"an 'image,caption' or MSVD 'VideoID,Start,End,...' CSV header, or a .json file")
