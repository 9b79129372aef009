"""Clips (videos, animated GIF/WebP) -> N frames sampled uniformly over the frames actually decoded.

Videos are decoded with PyAV (its wheels carry FFmpeg), animated images with Pillow, both as a stream: the
number of frames is only known at the end (container metadata lies, e.g. for variable frame rates), so a
bounded buffer keeps every s-th decoded frame, doubling s when it fills. Clips of up to `buffer_size(n)`
frames are sampled exactly; longer ones to within the kept stride. Each kept frame goes through the same
resize as images (`images.to_pixels`). A clip with fewer than N frames keeps the frames it has.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from captioner.inputs.decode_budget import DecodeBudget
from captioner.inputs.filetypes import looks_like_animation, looks_like_video
from captioner.inputs.images import (MAX_PIXELS, ImageError, ImageFile, file_reason, load_image, opened_image,
                                     size_or_none, to_pixels)


def sample_indices(total: int, n: int) -> list[int]:
    """The frame indices to keep of `total` decoded frames: the centres of n equal segments (all if fewer)."""
    if total <= n:
        return list(range(total))
    return [int((i + 0.5) * total / n) for i in range(n)]


def buffer_size(n: int) -> int:
    """Frames held while streaming: clips up to this long are sampled exactly."""
    return max(32, 4 * n)


class FrameSampler:
    """Feed decoded frames in order with `add(make_pixels)`; `frames()` gives the uniform sample."""

    def __init__(self, n: int, capacity: int | None = None):
        self.n, self.capacity = n, capacity or buffer_size(n)
        self.stride, self.count = 1, 0
        self.kept: dict[int, np.ndarray] = {}  # decoded index -> pixels, every `stride`-th frame

    def add(self, make_pixels) -> None:
        """`make_pixels()` is called only for frames that are kept (conversion and resize cost time)."""
        if self.count % self.stride == 0:
            self.kept[self.count] = make_pixels()
            if len(self.kept) > self.capacity:
                self.stride *= 2
                self.kept = {i: p for i, p in self.kept.items() if i % self.stride == 0}
        self.count += 1

    def frames(self) -> np.ndarray:
        """(k, size, size, 3) uint8 with k = min(n, frames decoded), in time order."""
        held = sorted(self.kept)
        if not held:
            raise ImageError("no decodable video frame")
        chosen = [min(held, key=lambda i: (abs(i - target), i)) for target in sample_indices(self.count, self.n)]
        return np.stack([self.kept[i] for i in chosen])


def load_clip(path: str, n: int, size: int = 224, budget: DecodeBudget | None = None) -> np.ndarray:
    """(k, size, size, 3) uint8 RGB, k = min(n, decoded frames); ImageError with a one-line reason otherwise.
    `budget`: the limits decoding is held to, frame by frame (the server's; none for files on disk)."""
    sampler, budget = FrameSampler(n), budget or DecodeBudget()
    if looks_like_video(path):
        _decode_video(path, size, sampler, budget)
    else:
        _decode_animation(path, size, sampler, budget)
    return sampler.frames()


def load_item(item: ImageFile, size: int = 224) -> np.ndarray:
    """(k, size, size, 3): one image (k = 1) or a clip's sampled frames."""
    if item.frames:
        return load_clip(item.path, item.frames, size)
    if looks_like_video(item.path):
        raise ImageError("a video clip; this model describes images")
    return load_image(item.path, size)[None]


def is_animated(path: str) -> bool:
    """An animated GIF/WebP; False for anything Pillow cannot open (decoding reports why later)."""
    if not looks_like_animation(path):
        return False
    try:
        with Image.open(path) as img:
            return bool(getattr(img, "is_animated", False))
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return False


def _decode_video(path: str, size: int, sampler: FrameSampler, budget: DecodeBudget) -> None:
    import av
    from av.video.reformatter import VideoReformatter

    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise ImageError("no video stream (audio only)" if container.streams.audio else "no video stream")
            stream = container.streams.video[0]
            if stream.codec_context is None:  # PyAV found no decoder for the stream's codec
                raise ImageError("unsupported video codec (no decoder)")
            _check_frame_size(stream.codec_context.width, stream.codec_context.height)  # before FFmpeg allocates
            budget.check_clip(stream.frames, _declared_seconds(container, stream))
            # One converter for the whole clip: a fresh one per frame (frame.to_image()) costs twice as much.
            rgb = VideoReformatter()
            start = None
            for frame in container.decode(stream):
                _check_frame_size(frame.width, frame.height)
                at = frame.time
                start = at if start is None else start
                budget.frame(sampler.count + 1, None if at is None else at - start, frame.width, frame.height)
                sampler.add(lambda: to_pixels(Image.fromarray(rgb.reformat(frame, format="rgb24").to_ndarray()), size))
            # Sampling counts decoded frames, but a container whose index lists far more frames than could be
            # decoded was cut short (FFmpeg decodes what is left without an error): say so, do not caption a part.
            if stream.frames and sampler.count < stream.frames / 2:
                raise ImageError(f"truncated video (decoded {sampler.count} of the {stream.frames} frames it lists)")
    except ImageError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise ImageError(file_reason(exc)) from None
    except (av.error.FFmpegError, OSError, ValueError, MemoryError) as exc:
        raise ImageError(_video_reason(path, exc, sampler.count)) from None


def _check_frame_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(f"video frames too large ({width}x{height} pixels, limit {MAX_PIXELS:,})")


def _declared_seconds(container, stream) -> float | None:
    """The clip's length as its container states it (None when it does not)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # FFmpeg's AV_TIME_BASE
    return None


def _video_reason(path: str, exc: Exception, decoded: int) -> str:
    if size_or_none(path) == 0:
        return "empty file (0 bytes)"
    import av

    if isinstance(exc, av.error.DecoderNotFoundError):
        return "unsupported video codec (no decoder)"
    if isinstance(exc, av.error.EOFError) and decoded == 0:
        return "no decodable video frame"
    text = getattr(exc, "strerror", None) or next(iter(str(exc).splitlines()), "") or type(exc).__name__
    where = f" after {decoded} frames" if decoded else ""
    return f"cannot decode video ({text}{where})"


def _decode_animation(path, size: int, sampler: FrameSampler, budget: DecodeBudget) -> None:
    """Frame by frame until the end (Pillow's n_frames would read the whole file first: a cost no limit saw)."""
    with opened_image(path, unknown="not a clip (unknown format)") as img:
        if not getattr(img, "is_animated", False):
            raise ImageError("an image; this model describes clips")
        seconds = 0.0
        while True:
            try:
                img.seek(sampler.count)
            except EOFError:
                return
            budget.frame(sampler.count + 1, seconds, *img.size)
            seconds += (img.info.get("duration") or 0) / 1000
            sampler.add(lambda: to_pixels(img, size))
