"""The progress bar: skipped items move the bar but not the rate, and are counted on the line."""

import io

import pytest

from captioner.base import progress as progress_module
from captioner.base.progress import Progress

pytestmark = pytest.mark.backend_independent  # no Keras


def test_skipped_items_count_towards_the_total_but_not_the_rate(monkeypatch):
    clock = iter([100.0, 104.0, 104.0, 110.0, 110.0, 110.0])
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()  # not a terminal: a line per update once 10 s passed, and always the last
    bar = Progress(10, "img", "extract ", stream=stream)
    bar.update(2, skipped=2)  # 4 s in: 2 encoded, 2 skipped; the ETA is for the 6 left at 0.5 img/s
    bar.update(2, skipped=4)  # 10 s in: all 10 handled, 4 of them encoded
    lines = stream.getvalue().splitlines()
    assert lines == ["extract [=========>              ] 4/10 0.5 img/s ETA 0:00:12 (2 skipped)",
                     "extract [========================] 10/10 0.4 img/s ETA 0:00:00 (6 skipped)"]
    assert bar.rate() == pytest.approx(0.4)  # 4 encoded in 10 s, not 10 handled


def test_a_line_without_skips_says_nothing_of_them(monkeypatch):
    clock = iter([0.0, 20.0, 20.0])
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    bar = Progress(4, "clip", "caption ", stream=stream)
    bar.update(1, note="reward 0.5")
    assert stream.getvalue() == "caption [======>                 ] 1/4 0.1 clip/s ETA 0:01:00 reward 0.5\n"
