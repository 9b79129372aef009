"""The two JSON layouts: COCO caption annotations and Karpathy's split files."""

from __future__ import annotations

import json

from captioner.datasets.base import SPLIT_ALIASES, CaptionSet, DatasetError
from captioner.datasets.collect import Collector


def load_json(path: str):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def field(record, name: str, kind, where: str):
    if not isinstance(record, dict) or name not in record:
        raise DatasetError(f"{where}: missing field {name!r}")
    value = record[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DatasetError(f"{where}: field {name!r} has the wrong type ({type(value).__name__})")
    return value


def is_coco(data) -> bool:
    return isinstance(data, dict) and "annotations" in data and "images" in data


def is_karpathy(data) -> bool:
    images = data.get("images") if isinstance(data, dict) else None
    return isinstance(images, list) and bool(images) and isinstance(images[0], dict) and "sentences" in images[0]


def read_coco(path: str, data) -> CaptionSet:
    """`images[].id/file_name` and `annotations[].image_id/caption`; COCO carries no split."""
    out = Collector(path)
    names: dict[int, str] = {}
    for i, image in enumerate(field(data, "images", list, path)):
        where = f"{path}: images[{i}]"
        names[field(image, "id", int, where)] = field(image, "file_name", str, where)
    for i, ann in enumerate(field(data, "annotations", list, path)):
        where = f"{path}: annotations[{i}]"
        image_id = field(ann, "image_id", int, where)
        if image_id not in names:
            raise DatasetError(f"{where}: image_id {image_id} is not in 'images'")
        out.add(names[image_id], field(ann, "caption", str, where), where)
    ids = {name: image_id for image_id, name in names.items() if name in out.captions}
    return CaptionSet(path, "coco", out.captions, None, "none", out.skipped, ids)


def read_karpathy(path: str, data) -> CaptionSet:
    """`images[].filepath?/filename/split/sentences[].raw` (Karpathy's dataset_*.json)."""
    out = Collector(path)
    splits: dict[str, str] = {}
    ids: dict[str, int] = {}
    for i, image in enumerate(field(data, "images", list, path)):
        where = f"{path}: images[{i}]"
        name = field(image, "filename", str, where)
        folder = image.get("filepath") if isinstance(image.get("filepath"), str) else ""
        name = f"{folder}/{name}" if folder else name
        if isinstance(image.get("cocoid"), int):  # Karpathy's COCO file keeps each image's COCO id
            ids[name] = image["cocoid"]
        split = field(image, "split", str, where)
        if split not in SPLIT_ALIASES:
            raise DatasetError(f"{where}: unknown split {split!r}")
        for j, sentence in enumerate(field(image, "sentences", list, where)):
            out.add(name, field(sentence, "raw", str, f"{where}.sentences[{j}]"), f"{where}.sentences[{j}]")
        for key in list(out.captions)[-1:]:
            splits[key] = SPLIT_ALIASES[split]
    return CaptionSet(path, "karpathy", out.captions, splits, f"{path} (split field)", out.skipped, ids)
