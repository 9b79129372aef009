"""The one path from uploaded files to the model's answers, shared by /v1 and the inference protocol (/v2): the
request's time limit, the queue's room, decoding within the request's budget (clips and images in thread pools of
their own), the batcher, and a stop for the work of a request that timed out or whose client left."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from captioner.inputs.decode_budget import DecodeBudget, DecodeStopped, DecodeTurns, WorkLimitError
from captioner.inputs.images import ImageError
from captioner.serving.batcher import QueueFull
from captioner.serving.decoding import is_clip_upload, upload_pixels
from captioner.serving.metrics import ServerMetrics
from captioner.serving.settings import ServeSettings

LOG = logging.getLogger("captioner.serve")
CLIP_WAITERS = 8  # clips in progress per decoding slot


class Refused(Exception):
    """A request answered with `status` and {"error": reason}."""

    def __init__(self, status: int, reason: str, headers: dict | None = None):
        super().__init__(reason)
        self.status, self.headers = status, headers or {}


@dataclass
class Outcome:
    """One upload's fate: the model's answer, or the one-line reason it has none."""
    answer: object = None
    reason: str | None = None


class ServerState:
    """The model side (in this process, or replicas elsewhere), the upload decoders, the settings, the metrics."""

    def __init__(self, side, settings: ServeSettings, metrics: ServerMetrics):
        self.side, self.facts, self.settings, self.metrics = side, side.facts, settings, metrics
        self.image_decoders = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="captioner-decode")
        # Clips: --clip-decode-threads decode at once, taking turns; more threads wait for a turn, so a short clip
        # that arrives while long ones decode starts within a slice of them instead of after them.
        self.clip_turns = DecodeTurns(settings.clip_decode_threads)
        self.clip_decoders = ThreadPoolExecutor(CLIP_WAITERS * settings.clip_decode_threads,
                                                thread_name_prefix="captioner-clips")
        metrics.watch_queue(lambda: side.waiting if side.max_queue is not None else 0)

    def start(self) -> None:
        self.side.start()

    def stop(self) -> None:
        self.side.stop()
        self.image_decoders.shutdown(cancel_futures=True)
        self.clip_decoders.shutdown(cancel_futures=True)


async def within_time(state: ServerState, request, work):
    """`work`'s result, or 504 once the request has taken --timeout-s (its decoding and queued items stopped)."""
    try:
        return await asyncio.wait_for(work, state.settings.timeout_s)
    except asyncio.TimeoutError:
        state.metrics.failed("timeout", getattr(request.state, "items", 0))
        raise Refused(504, f"not answered within {state.settings.timeout_s:g} s (--timeout-s); try fewer files "
                           "or later") from None


async def outcomes(state: ServerState, request, datas: list[bytes], key) -> list[Outcome]:
    """Each upload's outcome, in order. Refused (503 busy, 500 the model failed, 499 the client left) for what
    befalls the whole request."""
    check_room(state, len(datas))
    work = asyncio.ensure_future(_decode_and_answer(state, datas, key))
    gone = asyncio.ensure_future(_client_gone(request))
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # on a timeout too: the work's own cleanup stops its decoding and cancels its queued items
        gone.cancel()
        if not work.done():
            work.cancel()
    if work.done() and not work.cancelled():
        return work.result()
    state.metrics.failed("client_gone", len(datas))
    raise Refused(499, "the client closed the connection before its answer")


def check_room(state: ServerState, count: int) -> None:
    """Refuse early what the queue cannot take (a side without a queue of its own, Ray's, has max_queue None)."""
    limit = state.side.max_queue
    if limit is None:
        return
    if count > limit:
        raise Refused(413, f"{count} files is more than the server's queue holds ({limit})")
    if state.side.waiting + count > limit:
        state.metrics.failed("busy", count)
        raise busy(f"{state.side.waiting} items are waiting (the queue holds {limit})")


def busy(reason: str) -> Refused:
    return Refused(503, f"busy: {reason}; retry later", {"Retry-After": "1"})


async def _client_gone(request) -> None:
    """Returns when the client disconnects (the body has been read: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _decode_and_answer(state: ServerState, datas: list[bytes], key) -> list[Outcome]:
    side, metrics = state.side, state.metrics
    budget = DecodeBudget(state.settings.decode_limits, state.clip_turns)
    side.expect(len(datas))  # the model side knows they are coming: a batch waits (up to --max-wait-ms) for them
    queued = False
    futures: list = []
    try:
        loop = asyncio.get_running_loop()
        clips = [is_clip_upload(data) for data in datas]
        decoded = await asyncio.gather(*(loop.run_in_executor(
            state.clip_decoders if clip else state.image_decoders, _decode, state, data, clip, budget)
            for data, clip in zip(datas, clips)))
        good = [outcome.answer for outcome in decoded if outcome.reason is None]
        if good:
            try:
                futures = side.submit(key, good, announced=len(datas))
            except QueueFull as exc:
                metrics.failed("busy", len(datas))
                raise busy(str(exc)) from None
            queued = True
    finally:
        budget.stop()  # a request cancelled while decoding: its files stop at their next frame
        if not queued:
            side.forget(len(datas))
    answers = iter([])
    if futures:
        try:
            answers = iter(await side.answers(futures))
        except QueueFull as exc:  # Ray Serve's queue limit, met by a call
            metrics.failed("busy", len(futures))
            raise busy(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the model failed on this batch: say so, once
            metrics.failed("model_error", len(futures))
            raise Refused(500, f"the model failed: {type(exc).__name__}: {exc}") from None
        metrics.items_answered.inc(len(futures))
    return [outcome if outcome.reason is not None else Outcome(next(answers)) for outcome in decoded]


def _decode(state: ServerState, data: bytes, clip: bool, budget: DecodeBudget) -> Outcome:
    """An upload's pixels (as the answer, until the model's replaces it) or its reason, counted by kind. A clip
    decodes in its turn."""
    start = time.perf_counter()
    facts = state.facts
    try:
        with state.clip_turns.turn() if clip else contextlib.nullcontext():
            return Outcome(upload_pixels(data, facts.frames, facts.input_size, budget))
    except ImageError as exc:
        kind = "stopped" if isinstance(exc, DecodeStopped) else \
            "work_limit" if isinstance(exc, WorkLimitError) else "unreadable"
        state.metrics.failed(kind)
        return Outcome(reason=str(exc))
    finally:
        state.metrics.stage("decode", time.perf_counter() - start)
