"""The server's batcher on its own: what is run together, what waits and for whom, and what is never run."""

from __future__ import annotations

import threading

import pytest

from captioner.serving.batcher import Batcher, QueueFull

pytestmark = pytest.mark.backend_independent
LONG = 60.0  # a max_wait no test may sit out: a batch that waited for it would fail the test's timeouts


class Recorder:
    """A model call that records each batch and answers each payload with (key, payload)."""

    def __init__(self, fail_on=None):
        self.batches, self.fail_on = [], fail_on
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, key, payloads):
        self.gate.wait()
        self.batches.append((key, list(payloads)))
        if self.fail_on in payloads:
            raise RuntimeError("model failed")
        return [(key, p) for p in payloads]


def started(run, **kw) -> Batcher:
    batcher = Batcher(run, kw.get("max_batch", 8), kw.get("max_wait_s", LONG), kw.get("max_queue", 16))
    batcher.start()
    return batcher


def held_at_the_gate(run, key, payloads, **kw):
    """A started batcher whose worker has taken the first request's items and waits at the run's gate, so that
    what is submitted next queues behind it: (batcher, the first request's futures)."""
    run.gate.clear()
    batcher = started(run, **kw)
    futures = batcher.submit(key, payloads)
    while batcher.waiting:
        pass
    return batcher, futures


def test_a_lone_request_is_run_at_once_without_waiting_for_company():
    run = Recorder()
    batcher = started(run)
    assert batcher.submit("k", ["a"])[0].result(timeout=10) == ("k", "a")
    batcher.close()


def test_a_batch_waits_for_items_announced_and_runs_them_together():
    run = Recorder()
    batcher = started(run)
    batcher.expect(1)
    batcher.expect(2)  # two requests being decoded
    first = batcher.submit("k", ["a"], announced=1)
    second = batcher.submit("k", ["b", "c"], announced=2)
    assert [f.result(timeout=10) for f in first + second] == [("k", "a"), ("k", "b"), ("k", "c")]
    assert run.batches == [("k", ["a", "b", "c"])]
    batcher.close()


def test_a_request_that_brings_nothing_after_all_stops_the_wait():
    run = Recorder()
    batcher = started(run)
    batcher.expect(1)
    batcher.expect(1)
    future, = batcher.submit("k", ["a"], announced=1)
    batcher.forget(1)  # the other request's files could not be read
    assert future.result(timeout=10) == ("k", "a")
    batcher.close()


def test_full_batches_are_cut_at_max_batch_and_split_by_search_setting():
    run = Recorder()
    batcher, futures = held_at_the_gate(run, "warm", ["w"], max_batch=3, max_wait_s=0)
    futures += batcher.submit("beam3", ["a", "b"]) + batcher.submit("greedy", ["c"]) + batcher.submit("beam3", ["d"])
    run.gate.set()
    results = [f.result(timeout=10) for f in futures]
    assert results == [("warm", "w"), ("beam3", "a"), ("beam3", "b"), ("greedy", "c"), ("beam3", "d")]
    # a, b, c taken as one batch of 3 (one model call per search setting in it), then d
    assert run.batches == [("warm", ["w"]), ("beam3", ["a", "b"]), ("greedy", ["c"]), ("beam3", ["d"])]
    assert batcher.stats.batches == 3 and batcher.stats.largest == 3
    batcher.close()


def test_the_queue_takes_a_request_whole_or_not_at_all():
    run = Recorder()
    batcher, running = held_at_the_gate(run, "k", ["a"], max_batch=1, max_wait_s=0, max_queue=3)
    batcher.submit("k", ["b", "c"])
    with pytest.raises(QueueFull, match="2 items are waiting \\(the queue holds 3\\)"):
        batcher.submit("k", ["d", "e"])
    assert batcher.waiting == 2
    run.gate.set()
    assert running[0].result(timeout=10) == ("k", "a")
    batcher.close()
    assert [p for _, ps in run.batches for p in ps] == ["a", "b", "c"]


def test_cancelled_items_are_not_run_and_a_failure_answers_its_batch_only():
    run = Recorder(fail_on="bad")
    batcher, held = held_at_the_gate(run, "k", ["a"], max_batch=1, max_wait_s=0)
    gone, = batcher.submit("k", ["timed out"])
    assert gone.cancel()
    bad, = batcher.submit("k", ["bad"])
    good, = batcher.submit("k", ["b"])
    run.gate.set()
    with pytest.raises(RuntimeError, match="model failed"):
        bad.result(timeout=10)
    assert good.result(timeout=10) == ("k", "b") and held[0].result(timeout=10) == ("k", "a")
    assert "timed out" not in [p for _, ps in run.batches for p in ps]
    batcher.close()


def test_close_finishes_what_was_queued_and_refuses_more():
    run = Recorder()
    run.gate.clear()
    batcher = started(run, max_batch=1, max_wait_s=0)
    futures = batcher.submit("k", ["a", "b", "c"])
    closer = threading.Thread(target=batcher.close)
    closer.start()
    run.gate.set()
    closer.join(timeout=10)
    assert [f.result(timeout=0) for f in futures] == [("k", "a"), ("k", "b"), ("k", "c")]
    with pytest.raises(QueueFull, match="shutting down"):
        batcher.submit("k", ["d"])


