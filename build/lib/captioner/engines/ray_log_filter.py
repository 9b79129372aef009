"""Keeping Ray's C++ log lines off the command's stderr while Ray runs.

Ray's core library in this process logs straight to file descriptor 2 (for instance an "error" for every actor
whose constructor arguments sit in the object store, which Ray Data's always do), and no setting turns that off
without printing a line of its own. Worker failures reach us as exceptions, and Ray keeps its logs in its
session folder, so while Ray runs fd 2 goes through a pipe that drops those lines and passes everything else
(our progress bar, skipped files) on as it comes.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager

# "[2026-11-27 06:43:58,463 E 5623 5623] core_worker.cc:2465: ..." up to its newline (fatal "F" lines still
# pass). Searched anywhere in a line: one may follow a progress bar's "\r" update that has no newline.
CORE_LOG = re.compile(rb"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [DIWE] \d+ \d+\] .*")
START = b"[2"  # what a line of theirs starts with: an unfinished tail from here on waits for the rest


@contextmanager
def without_core_logs():
    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(target=_forward, args=(read_end, saved), daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the forwarder reads to the end and stops
        forwarder.join(timeout=5)
        os.close(saved)


def _forward(read_end: int, out: int) -> None:
    pending = b""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                kept = CORE_LOG.sub(b"", line)
                if kept or kept == line:
                    os.write(out, kept + (b"\n" if kept == line else b""))
            # Pass an unfinished line on at once (a progress bar's update), up to where one of theirs may start.
            cut = pending.rfind(b"[")
            cut = cut if cut >= 0 and START.startswith(pending[cut:cut + 2]) else len(pending)
            if cut:
                os.write(out, pending[:cut])
                pending = pending[cut:]
        if pending:
            os.write(out, CORE_LOG.sub(b"", pending))
