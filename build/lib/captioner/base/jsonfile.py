"""Reading the project's own versioned JSON files (cache metadata, model config) with one-line errors."""

from __future__ import annotations

import json


def read_versioned(path: str, fmt: str, version: int, error: type, what: str, older: tuple[int, ...] = ()) -> dict:
    """The JSON object in `path`, checked to be `fmt` at `version` (or one of the `older` versions still read);
    otherwise `error` naming the file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise error(f"{path}: unreadable {what} ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise error(f"{path}: not a captioner {what}")
    if data.get("version") != version and data.get("version") not in older:
        raise error(f"{path}: {what} version {data.get('version')!r}, this captioner reads {version}")
    return data
