"""How much decoding one request may cost, checked frame by frame while a clip decodes (not after): frames and
media seconds per clip, decoded pixels across the request's files, and a stop for a request whose answer is no
longer wanted (it timed out, or its client left). Files read from disk by the commands decode without one."""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass

from captioner.inputs.images import ImageError


class WorkLimitError(ImageError):
    """A file that would cost more decoding than the limits allow; str() says which limit."""


class DecodeStopped(ImageError):
    """Decoding stopped because the request's answer is no longer wanted."""


@dataclass(frozen=True)
class DecodeLimits:
    max_frames: int | None = None  # decoded frames per clip
    max_seconds: float | None = None  # media time per clip
    max_pixels: int | None = None  # decoded pixels per request, every frame and image counted


class DecodeTurns:
    """At most `slots` clips decode at once, taking turns: a clip gives up its turn after each frame when another
    waits (first come, first served), so a long clip cannot hold the decoders while short ones wait behind it —
    they interleave, as threads on a CPU do, with the CPU bounded."""

    def __init__(self, slots: int):
        self.slots = slots
        self._changed = threading.Condition()
        self._waiting: deque = deque()
        self._running = 0

    @contextmanager
    def turn(self):
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def pass_on(self) -> None:
        """Let the first waiting clip decode its slice (nothing happens when none waits)."""
        with self._changed:
            if not self._waiting:
                return
        self._release()
        self._acquire()

    def _acquire(self) -> None:
        me = object()
        with self._changed:
            self._waiting.append(me)
            while self._waiting[0] is not me or self._running >= self.slots:
                self._changed.wait()
            self._waiting.popleft()
            self._running += 1
            self._changed.notify_all()

    def _release(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()


class DecodeBudget:
    """One request's share of decoding: `DecodeLimits` and a stop, shared by the threads decoding its files, and
    the server's `DecodeTurns` when clips take turns."""

    def __init__(self, limits: DecodeLimits = DecodeLimits(), turns: DecodeTurns | None = None):
        self.limits, self.turns = limits, turns
        self._spent = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def stop(self) -> None:
        """The files still decoding stop at their next frame (DecodeStopped)."""
        self._stopped.set()

    def check_clip(self, frames: int | None, seconds: float | None) -> None:
        """A clip's own account of its length, before decoding: refused at once when it says it is too long
        (a container that lies or says nothing is still held to the limits frame by frame)."""
        if frames and self.limits.max_frames is not None and frames > self.limits.max_frames:
            raise WorkLimitError(self._frames_reason(f"{frames:,}"))
        if seconds and self.limits.max_seconds is not None and seconds > self.limits.max_seconds:
            raise WorkLimitError(self._seconds_reason(f"{seconds:,.1f}"))

    def frame(self, decoded: int, seconds: float | None, width: int, height: int) -> None:
        """Before the `decoded`-th frame (counting from 1), `seconds` into the clip, is used."""
        if self._stopped.is_set():
            raise DecodeStopped("decoding stopped: the request's answer is no longer wanted")
        if self.limits.max_frames is not None and decoded > self.limits.max_frames:
            raise WorkLimitError(self._frames_reason(f"over {self.limits.max_frames:,}"))
        if seconds is not None and self.limits.max_seconds is not None and seconds > self.limits.max_seconds:
            raise WorkLimitError(self._seconds_reason(f"over {self.limits.max_seconds:g}"))
        self.pixels(width, height)
        if self.turns is not None:
            self.turns.pass_on()

    def pixels(self, width: int, height: int) -> None:
        """Charge one decoded picture of width x height to the request."""
        if self.limits.max_pixels is None:
            return
        with self._lock:
            self._spent += width * height
            spent = self._spent
        if spent > self.limits.max_pixels:
            raise WorkLimitError(f"the request's files are over {self.limits.max_pixels / 1e6:,g} decoded "
                                 "megapixels (the server's limit per request)")

    def _frames_reason(self, frames: str) -> str:
        return f"clip too long ({frames} frames; the server decodes at most {self.limits.max_frames:,} per clip)"

    def _seconds_reason(self, seconds: str) -> str:
        return f"clip too long ({seconds} s; the server decodes at most {self.limits.max_seconds:g} s per clip)"

