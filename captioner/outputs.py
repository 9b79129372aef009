"""Result files of caption-folder: JSONL, CSV or COCO results JSON, chosen by extension, written atomically.

Records are streamed to a temporary file beside the target, which replaces the target only when complete:
a reader sees the old complete file or the new complete file.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile

from captioner.errors import UsageError

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".json": "coco"}


def output_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise UsageError(f"{path}: unknown output format {ext or '(none)'}; use .jsonl, .csv or .json (COCO results)")
    return FORMATS[ext]


def coco_image_id(key: str):
    """COCO file names are numbers (000000397133.jpg -> 397133); other names stay strings."""
    stem = os.path.splitext(os.path.basename(key))[0]
    digits = re.fullmatch(r"(?:COCO_\w+_)?0*(\d+)", stem)
    return int(digits.group(1)) if digits else key


class ResultWriter:
    """write({"image": key, "caption": text} or {"image": key, "error": reason}); commit() renames into place."""

    def __init__(self, path: str):
        self.path, self.format = path, output_format(path)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        self.file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.count = 0
        if self.format == "csv":
            self.csv = csv.writer(self.file)
            self.csv.writerow(["image", "caption", "error"])
        elif self.format == "coco":
            self.file.write("[")

    def write(self, record: dict) -> None:
        if self.format == "jsonl":
            self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.format == "csv":
            self.csv.writerow([record["image"], record.get("caption", ""), record.get("error", "")])
        else:
            entry = {"image_id": coco_image_id(record["image"]), "file_name": record["image"]}
            entry.update({k: v for k, v in record.items() if k in ("caption", "error")})
            self.file.write(("," if self.count else "") + "\n" + json.dumps(entry, ensure_ascii=False))
        self.count += 1

    def commit(self) -> None:
        if self.format == "coco":
            self.file.write("\n]\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def read_results(path: str) -> list[dict]:
    """Records of an earlier complete output file (for --resume), as {"image", "caption"|"error"}."""
    fmt = output_format(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if fmt == "jsonl":
                return [json.loads(line) for line in f if line.strip()]
            if fmt == "csv":
                rows = list(csv.DictReader(f))
                return [{"image": r["image"], **({"error": r["error"]} if r.get("error") else {"caption": r["caption"]})}
                        for r in rows]
            return [{"image": e["file_name"], **{k: e[k] for k in ("caption", "error") if k in e}} for e in json.load(f)]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: cannot read the earlier results to resume ({exc})") from None
