"""How the commands show the library's log: the `captioner` logger's lines on stderr, each as its message alone
(as the commands printed them before the library logged); `-v` adds the debug lines (what was loaded, how long
it took), each with its logger's name. (`--quiet` is the library's `show_progress=False`: no progress bar, no
per-epoch lines.)"""

from __future__ import annotations

import logging
import sys


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (a redirected stream, a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _LineFormat(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        return f"debug {record.name}: {message}" if record.levelno < logging.INFO else message


def show_log(verbose: int = 0) -> None:
    """Show the `captioner` logger's lines on stderr from here on, from INFO up (DEBUG up with `verbose`),
    replacing an earlier call's handler: one line per record however often a process runs a command."""
    logger = logging.getLogger("captioner")
    for handler in [h for h in logger.handlers if isinstance(h, _CurrentStderr)]:
        logger.removeHandler(handler)
    handler = _CurrentStderr()
    handler.setFormatter(_LineFormat())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False  # shown here once, not again by a handler the embedding program set on the root


def stop_showing_log() -> None:
    """Undo `show_log` (the library's logger as a library leaves it: no handler, level and propagation unset)."""
    logger = logging.getLogger("captioner")
    for handler in [h for h in logger.handlers if isinstance(h, _CurrentStderr)]:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
