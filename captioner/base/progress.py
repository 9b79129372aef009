"""A small progress bar on stderr: count, rate and ETA. Quiet lines (every 10 s) when stderr is not a terminal.

Items skipped (unreadable, missing) move the bar but not the rate: `extract [==> ] 40/250 31.2 img/s ... (210
skipped)` says how fast images are encoded, not how fast missing ones are passed over."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, total: int, unit: str = "img", label: str = "", stream=None, enabled: bool = True):
        self.total, self.unit, self.label = total, unit, label
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self.skipped = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self.note = ""

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.start
        return (self.done - self.skipped) / elapsed if elapsed > 0 else 0.0

    def update(self, n: int = 1, note: str | None = None, skipped: int = 0) -> None:
        """`n` items done and `skipped` passed over (they count towards the total, not the rate); `note`: a
        figure to show after the rate (e.g. the running mean reward), kept until replaced."""
        self.done += n + skipped
        self.skipped += skipped
        if note is not None:
            self.note = note
        now = time.perf_counter()
        if not self.enabled or (now - self._last < (0.2 if self.tty else 10.0) and self.done < self.total):
            return
        self._last = now
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate > 0 else 0
        notes = [self.note] if self.note else []
        if self.skipped:
            notes.append(f"({self.skipped} skipped)")
        width = 24
        filled = int(width * self.done / self.total)
        bar = "=" * filled + (">" if filled < width else "") + " " * (width - filled - 1)
        line = (f"{self.label}[{bar}] {self.done}/{self.total} {rate:.1f} {self.unit}/s "
                f"ETA {_clock(eta)}" + "".join(f" {note}" for note in notes))
        self.stream.write(("\r" + line) if self.tty else (line + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
