"""Clip caption files: MSVD CSV, MSR-VTT JSON, clip names in the image layouts, and their splits."""

import json

import pytest

from captioner.datasets import DatasetError, load_captions, resolve_clip

pytestmark = pytest.mark.backend_independent  # caption file parsers: no Keras

MSVD_HEADER = "VideoID,Start,End,WorkerID,Source,AnnotationTime,Language,Description\n"


def test_msvd_keeps_english_rows_keyed_by_clip_id(tmp_path):
    (tmp_path / "msvd.csv").write_text(
        MSVD_HEADER
        + 'mv89psg6zh4,33,46,1,clean,18,English,"A bird, in a sink, keeps getting water."\n'
        + "mv89psg6zh4,33,46,2,clean,20,French,Un oiseau\n"
        + "mv89psg6zh4,33,46,3,unverified,9,English,A bird is bathing in a sink.\n"
        + "-4wsuPCjDBc,5,9,4,clean,11,English,a man is playing a guitar\n")
    data = load_captions(str(tmp_path / "msvd.csv"))
    assert data.layout == "msvd" and data.kind == "clip"
    assert data.captions == {"mv89psg6zh4_33_46": ["A bird, in a sink, keeps getting water.", "A bird is bathing in a sink."],
                             "-4wsuPCjDBc_5_9": ["a man is playing a guitar"]}


@pytest.mark.parametrize("row, message", [
    ("mv89psg6zh4,33,46,1,clean,18,English\n", ":2: expected 8 fields"),
    ("mv89psg6zh4,x,46,1,clean,18,English,a bird\n", ":2: VideoID must be set and Start, End whole seconds"),
    ("mv89psg6zh4,33,46,1,clean,18,English,\n", ":2: empty caption"),
])
def test_msvd_bad_rows_are_named_by_line(tmp_path, row, message):
    (tmp_path / "m.csv").write_text(MSVD_HEADER + row)
    with pytest.raises(DatasetError, match=message):
        load_captions(str(tmp_path / "m.csv"))


def test_msvd_without_english_is_an_error(tmp_path):
    (tmp_path / "m.csv").write_text(MSVD_HEADER + "a,1,2,1,clean,1,German,ein Vogel\n")
    with pytest.raises(DatasetError, match="no English descriptions"):
        load_captions(str(tmp_path / "m.csv"))


def test_msrvtt_layout_and_its_split_field(tmp_path):
    data = {"info": {}, "videos": [{"video_id": "video0", "split": "train"}, {"video_id": "video1", "split": "validate"},
                                   {"video_id": "video2", "split": "test"}],
            "sentences": [{"video_id": "video0", "caption": "a cartoon", "sen_id": 0},
                          {"video_id": "video1", "caption": "a man talks", "sen_id": 1},
                          {"video_id": "video2", "caption": "cars race", "sen_id": 2},
                          {"video_id": "video2", "caption": "a race", "sen_id": 3}]}
    (tmp_path / "train_val_videodatainfo.json").write_text(json.dumps(data))
    captions = load_captions(str(tmp_path / "train_val_videodatainfo.json"))
    assert captions.layout == "msrvtt" and captions.kind == "clip"
    assert [captions.split_of(k) for k in ("video0", "video1", "video2")] == ["train", "val", "test"]
    assert captions.select("test").captions == {"video2": ["cars race", "a race"]}
    data["sentences"].append({"video_id": "video9", "caption": "x"})
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError, match=r"sentences\[4\]: video_id 'video9' is not in 'videos'"):
        load_captions(str(tmp_path / "bad.json"))


def test_clip_names_in_the_token_layout_and_splits_by_name_or_id(tmp_path):
    (tmp_path / "captions.token.txt").write_text("a_1_2.mp4#0\ta dog runs\nb_3_4.gif#0\ta cat sits\nc.mp4#0\tx\n")
    (tmp_path / "split.tsv").write_text("a_1_2\ttrain\nb_3_4.gif\ttest\n")
    data = load_captions(str(tmp_path / "captions.token.txt"))
    assert data.kind == "clip"
    assert [data.split_of(k) for k in ("a_1_2.mp4", "b_3_4.gif", "c.mp4")] == ["train", "test", "unassigned"]
    (tmp_path / "images.token.txt").write_text("a.jpg#0\ta dog\n")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "images.token.txt").write_text("a.jpg#0\ta dog\n")
    assert load_captions(str(tmp_path / "x" / "images.token.txt")).kind == "image"


def test_clip_ids_resolve_to_any_clip_extension(tmp_path):
    (tmp_path / "a_1_2.webm").write_bytes(b"")
    assert resolve_clip(str(tmp_path), "a_1_2").endswith("a_1_2.webm")
    assert resolve_clip(str(tmp_path), "missing").endswith("missing")  # reported later as "file not found"
    with pytest.raises(DatasetError, match="outside"):
        resolve_clip(str(tmp_path / "sub"), "../a_1_2")


class FixedChoice:
    """A stand-in random generator whose `integers` always draws `value`."""

    def __init__(self, value):
        self.value = value

    def integers(self, high):
        return self.value


@pytest.mark.parametrize("n", [4, 8, 16])
def test_drawn_clips_hide_the_direction_from_one_frame_and_from_the_set_of_frames(n):
    from collections import Counter

    from captioner.drawn.shape_clips import ACROSS_ORDERS, DIRECTIONS, MIDDLE, positions
    from captioner.inputs.frames import sample_indices

    for frames in (12, 16, 20, 24):
        seen = {}
        for direction in DIRECTIONS:
            sets, middles = Counter(), set()
            for order in range(len(ACROSS_ORDERS)):  # every across order once: the exact distribution
                rng = FixedChoice(order)
                sampled = [positions(direction, frames, rng)[i] for i in sample_indices(frames, n)]
                sets[tuple(sorted(sampled))] += 1
                middles.add(sampled[len(sampled) // 2])
            seen[direction] = sets
            assert middles == {(MIDDLE, MIDDLE)}  # the middle frame is the centre, whatever the motion
        assert all(seen[d] == seen["left"] for d in DIRECTIONS), frames  # nor does the set (or its mean)
