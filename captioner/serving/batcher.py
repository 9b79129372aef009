"""Batching across requests: items (an image's or a clip's pixels) from any number of requests wait in one
bounded queue; one worker thread takes up to `max_batch` of them at a time and runs the model once per group of
items asking for the same search. Each item has its own future, so results cannot cross between requests.

A batch waits for more items only while more are known to be on their way (`expect`: requests read and being
decoded), and at most `max_wait_s` after its oldest item arrived: a lone request is never held back waiting
for company that is not coming."""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Hashable


class QueueFull(Exception):
    """The queue cannot take a request's items now; str() says how full it is."""


@dataclass
class _Item:
    key: Hashable  # what the model is asked to do with it (e.g. the search settings)
    payload: object
    future: Future = field(default_factory=Future)
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    largest: int = 0


class Batcher:
    """`run(key, payloads) -> results` (one per payload, in order) is called on the worker thread only."""

    def __init__(self, run: Callable[[Hashable, list], list], max_batch: int, max_wait_s: float, max_queue: int):
        self._run, self.max_batch, self.max_wait_s, self.max_queue = run, max_batch, max_wait_s, max_queue
        self._pending: deque[_Item] = deque()
        self._changed = threading.Condition()
        self._closing = False
        self._expected = 0  # items announced by requests being decoded, not yet submitted
        self._thread = threading.Thread(target=self._work, name="captioner-batcher", daemon=True)
        self.stats = BatchStats()

    def start(self) -> None:
        self._thread.start()

    def expect(self, count: int) -> None:
        """`count` items are coming (then `submit(..., announced=count)` or `forget(count)`)."""
        with self._changed:
            self._expected += count

    def forget(self, count: int) -> None:
        """Items announced by `expect` that will not come after all."""
        with self._changed:
            self._expected -= count
            self._changed.notify()

    def submit(self, key: Hashable, payloads: list, announced: int = 0) -> list[Future]:
        """Queue all of `payloads` or none (QueueFull); their futures, in order. `announced`: what this request
        said it would bring to `expect` (its bad files are announced but not submitted)."""
        items = [_Item(key, p) for p in payloads]
        with self._changed:
            if self._closing:
                raise QueueFull("the server is shutting down")
            if len(self._pending) + len(items) > self.max_queue:
                raise QueueFull(f"{len(self._pending)} items are waiting (the queue holds {self.max_queue})")
            self._pending.extend(items)
            self._expected -= announced
            self._changed.notify()
        return [item.future for item in items]

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        """Finish every item queued so far, then stop the worker; later submits are refused."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            # A future cancelled while it waited (its request timed out) is dropped here, not run.
            batch = [item for item in batch if item.future.set_running_or_notify_cancel()]
            if batch:
                self.stats.batches += 1
                self.stats.items += len(batch)
                self.stats.largest = max(self.stats.largest, len(batch))
            for key, where in positions_by_key([item.key for item in batch]).items():
                group = [batch[i] for i in where]
                try:
                    results = list(self._run(key, [item.payload for item in group]))
                    if len(results) != len(group):  # a zip would leave items unanswered, or kill the worker
                        raise RuntimeError(f"the model gave {len(results)} results for {len(group)} items")
                except BaseException as exc:  # the requests answer with the failure; the worker goes on
                    for item in group:
                        item.future.set_exception(exc)
                    continue
                for item, result in zip(group, results):
                    item.future.set_result(result)

    def _next_batch(self) -> list[_Item] | None:
        with self._changed:
            while not self._pending:
                if self._closing:
                    return None
                self._changed.wait()
            deadline = self._pending[0].arrived + self.max_wait_s
            while len(self._pending) < self.max_batch and self._expected > 0 and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return [self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))]


def positions_by_key(keys: list) -> dict:
    """key -> the positions where it stands, keys in order of first appearance: one model call per search
    setting in a batch, answers put back in place (the batcher's worker and the Ray replicas both)."""
    groups: dict = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return groups
