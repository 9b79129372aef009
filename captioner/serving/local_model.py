"""The model in this process, behind the batcher: what `captioner serve` runs (the Ray engine puts a
`captioner.serving.ray_model.RayModel` in its place)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from captioner.serving.batcher import Batcher
from captioner.serving.model_calls import CaptionCalls, LabelCalls
from captioner.serving.model_facts import facts_of_model
from captioner.serving.settings import ServeSettings

LOG = logging.getLogger("captioner.serve")


class LocalModel:
    """`answers(key, pixels)` through one bounded queue and worker thread shared by every request."""

    def __init__(self, model, settings: ServeSettings, metrics=None):
        self.facts = facts_of_model(model)
        self.settings, self.metrics = settings, metrics
        # a ClassifierModel labels (told apart without importing it: that would import Keras before the model loads)
        self.calls = (LabelCalls if hasattr(model, "labeller") else CaptionCalls)(model, metrics)
        self.batcher = Batcher(self.calls, settings.max_batch, settings.max_wait_ms / 1000, settings.max_queue)
        self.max_queue = settings.max_queue  # the app refuses early what the batcher could not take
        self.ready = threading.Event()
        self.stopping = threading.Event()  # the warm-up of the larger batches ends at its next shape
        self.not_ready = "loading the model"
        self.started = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self._warm_up, name="captioner-warm-up", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.batcher.close()

    @property
    def waiting(self) -> int:
        return self.batcher.waiting

    def health(self) -> dict:
        stats = self.batcher.stats
        return {"batches": stats.batches, "items": stats.items, "largest_batch": stats.largest,
                "waiting": self.batcher.waiting}

    def expect(self, count: int) -> None:
        self.batcher.expect(count)

    def forget(self, count: int) -> None:
        self.batcher.forget(count)

    def submit(self, key, pixels: list, announced: int) -> list:
        """The items' futures (QueueFull when they do not fit)."""
        return self.batcher.submit(key, pixels, announced)

    async def answers(self, futures: list) -> list:
        try:
            return await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        except asyncio.CancelledError:  # the request timed out: its items still waiting are not run
            for future in futures:
                future.cancel()
            raise

    def _warm_up(self) -> None:
        """Build the encoder and compile the default search for one item, then start the batcher (requests that
        come sooner wait in its queue, and /readyz says ready once it runs); then compile the other batch shapes
        while requests are answered (a request that meets a shape first waits for its compile)."""
        key, largest = self.facts.default_key(self.settings.max_beam), self.settings.max_batch
        if self.facts.exported:  # an exported model compiles nothing: warming the larger batches would only
            largest = 1          # hold the model while the first requests wait
        try:
            self.calls.warm_up(key, 1)
        except Exception as exc:  # noqa: BLE001 - the reason is what /readyz reports
            self.not_ready = f"warm-up failed: {exc}"
            LOG.error("warm-up failed: %s", exc)
            self.batcher.start()  # even so: each request then gets its answer (the failure), not a timeout
            return
        self.ready.set()
        self.batcher.start()
        if self.metrics is not None:
            self.metrics.compile_seconds.set(time.monotonic() - self.started)
        LOG.info("ready in %.1f s: encoder built, the default search compiled for one item%s",
                 time.monotonic() - self.started, f"; batches of 2 to {largest} compile now" if largest > 1 else "")
        if largest > 1:
            try:
                warm = self.calls.warm_up(key, largest, smallest=2, stopped=self.stopping.is_set)
            except Exception as exc:  # noqa: BLE001 - requests still compile what they meet
                LOG.error("warm-up of the larger batches failed: %s", exc)
            else:
                if warm:
                    LOG.info("warm in %.1f s: the default search compiled for batches of 1 to %d",
                             time.monotonic() - self.started, largest)
