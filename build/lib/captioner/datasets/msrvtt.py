"""The MSR-VTT annotation JSON: `videos[]` (video_id, split) and `sentences[]` (video_id, caption).

The clip is the file `<video_id>.<ext>` under the clip root; the file's own split field is used
(`validate` is the validation split).
"""

from __future__ import annotations

from captioner.datasets.base import SPLIT_ALIASES, CaptionSet, DatasetError
from captioner.datasets.collect import Collector
from captioner.datasets.json_layouts import field


def is_msrvtt(data) -> bool:
    return isinstance(data, dict) and "videos" in data and "sentences" in data


def read_msrvtt(path: str, data) -> CaptionSet:
    out = Collector(path)
    splits: dict[str, str] = {}
    for i, video in enumerate(field(data, "videos", list, path)):
        where = f"{path}: videos[{i}]"
        video_id = field(video, "video_id", str, where)
        split = field(video, "split", str, where)
        if split not in SPLIT_ALIASES:
            raise DatasetError(f"{where}: unknown split {split!r} (expected train, validate or test)")
        splits[video_id] = SPLIT_ALIASES[split]
    for i, sentence in enumerate(field(data, "sentences", list, path)):
        where = f"{path}: sentences[{i}]"
        video_id = field(sentence, "video_id", str, where)
        if video_id not in splits:
            raise DatasetError(f"{where}: video_id {video_id!r} is not in 'videos'")
        out.add(video_id, field(sentence, "caption", str, where), where, file_name=False)
    return CaptionSet(path, "msrvtt", out.captions, splits, f"{path} (split field)", out.skipped)
