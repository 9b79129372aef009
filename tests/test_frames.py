"""Clips to frames: the sampling rule, short clips, streaming, and every bad clip named with a reason."""

import numpy as np
import pytest
from oddclips import frames_of, make_bad_clips, write_gif, write_video  # tests/oddclips.py

from captioner.inputs.frames import FrameSampler, load_clip, load_item, sample_indices
from captioner.inputs.images import ImageError, ImageFile

pytestmark = pytest.mark.backend_independent  # PyAV/Pillow decoding: no Keras


def test_sample_indices_are_segment_centres():
    assert sample_indices(16, 4) == [2, 6, 10, 14]
    assert sample_indices(10, 3) == [1, 5, 8]
    assert sample_indices(8, 8) == list(range(8))
    assert sample_indices(3, 8) == [0, 1, 2]  # a short clip keeps what it has, no copies


def _sampled(total, n, capacity=None):
    sampler = FrameSampler(n, capacity)
    for i in range(total):
        sampler.add(lambda i=i: np.full((1, 1, 3), i, np.int32))
        assert len(sampler.kept) <= sampler.capacity  # memory stays bounded however long the clip
    return [int(f[0, 0, 0]) for f in sampler.frames()], sampler


def test_streaming_sampler_is_exact_within_its_buffer_and_close_beyond():
    assert _sampled(30, 8)[0] == sample_indices(30, 8)
    assert _sampled(5, 8)[0] == [0, 1, 2, 3, 4]
    picked, sampler = _sampled(1000, 4, capacity=16)  # long clip: within the kept stride of the exact centres
    exact = sample_indices(1000, 4)
    assert sampler.stride > 1 and len(picked) == 4
    assert all(abs(p - e) <= sampler.stride for p, e in zip(picked, exact))


def _level(frame):  # which frame of frames_of() this is (grey level 8 * i)
    return int(round(frame[20:40, 20:40].mean() / 8))


@pytest.mark.parametrize("kind", ["mp4", "gif"])
def test_load_clip_samples_decoded_frames_uniformly(tmp_path, kind):
    frames = frames_of(20)
    path = str(tmp_path / f"c.{kind}")
    (write_video if kind == "mp4" else write_gif)(path, frames)
    clip = load_clip(path, 4)
    assert clip.shape == (4, 224, 224, 3) and clip.dtype == np.uint8
    assert [_level(f) for f in clip] == sample_indices(20, 4)
    short = load_clip(path, 32)  # fewer frames than asked: all of them, once each
    assert [_level(f) for f in short] == list(range(20))


def test_variable_frame_rate_counts_decoded_frames_not_timestamps(tmp_path):
    pts = [0, 10, 20, 500, 510, 520, 1500, 1510, 1520, 3000]  # bursts and gaps
    path = write_video(str(tmp_path / "vfr.mkv"), frames_of(10), pts=pts)
    assert [_level(f) for f in load_clip(path, 5)] == sample_indices(10, 5)


def test_one_frame_video_and_4k_frames(tmp_path):
    one = write_video(str(tmp_path / "one.mp4"), frames_of(1))
    assert load_clip(one, 8).shape == (1, 224, 224, 3)
    big = np.zeros((2160, 3840, 3), np.uint8)
    big[:, 1920:] = 255
    path = write_video(str(tmp_path / "4k.mp4"), [big, big], codec="mpeg4")
    clip = load_clip(path, 8)
    assert clip.shape == (2, 224, 224, 3)
    assert clip[0, :, :100].mean() < 30 and clip[0, :, 124:].mean() > 225  # squashed like an image


def test_bad_clips_give_one_line_reasons(tmp_path):
    for name, word in make_bad_clips(str(tmp_path)).items():
        with pytest.raises(ImageError) as caught:
            load_clip(str(tmp_path / name), 8)
        reason = str(caught.value)
        assert word in reason and "\n" not in reason, (name, reason)


@pytest.mark.parametrize("name", ["gone.mp4", "gone.gif"])
def test_a_missing_clip_is_file_not_found(tmp_path, name):
    # PyAV raises its own FileNotFoundError subclass (once a KeyError and a traceback)
    with pytest.raises(ImageError, match="^file not found$"):
        load_clip(str(tmp_path / name), 4)


def test_images_and_clips_are_told_apart(tmp_path, synthetic):
    still = str(synthetic / "Images" / "shapes_00000.jpg")
    with pytest.raises(ImageError, match="an image; this model describes clips"):
        load_item(ImageFile("a.jpg", still, frames=8))
    video = write_video(str(tmp_path / "v.mp4"), frames_of(3))
    with pytest.raises(ImageError, match="a video clip; this model describes images"):
        load_item(ImageFile("v.mp4", video))
    assert load_item(ImageFile("v.mp4", video, frames=8)).shape == (3, 224, 224, 3)


def test_an_item_is_read_as_its_image_or_its_clips_frames_at_the_size_asked(tmp_path, synthetic):
    """Found by the mutation run: load_item's pixels and size were only checked by shape at the default size."""
    from captioner.inputs.images import load_image

    still = str(synthetic / "Images" / "shapes_00000.jpg")
    image = load_item(ImageFile("a.jpg", still), size=32)
    assert image.shape == (1, 32, 32, 3) and np.array_equal(image[0], load_image(still, 32))
    clip = write_gif(str(tmp_path / "c.gif"), frames_of(6))
    frames = load_item(ImageFile("c.gif", clip, frames=3), size=48)
    assert frames.shape == (3, 48, 48, 3) and np.array_equal(frames, load_clip(clip, 3, 48))
    assert not np.array_equal(frames, load_clip(clip, 6, 48)[:3])  # 3 sampled frames, not the first 3