def test_encoder_batches_are_cut_into_powers_of_two_so_none_is_padded():
    from captioner.serving.model_calls import power_of_two_slices

    assert power_of_two_slices(25, 32) == [(0, 16), (16, 24), (24, 25)]
    assert power_of_two_slices(70, 32) == [(0, 32), (32, 64), (64, 68), (68, 70)]
    assert power_of_two_slices(32, 32) == [(0, 32)] and power_of_two_slices(0, 32) == []
    for rows in range(1, 200):
        slices = power_of_two_slices(rows, 32)
        assert slices[0][0] == 0 and slices[-1][1] == rows
        assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))
        assert all((stop - start) & (stop - start - 1) == 0 and stop - start <= 32 for start, stop in slices)


def test_announcements_add_up_so_a_batch_waits_for_every_item_announced():
    """Found by the mutation run: a count that replaced or subtracted instead of adding passed the tests above,
    which submitted faster than the worker woke. Here the worker has time to run what it has, and must not."""
    import time

    run = Recorder()
    batcher = started(run)
    batcher.expect(2)
    batcher.expect(1)  # three items announced by two requests
    first = batcher.submit("k", ["a", "b"], announced=2)
    time.sleep(0.3)  # one item is still announced: the batch must wait for it
    second = batcher.submit("k", ["c"], announced=1)
    assert [f.result(timeout=10) for f in first + second] == [("k", "a"), ("k", "b"), ("k", "c")]
    assert run.batches == [("k", ["a", "b", "c"])]
    batcher.close()


# What the mutation run found: the waiting rules and the worker's bookkeeping were checked only where tests
# happened to submit faster than the worker woke.

def test_a_batch_waits_for_announced_items_at_most_max_wait_after_its_oldest_item():
    import time

    run = Recorder()
    batcher = started(run, max_wait_s=0.3)
    batcher.expect(2)  # the second item never comes, and is never forgotten
    start = time.monotonic()
    future, = batcher.submit("k", ["a"], announced=1)
    assert future.result(timeout=10) == ("k", "a")
    assert 0.25 <= time.monotonic() - start < 5  # it waited for company, then went alone
    batcher.close()


def test_a_full_batch_runs_at_once_even_while_more_items_are_announced():
    run = Recorder()
    batcher = started(run, max_batch=2)
    batcher.expect(5)
    futures = batcher.submit("k", ["a", "b"], announced=2)
    assert [f.result(timeout=5) for f in futures] == [("k", "a"), ("k", "b")]  # not after LONG
    batcher.forget(3)
    batcher.close()


def test_a_request_that_announced_nothing_leaves_the_others_announcements_counted():
    import time

    run = Recorder()
    batcher = started(run)
    assert batcher.submit("k", ["alone"])[0].result(timeout=10) == ("k", "alone")
    batcher.expect(2)
    first = batcher.submit("k", ["b"], announced=1)
    time.sleep(0.3)
    second = batcher.submit("k", ["c"], announced=1)
    assert [f.result(timeout=10) for f in first + second] == [("k", "b"), ("k", "c")]
    assert run.batches == [("k", ["alone"]), ("k", ["b", "c"])]
    assert (batcher.stats.batches, batcher.stats.items, batcher.stats.largest) == (2, 3, 2)
    batcher.close()


def test_the_queue_holds_exactly_max_queue_items():
    run = Recorder()
    batcher, held = held_at_the_gate(run, "k", ["a"], max_batch=1, max_wait_s=0, max_queue=3)
    queued = batcher.submit("k", ["b", "c", "d"])  # exactly full
    with pytest.raises(QueueFull, match="^3 items are waiting \\(the queue holds 3\\)$"):
        batcher.submit("k", ["e"])
    run.gate.set()
    assert [f.result(timeout=10) for f in held + queued] == [("k", p) for p in "abcd"]
    batcher.close()
    with pytest.raises(QueueFull, match="^the server is shutting down$"):
        batcher.submit("k", ["f"])


def test_a_failing_search_setting_does_not_keep_the_others_of_its_batch_from_their_answers():
    run = Recorder(fail_on="bad")
    batcher, warm = held_at_the_gate(run, "warm", ["w"], max_batch=4, max_wait_s=0)
    bad = batcher.submit("beam3", ["bad"])
    good = batcher.submit("greedy", ["g"])  # the same batch as "bad", another model call
    run.gate.set()
    with pytest.raises(RuntimeError, match="model failed"):
        bad[0].result(timeout=10)
    assert good[0].result(timeout=10) == ("greedy", "g") and warm[0].result(timeout=10) == ("warm", "w")
    batcher.close()


def test_a_model_that_answers_the_wrong_number_of_items_fails_them_and_the_worker_goes_on():
    answers = iter([["only one"], ["fine"]])
    batcher = started(lambda key, payloads: next(answers), max_batch=2, max_wait_s=0)
    short = batcher.submit("k", ["a", "b"])
    with pytest.raises(RuntimeError, match="^the model gave 1 results for 2 items$"):
        short[1].result(timeout=10)
    with pytest.raises(RuntimeError):
        short[0].result(timeout=10)
    assert batcher.submit("k", ["c"])[0].result(timeout=10) == "fine"  # the worker is still there
    batcher.close()


def test_the_worker_is_a_named_daemon_thread():
    batcher = started(Recorder())
    assert batcher._thread.name == "captioner-batcher"  # what a stack dump of the server shows
    assert batcher._thread.daemon  # never keeps a process alive on its own
    batcher.close()
