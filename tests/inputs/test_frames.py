"""Clips to frames: the sampling rule, short clips, streaming, and every bad clip named with a reason."""

import os

import numpy as np
import pytest
from PIL import Image

from captioner.inputs.decode_budget import DecodeBudget
from captioner.inputs.frames import FrameSampler, is_animated, load_clip, load_item, sample_indices
from captioner.inputs.images import ImageError, ImageFile
from tests.support.oddclips import frames_of, make_bad_clips, still_clip, write_gif, write_video

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
        assert str(caught.value) == word, name


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
    with pytest.raises(ImageError) as caught:
        load_item(ImageFile("v.mp4", video))
    assert str(caught.value) == "a video clip; this model describes images"
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


# What the mutation run found: the exact reasons, the frame-size limit, the truncation rule's boundary and the
# streams decoded were reached but not pinned down.

def test_frames_over_the_pixel_limit_are_refused_with_their_size_and_the_limit(tmp_path, monkeypatch):
    from captioner.inputs import frames

    path = write_video(str(tmp_path / "v.mp4"), frames_of(3))  # 64 x 64 frames: 4,096 pixels
    monkeypatch.setattr(frames, "MAX_PIXELS", 4096)
    assert load_clip(path, 2).shape == (2, 224, 224, 3)  # at the limit: read
    monkeypatch.setattr(frames, "MAX_PIXELS", 4095)
    with pytest.raises(ImageError) as caught:
        load_clip(path, 2)
    assert str(caught.value) == "video frames too large (64x64 pixels, limit 4,095)"


def cut_avi(path, frames_kept: int) -> str:
    """An AVI of 20 frames cut after `frames_kept` + 1 chunks: its header still lists 20."""
    write_video(path, frames_of(20), codec="mpeg4")
    with open(path, "rb") as f:
        avi = f.read()
    chunks = [i for i in range(len(avi)) if avi.startswith(b"00dc", i)]
    with open(path, "wb") as f:
        f.write(avi[: chunks[frames_kept + 1]])
    return path


def test_a_clip_is_truncated_when_under_half_the_frames_it_lists_decode():
    import tempfile

    folder = tempfile.mkdtemp()
    decoded = {}
    for kept in (7, 10):
        try:
            decoded[kept] = len(load_clip(cut_avi(f"{folder}/c{kept}.avi", kept), 32, size=32))
        except ImageError as exc:
            decoded[kept] = str(exc)
    assert decoded[7] == "truncated video (decoded 7 of the 20 frames it lists)"
    assert decoded[10] == 10  # half of what it lists: read, not refused


