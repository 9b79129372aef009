"""Reading a text caption file line by line, naming the line of any bad byte."""

from __future__ import annotations

from typing import Iterator

from captioner.datasets.base import DatasetError


def read_lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text without newline); undecodable UTF-8 is an error naming the line."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not valid UTF-8 (byte {line[exc.start]:#04x} at column {exc.start + 1})") from None
