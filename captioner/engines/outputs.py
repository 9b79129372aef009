"""Result files of caption-folder: JSONL, CSV or COCO results JSON, chosen by extension, written atomically.

Records are streamed to a journal beside the target; when the run completes, the journal is converted into the
target in one rename. A reader sees the old complete file or the new complete file, never a partial one.
"""

from __future__ import annotations

import csv
import json
import os

from captioner.base.atomic import atomic_path
from captioner.base.errors import UsageError
from captioner.base.result_names import with_input_name
from captioner.datasets.coco_ids import coco_image_id

FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".json": "coco"}


def output_format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise UsageError(f"{path}: unknown output format {ext or '(none)'}; use .jsonl, .csv or .json (COCO results)")
    return FORMATS[ext]


def journal_path(path: str) -> str:
    """Where records go while a run is in progress (JSONL, hidden, beside the output)."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}.partial.jsonl")


class ResultWriter:
    """Records go to a journal as they come; `commit()` turns it into the output file in one rename.

    A run killed at any moment leaves the old output untouched and its progress in the journal, which
    `--resume` reads back. `kept` records (from an earlier run) start the new journal.
    """

    def __init__(self, path: str, kept: list[dict] = ()):
        self.path, self.format = path, output_format(path)
        self.journal = journal_path(path)
        os.makedirs(os.path.dirname(self.journal), exist_ok=True)
        with atomic_path(self.journal) as tmp:
            with open(tmp, "w", encoding="utf-8") as f:
                for record in kept:
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.file = open(self.journal, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        """Called after each batch: what is flushed survives a kill of this process."""
        self.file.flush()

    def commit(self) -> None:
        self.file.close()
        with atomic_path(self.path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as out:
                _convert(read_journal(self.journal), self.format, out)
        os.unlink(self.journal)

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()


def _convert(records, fmt: str, out) -> None:
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(["input", "caption", "error"])
        for record in records:
            writer.writerow([record["input"], record.get("caption", ""), record.get("error", "")])
    else:  # COCO results: a JSON list, written one entry at a time
        # Only captioned images: pycocoevalcap reads every entry's caption. Failures were named on stderr and
        # stay in the JSONL/CSV formats.
        out.write("[")
        first = True
        for record in records:
            if "caption" not in record:
                continue
            entry = {"image_id": coco_image_id(record["input"]), "caption": record["caption"],
                     "file_name": record["input"]}
            out.write(("" if first else ",") + "\n" + json.dumps(entry, ensure_ascii=False))
            first = False
        out.write("\n]\n")


def read_journal(path: str):
    """Records of a journal; a last line cut short by a kill is ignored."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                yield with_input_name(json.loads(line))
            except (ValueError, AttributeError):
                continue


def earlier_captions(path: str) -> dict[str, dict]:
    """Images already captioned by earlier runs, from the output file and an interrupted run's journal."""
    done: dict[str, dict] = {}
    if os.path.exists(path):
        done.update((r["input"], r) for r in read_results(path) if "caption" in r)
    if os.path.exists(journal_path(path)):
        done.update((r["input"], r) for r in read_journal(journal_path(path)) if "caption" in r and "input" in r)
    return done


def _named(record: dict) -> dict:
    if "input" not in record:
        raise KeyError("a record without its input's name")
    return record


def read_results(path: str) -> list[dict]:
    """Records of an earlier complete output file (for --resume), as {"input", "caption"|"error"} (files written
    before the one schema, with "image", read the same)."""
    fmt = output_format(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if fmt == "jsonl":
                return [_named(with_input_name(json.loads(line))) for line in f if line.strip()]
            if fmt == "csv":
                rows = [with_input_name(r) for r in csv.DictReader(f)]
                return [{"input": r["input"], **({"error": r["error"]} if r.get("error") else
                                                  {"caption": r["caption"]})} for r in rows]
            return [{"input": e["file_name"], "caption": e["caption"]} for e in json.load(f)]  # captioned only
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: cannot read the earlier results to resume ({exc})") from None