def test_a_clip_with_a_sound_track_is_read_from_its_video_stream_only(tmp_path):
    import av

    path = str(tmp_path / "talk.mkv")
    with av.open(path, "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = container.add_stream("aac", rate=8000)
        sound = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        sound.sample_rate = 8000
        for packet in list(audio.encode(sound)) + list(audio.encode()):
            container.mux(packet)
        for picture in frames_of(4):
            for packet in video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
    assert load_clip(path, 4, size=32).shape == (4, 32, 32, 3)


def test_reasons_for_other_decoding_errors_take_their_first_line_or_their_type_and_say_where():
    from captioner.inputs.frames import _video_reason

    here = __file__  # any file that is not empty
    assert _video_reason(here, ValueError("bad header\nsecond line"), 0) == "cannot decode video (bad header)"
    assert _video_reason(here, ValueError(""), 5) == "cannot decode video (ValueError after 5 frames)"


def test_animated_files_that_are_not_clips_say_what_they_are(tmp_path, synthetic):
    from PIL import Image

    (tmp_path / "noise.gif").write_bytes(b"not a gif at all" * 10)
    with pytest.raises(ImageError) as caught:
        load_clip(str(tmp_path / "noise.gif"), 4)
    assert str(caught.value) == "not a clip (unknown format)"
    Image.open(synthetic / "Images" / "shapes_00000.jpg").save(tmp_path / "still.gif")
    with pytest.raises(ImageError) as caught:
        load_clip(str(tmp_path / "still.gif"), 4)
    assert str(caught.value) == "an image; this model describes clips"


def test_the_reasons_of_a_missing_decoder_and_of_no_frame_at_all():
    import av

    from captioner.inputs.frames import _video_reason

    missing = av.error.DecoderNotFoundError(-1128613112, "Decoder not found")
    assert _video_reason(__file__, missing, 0) == "unsupported video codec (no decoder)"
    assert _video_reason(__file__, av.error.EOFError(-541478725, "End of file"), 0) == "no decodable video frame"
    with pytest.raises(ImageError) as caught:
        FrameSampler(4).frames()  # a stream that decoded to nothing without an error
    assert str(caught.value) == "no decodable video frame"


def test_a_long_clip_is_thinned_by_doubling_the_stride_each_time_the_buffer_overflows():
    from captioner.inputs.frames import buffer_size

    assert (buffer_size(4), buffer_size(8), buffer_size(16)) == (32, 32, 64)  # max(32, 4n)
    sampler = FrameSampler(4, capacity=8)
    for i in range(40):
        sampler.add(lambda i=i: np.full((1, 1, 3), i, np.uint8))
    assert sorted(sampler.kept) == [0, 8, 16, 24, 32] and sampler.stride == 8 and sampler.count == 40
    assert sampler.frames()[:, 0, 0, 0].tolist() == [8, 16, 24, 32]  # nearest kept to 5, 15, 25, 35


def test_a_container_without_any_stream_has_no_video_stream(tmp_path, monkeypatch):
    import av

    class Empty:
        streams = type("Streams", (), {"video": [], "audio": []})()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    (tmp_path / "x.mkv").write_bytes(b"\x1aE\xdf\xa3 something")
    monkeypatch.setattr(av, "open", lambda path: Empty())
    with pytest.raises(ImageError) as caught:
        load_clip(str(tmp_path / "x.mkv"), 4)
    assert str(caught.value) == "no video stream"


def test_a_clip_as_long_as_the_buffer_is_sampled_exactly():
    sampler = FrameSampler(4, capacity=8)
    for i in range(8):
        sampler.add(lambda i=i: np.full((1, 1, 3), i, np.uint8))
    assert sorted(sampler.kept) == list(range(8)) and sampler.stride == 1
    assert sampler.frames()[:, 0, 0, 0].tolist() == [1, 3, 5, 7]  # the centres of 4 equal runs of 8


class Told(DecodeBudget):
    """A budget without limits that keeps what decoding tells it: the clip's stated length, then each frame."""

    def __init__(self):
        super().__init__()
        self.clip, self.frames = None, []

    def check_clip(self, frames, seconds):
        self.clip = (frames, seconds)

    def frame(self, decoded, seconds, width, height):
        self.frames.append((decoded, seconds, width, height))


def told(path: str) -> Told:
    budget = Told()
    load_clip(path, 3, 16, budget)
    return budget


def test_decoding_tells_the_budget_each_frames_number_time_from_the_first_and_size_and_the_stated_length(tmp_path):
    pictures = [np.full((24, 40, 3), 10 * i, np.uint8) for i in range(6)]
    late = told(write_video(str(tmp_path / "late.mp4"), pictures, pts=[500, 750, 1000, 1250, 1500, 1750]))
    assert late.frames == [(i + 1, 0.25 * i, 40, 24) for i in range(6)]  # its first frame is at 0.5 s
    assert told(write_video(str(tmp_path / "even.mp4"), pictures)).clip == (6, 0.6)  # the stream's 6144 x 1/10240 s
    stated = tmp_path / "stated.mkv"
    stated.write_bytes(still_clip(12, fps=4, width=40, height=24, declared=True))
    assert told(str(stated)).clip == (0, 3.0)  # the container's 3,000,000 us (Matroska lists no frame count)
    elementary = write_video(str(tmp_path / "raw.h264"), pictures)  # a bare H.264 stream: no times at all,
    os.rename(elementary, tmp_path / "raw.mkv")  # named as a clip (FFmpeg reads what the bytes are)
    raw = told(str(tmp_path / "raw.mkv"))
    assert raw.clip == (0, None) and raw.frames == [(i + 1, None, 40, 24) for i in range(6)]


def test_an_animation_tells_the_budget_each_frames_start_from_the_durations_before_it(tmp_path):
    timed = told(write_gif(str(tmp_path / "timed.gif"), frames_of(4, side=16)))  # 100 ms a frame
    assert [f[0] for f in timed.frames] == [1, 2, 3, 4] and {f[2:] for f in timed.frames} == {(16, 16)}
    assert [f[1] for f in timed.frames] == pytest.approx([0.0, 0.1, 0.2, 0.3], abs=1e-9)
    untimed = [Image.fromarray(np.full((16, 20, 3), 30 * i, np.uint8)) for i in range(3)]
    untimed[0].save(tmp_path / "untimed.gif", save_all=True, append_images=untimed[1:], loop=0)  # no durations
    assert told(str(tmp_path / "untimed.gif")).frames == [(i + 1, 0.0, 20, 16) for i in range(3)]


def test_only_a_gif_or_webp_of_more_than_one_frame_is_animated(tmp_path):
    gif = write_gif(str(tmp_path / "moving.gif"), frames_of(2, side=8))
    frames = [Image.fromarray(a) for a in frames_of(2, side=8)]
    frames[0].save(tmp_path / "moving.webp", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "still.gif")
    (tmp_path / "moving.mp4").write_bytes(open(gif, "rb").read())  # the bytes of an animation, named as a video
    (tmp_path / "broken.gif").write_bytes(b"GIF89a")
    assert is_animated(gif) and is_animated(str(tmp_path / "moving.webp"))
    for other in ("still.gif", "moving.mp4", "broken.gif", "missing.gif"):
        assert not is_animated(str(tmp_path / other)), other
