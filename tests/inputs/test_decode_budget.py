"""Decoding held to a budget while it runs, not after: a clip's frames and seconds, a request's decoded pixels,
a stop for a request nobody waits for, and clips taking turns at the decoders."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from captioner.inputs.decode_budget import DecodeBudget, DecodeLimits, DecodeStopped, DecodeTurns, WorkLimitError
from captioner.inputs.frames import load_clip
from tests.support.oddclips import frames_of, still_clip, write_gif


class Counting(DecodeBudget):
    """A budget that records the frames it was asked about, and can stop itself after `stop_after` of them."""

    def __init__(self, limits=DecodeLimits(), stop_after: int | None = None):
        super().__init__(limits)
        self.seen, self.stop_after = 0, stop_after

    def frame(self, decoded, seconds, width, height):
        self.seen = decoded
        if self.stop_after is not None and decoded > self.stop_after:
            self.stop()
        super().frame(decoded, seconds, width, height)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """A minute of a still picture at 30 fps (1,800 frames), with no length in the file."""
    path = tmp_path_factory.mktemp("clips") / "still.mkv"
    path.write_bytes(still_clip(1800, fps=30, width=64, height=48))
    return str(path)


def test_a_clip_longer_than_the_frame_limit_stops_at_the_first_frame_over_it(streamed):
    budget = Counting(DecodeLimits(max_frames=100))
    with pytest.raises(WorkLimitError, match=r"^clip too long \(over 100 frames; the server decodes at most 100 "):
        load_clip(streamed, 4, 32, budget)
    assert budget.seen == 101  # decoding stopped there, not at the end of the clip
    assert load_clip(streamed, 4, 32, DecodeBudget(DecodeLimits(max_frames=1800))).shape == (4, 32, 32, 3)


def test_a_clip_longer_than_the_seconds_limit_stops_at_the_first_frame_past_it(streamed):
    budget = Counting(DecodeLimits(max_seconds=10))
    with pytest.raises(WorkLimitError, match=r"over 10 s; the server decodes at most 10 s per clip"):
        load_clip(streamed, 4, 32, budget)
    assert budget.seen == 302  # frame 301 is at 10.0 s (within), frame 302 past it
    assert load_clip(streamed, 4, 32, DecodeBudget(DecodeLimits(max_seconds=60))).shape == (4, 32, 32, 3)


def test_a_clip_that_states_its_length_is_refused_before_a_frame_is_decoded(tmp_path):
    path = tmp_path / "declared.mkv"
    path.write_bytes(still_clip(300, fps=30, width=64, height=48, declared=True))
    budget = Counting(DecodeLimits(max_seconds=5))
    with pytest.raises(WorkLimitError, match=r"^clip too long \(10\.0 s; the server decodes at most 5 s per clip"):
        load_clip(str(path), 4, 32, budget)
    assert budget.seen == 0


def test_an_animation_is_held_to_the_limits_by_its_frames_and_their_durations(tmp_path):
    gif = write_gif(str(tmp_path / "long.gif"), frames_of(30, side=16))  # 30 frames of 100 ms
    budget = Counting(DecodeLimits(max_frames=10))
    with pytest.raises(WorkLimitError, match="over 10 frames"):
        load_clip(gif, 4, 16, budget)
    assert budget.seen == 11
    with pytest.raises(WorkLimitError, match="over 2 s"):
        load_clip(gif, 4, 16, DecodeBudget(DecodeLimits(max_seconds=2)))  # frame 22 starts at 2.1 s
    assert load_clip(gif, 4, 16, DecodeBudget(DecodeLimits(max_frames=30, max_seconds=3))).shape == (4, 16, 16, 3)


def test_the_pixel_limit_counts_every_file_of_a_request(streamed):
    limits = DecodeLimits(max_pixels=64 * 48 * 2500)  # 2,500 of the clip's frames: one clip, not two
    shared = DecodeBudget(limits)
    assert len(load_clip(streamed, 4, 32, shared)) == 4  # 1,800 frames spent
    with pytest.raises(WorkLimitError, match=r"^the request's files are over 7\.68 decoded megapixels"):
        load_clip(streamed, 4, 32, shared)  # the request's second file goes over
    assert len(load_clip(streamed, 4, 32, DecodeBudget(limits))) == 4  # another request has its own


def test_a_stopped_budget_ends_decoding_at_the_next_frame(streamed):
    budget = Counting(stop_after=5)
    with pytest.raises(DecodeStopped, match="the request's answer is no longer wanted"):
        load_clip(streamed, 4, 32, budget)
    assert budget.seen == 6


def test_clips_take_turns_so_a_short_one_does_not_wait_for_a_long_one():
    turns = DecodeTurns(1)
    progress, started = [], threading.Event()

    def long_clip():
        with turns.turn():
            started.set()
            for frame in range(400):
                time.sleep(0.001)
                progress.append(frame)
                turns.pass_on()

    thread = threading.Thread(target=long_clip)
    thread.start()
    started.wait()
    with turns.turn():  # the short clip's turn comes after one more frame of the long one, not after 400
        frames_before = len(progress)
    thread.join()
    assert frames_before < 50 and len(progress) == 400
    with turns.turn():  # nobody waiting: passing on keeps the turn
        turns.pass_on()


def test_no_budget_means_no_limits(streamed):
    assert load_clip(streamed, 8, 32).shape == (8, 32, 32, 3)
    assert np.asarray(load_clip(streamed, 2, 32)).dtype == np.uint8


def test_an_image_is_charged_its_pixels_from_its_header_before_it_decodes():
    import io

    from PIL import Image

    from captioner.inputs.in_memory import in_memory_pixels

    photo = io.BytesIO()
    Image.new("RGB", (100, 50), "navy").save(photo, "PNG")
    shared = DecodeBudget(DecodeLimits(max_pixels=7_500))  # one and a half of these images
    assert in_memory_pixels(photo.getvalue(), 0, 32, shared).shape == (1, 32, 32, 3)
    with pytest.raises(WorkLimitError, match="over 0.0075 decoded megapixels"):
        in_memory_pixels(photo.getvalue(), 0, 32, shared)
    assert in_memory_pixels(photo.getvalue(), 0, 32).shape == (1, 32, 32, 3)  # no budget: no limit
