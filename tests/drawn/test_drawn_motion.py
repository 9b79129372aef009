"""The harder drawn clip set: readable as MSVD, captions true to the clip, no single frame tells the motion."""

import json

import numpy as np

from captioner.datasets import load_captions
from captioner.drawn.motion import SPAN, SPEEDS, _mover_path, captions_for, draw_clip, motion_checks, \
    write_drawn_motion


def test_written_set_reads_as_msvd_and_its_captions_pass_their_checks(tmp_path):
    plain = load_captions(write_drawn_motion(str(tmp_path / "p"), num_clips=10, seed=2))
    other = load_captions(write_drawn_motion(str(tmp_path / "o"), num_clips=10, seed=2, wording="other"))
    truth = json.loads((tmp_path / "p/truth.json").read_text())
    assert (tmp_path / "o/truth.json").read_text() == (tmp_path / "p/truth.json").read_text()
    assert [len(plain.select(s).captions) for s in ("train", "val", "test")] == [7, 1, 2]
    assert {truth[k]["file"].rsplit(".", 1)[1] for k in truth} == {"gif", "mp4"}
    for cs in (plain, other):
        for key, caps in cs.captions.items():
            assert len(caps) == 5
            for caption in caps:
                checks = motion_checks(caption, truth[key])
                assert checks["colour"] and checks["direction"] and checks["shape"] is not False, (caption, truth[key])
                assert checks["speed"] is not False, (caption, truth[key])
    for key in plain.captions:
        assert not set(plain.captions[key]) & set(other.captions[key])


def test_checks_catch_the_wrong_colour_direction_speed_and_a_swapped_distractor():
    drawn = {"colour": "red", "shape": "circle", "direction": "left", "speed": "slowly",
             "distractor": {"colour": "blue", "shape": "square"}}
    assert motion_checks("a red circle moves slowly to the left", drawn) == \
        {"colour": True, "shape": True, "direction": True, "speed": True}
    assert motion_checks("a red star moves slowly to the left", drawn) == \
        {"colour": True, "shape": False, "direction": True, "speed": True}  # the colour is right, the shape not
    assert motion_checks("an orange circle moves slowly to the left", drawn)["colour"] is False
    assert motion_checks("a blue square moves to the left past a still red circle", drawn)["colour"] is False
    assert motion_checks("a red circle moves quickly to the right", drawn) == \
        {"colour": True, "shape": True, "direction": False, "speed": False}
    assert motion_checks("the circle heads left and it is red", drawn)["colour"] is True
    assert motion_checks("the circle heads left and it is pink", drawn)["colour"] is False
    assert motion_checks("a red shape is moving left", drawn) == \
        {"colour": True, "shape": None, "direction": True, "speed": None}


def test_one_frame_tells_neither_direction_nor_speed_sign():
    """Left and right (up and down) visit the same places, each equally often in 8 or 16 sampled frames."""
    from captioner.inputs.frames import sample_indices

    for speed in SPEEDS:
        for count in (16, 24, 32):
            for n in (8, 16):
                sampled = {}
                for direction in ("left", "right", "up", "down"):
                    path = _mover_path(direction, speed, count, np.random.default_rng(7))  # same start, across
                    sampled[direction] = sorted(path[i] for i in sample_indices(count, n))
                    xs = [p[0 if direction in ("left", "right") else 1] for p in path]
                    assert SPAN[0] - 1e-9 <= min(xs) and max(xs) <= SPAN[1] + 1e-9
                    assert abs(abs(xs[-1] - xs[0]) - SPEEDS[speed]) < 1e-9
                assert sampled["left"] == sampled["right"] and sampled["up"] == sampled["down"]


def test_distractor_differs_from_the_mover_and_captions_use_an():
    rng = np.random.default_rng(1)
    texts = []
    for _ in range(200):
        frames, truth = draw_clip(rng)
        assert len(frames) == truth["frames"] and frames[0].tobytes() != frames[1].tobytes()
        if truth["distractor"]:
            assert truth["distractor"]["colour"] != truth["colour"] and truth["distractor"]["shape"] != truth["shape"]
        texts += captions_for(truth, "plain")
    joined = " | ".join(texts)
    assert "an orange" in joined and "a orange" not in joined
