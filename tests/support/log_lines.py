"""The library's log lines, recorded where pytest's caplog cannot reach (a module-scoped fixture)."""

from __future__ import annotations

import contextlib
import logging


class _Lines(logging.Handler):
    def __init__(self, lines: list[str]):
        super().__init__(logging.INFO)
        self.lines = lines

    def emit(self, record):
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def log_lines(name: str = "captioner"):
    """A list that receives every INFO-or-above message of the logger `name` while the block runs."""
    logger, lines = logging.getLogger(name), []
    handler, level = _Lines(lines), logging.getLogger(name).level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
