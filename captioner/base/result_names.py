"""The one schema of a result (see `captioner.api.results`), as read from files written before it: the input's
name was "image" (caption-folder, the CLI, evaluate), "clip" (classify, evaluate) or "file" (the server), and
evaluate's absolute path was "file"."""

from __future__ import annotations

OLD_INPUT_NAMES = ("image", "clip", "file")


def with_input_name(record: dict) -> dict:
    """`record` with its input under "input", read from an older name where it has none (and its absolute
    path, evaluate's old "file" beside "image" or "clip", under "path")."""
    if "input" in record:
        return record
    old = next((name for name in OLD_INPUT_NAMES if name in record), None)
    if old is None:
        return record
    rest = {k: v for k, v in record.items() if k != old}
    if "file" in rest and "path" not in rest:
        rest["path"] = rest.pop("file")
    return {"input": record[old], **rest}
