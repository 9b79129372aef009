"""Write the HTML report of an evaluation or a caption-folder run: previews from the files, then the page, atomically."""

from __future__ import annotations

import os

from captioner.base.atomic import write_text
from captioner.base.errors import UsageError
from captioner.base.result_names import with_input_name
from captioner.report.html_report import render_report
from captioner.report.thumbnails import previews


def check_html_path(path: str) -> None:
    """Before any work: a report path that cannot be written would waste the run."""
    if not path.lower().endswith((".html", ".htm")):
        raise UsageError(f"{path}: a report is an .html file")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)  # a report's folder is made, as an output file's is
    except OSError as exc:
        raise UsageError(f"{path}: cannot make its folder {folder} ({exc.strerror})") from None


def write_report(path: str, data: dict) -> None:
    """`data`: evaluation JSON, or caption-folder's {"folder", "model", "frames", "captions"}; items name their
    "input" and its "path" (older files' "image" and "file" read the same)."""
    frames = data.get("frames", 0)
    data = {**data, "captions": [with_input_name(it) for it in data.get("captions", [])]}
    shown = {it["input"]: previews(it["path"], frames) for it in data["captions"] if it.get("path")}
    write_text(path, render_report(data, shown))
