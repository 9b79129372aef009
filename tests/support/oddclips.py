"""Small video files for tests, written with PyAV: good clips and every kind of bad one."""

from __future__ import annotations

import io
import os
from fractions import Fraction

import av
import numpy as np
from PIL import Image


def frames_of(count: int, side: int = 64, seed: int = 0) -> list[np.ndarray]:
    """Frames whose index can be read back: frame i is a flat grey of level 8 * i (plus a seeded speck)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        a = np.full((side, side, 3), min(255, 8 * i), np.uint8)
        a[:4, :4] = rng.integers(0, 256, 3, dtype=np.uint8)
        out.append(a)
    return out


def write_video(path: str, frames: list[np.ndarray], codec: str = "libx264", fps: int = 10,
                pts: list[int] | None = None) -> str:
    """`pts` (in 1/1000 s) makes a variable-frame-rate file."""
    h, w = frames[0].shape[:2]
    with av.open(path, "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "0", "bf": "0"}
        if pts is not None:
            stream.time_base = Fraction(1, 1000)
            stream.codec_context.time_base = Fraction(1, 1000)
        for i, a in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(a, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_gif(path: str, frames: list[np.ndarray]) -> str:
    images = [Image.fromarray(a) for a in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    return path


def write_audio_only(path: str) -> str:
    with av.open(path, "w") as container:
        stream = container.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for packet in list(stream.encode(frame)) + list(stream.encode()):
            container.mux(packet)
    return path


def write_no_frames(path: str) -> str:
    """A container with a video stream and not one packet."""
    container = av.open(path, "w")
    stream = container.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
    container.start_encoding()
    container.close()
    return path


def write_unknown_codec(path: str) -> str:
    """An AVI whose video FourCC names no codec FFmpeg knows."""
    write_video(path, frames_of(3), codec="mpeg4")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data.replace(b"FMP4", b"ZZZ9"))
    return path


def make_bad_clips(root: str) -> dict[str, str]:
    """{file name: its one-line reason} for clips that must be reported, never crashed on."""
    os.makedirs(root, exist_ok=True)
    good = write_video(os.path.join(root, "tmp.mp4"), frames_of(12))
    with open(good, "rb") as f:
        whole = f.read()
    os.unlink(good)
    expect = {}
    with open(os.path.join(root, "truncated.mp4"), "wb") as f:
        f.write(whole[: len(whole) // 3])
    expect["truncated.mp4"] = "cannot decode video (Invalid data found when processing input)"
    write_video(os.path.join(root, "cut.avi"), frames_of(20), codec="mpeg4")
    with open(os.path.join(root, "cut.avi"), "rb") as f:
        avi = f.read()
    chunks = [i for i in range(len(avi)) if avi.startswith(b"00dc", i)]  # one AVI chunk per video frame
    with open(os.path.join(root, "cut.avi"), "wb") as f:
        f.write(avi[: chunks[4]])  # 4 whole frames left; the header still lists 20
    expect["cut.avi"] = "truncated video (decoded 3 of the 20 frames it lists)"
    with open(os.path.join(root, "garbage.mkv"), "wb") as f:
        f.write(b"\x1aE\xdf\xa3" + np.random.default_rng(1).bytes(4000))
    expect["garbage.mkv"] = "cannot decode video (Invalid data found when processing input)"
    open(os.path.join(root, "zero.mp4"), "wb").close()
    expect["zero.mp4"] = "empty file (0 bytes)"
    write_audio_only(os.path.join(root, "audio.mp4"))
    expect["audio.mp4"] = "no video stream (audio only)"
    write_no_frames(os.path.join(root, "noframes.mkv"))
    expect["noframes.mkv"] = "no decodable video frame"
    write_unknown_codec(os.path.join(root, "codec.avi"))
    expect["codec.avi"] = "unsupported video codec (no decoder)"
    return expect


class _Pipe(io.RawIOBase):
    """A file that cannot seek: a muxer writing to it cannot go back to fill in the clip's length."""

    def __init__(self):
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b) -> int:
        self.data.extend(b)
        return len(b)


def still_clip(frames: int, fps: int = 30, width: int = 160, height: int = 120, declared: bool = False) -> bytes:
    """A Matroska clip of one still picture repeated: minutes of it compress to kilobytes. Unless `declared`,
    written as a stream, so the file states neither its length nor its frame count (only decoding finds out)."""
    out = io.BytesIO() if declared else _Pipe()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 90, np.uint8), format="rgb24")
        for _ in range(frames):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return bytes(out.getvalue() if declared else out.data)
