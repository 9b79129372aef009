"""JPEG decoding on the GPU with NVIDIA nvImageCodec, resized on the device: extraction at GPU speed.

A fast GPU encodes VGG16 several times faster than 16 CPU cores decode JPEGs; the GPU's own JPEG decoder
(nvJPEG, through nvImageCodec) keeps up. nvImageCodec rather than DALI: it is one library call (bytes in,
device images out, ~25 MB) that drops into our loop, so file listing, failure reasons and cache commits stay
ours; DALI is a pipeline framework (a far larger wheel) that would own the loop.

The pixels recipe is the CPU path's (`images.load_image`): EXIF orientation applied, RGB, squashed to
size x size with Pillow's bilinear filter, whose antialiasing weights `resize_weights` reproduces; the
resize runs as two matrix products on the device. The CPU path lets libjpeg decode large JPEGs at a reduced
scale first (draft mode), so features of large photos differ slightly (tests bound it). Anything but a plain
RGB or greyscale JPEG, and any file nvImageCodec cannot decode, goes through the CPU path, which also gives
the one-line reason for files nobody can read.
"""

from __future__ import annotations

import numpy as np

from captioner.inputs.images import MAX_PIXELS, ImageError, ImageFile, opened_image

MODES = ("RGB", "L")  # JPEG colour modes decoded on the device (CMYK and others: the CPU path)


def resize_weights(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) float32: Pillow's BILINEAR resampling as a matrix (triangle filter widened by
    the scale when reducing, each row normalised), so out = W @ in along one axis."""
    scale = size_in / size_out
    stretch = max(scale, 1.0)
    weights = np.zeros((size_out, size_in), np.float64)
    for i in range(size_out):
        centre = (i + 0.5) * scale
        lo = max(int(centre - stretch + 0.5), 0)
        hi = min(int(centre + stretch + 0.5), size_in)
        taps = 1.0 - np.abs((np.arange(lo, hi) - centre + 0.5) / stretch)
        taps = np.clip(taps, 0.0, None)
        weights[i, lo:hi] = taps / taps.sum()
    return weights.astype(np.float32)


def resize_on_device(images: list, size: int):
    """Device images (H, W, 3) uint8 of any sizes -> one (N, size, size, 3) uint8 tensor, same order.

    Images of one shape are resized together (photo collections have few distinct shapes), as
    rows' weights @ images @ columns' weights, rounded like Pillow.
    """
    from captioner.base.backend import import_keras

    ops = import_keras().ops
    groups: dict[tuple[int, int], list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(tuple(image.shape[:2]), []).append(i)
    resized = [None] * len(images)
    for (height, width), members in groups.items():
        batch = ops.cast(ops.stack([images[i] for i in members]), "float32")
        rows = ops.convert_to_tensor(resize_weights(height, size))
        cols = ops.convert_to_tensor(resize_weights(width, size))
        out = ops.einsum("oh,nhwc,pw->nopc", rows, batch, cols)
        out = ops.cast(ops.clip(ops.round(out), 0, 255), "uint8")
        for j, i in enumerate(members):
            resized[i] = out[j]
    return ops.stack(resized)


def jpeg_bytes(item: ImageFile) -> bytes | None:
    """The file's bytes when the device can decode it as-is (a plain RGB/greyscale JPEG within the pixel
    limit), else None: the CPU path takes it. Reads only the header with Pillow."""
    if item.frames:
        return None
    try:
        with opened_image(item.path) as img:
            if img.format != "JPEG" or img.mode not in MODES or img.width * img.height > MAX_PIXELS:
                return None
    except ImageError:
        return None  # the CPU path names the reason
    try:
        with open(item.path, "rb") as f:
            return f.read()
    except OSError:
        return None


class NvImageCodecDecoder:
    """The boundary to nvImageCodec: JPEG bytes -> device images (H, W, 3) uint8 RGB, None where it failed."""

    def __init__(self, device_id: int = 0):
        from nvidia import nvimgcodec

        self._params = nvimgcodec.DecodeParams(apply_exif_orientation=True, color_spec=nvimgcodec.ColorSpec.RGB)
        self._decoder = nvimgcodec.Decoder(device_id=device_id)

    def decode(self, datas: list[bytes]) -> list:
        try:
            images = self._decoder.decode(datas, params=self._params)
        except Exception:  # one bad file can fail the batch call: then one at a time
            images = [self._one(data) for data in datas]
        return list(images)

    def _one(self, data: bytes):
        try:
            return self._decoder.decode(data, params=self._params)
        except Exception:
            return None


def gpu_decoder(mode: str = "auto"):
    """The device JPEG decoder for --decode `mode`: "cpu" -> None; "auto" -> one when nvImageCodec is
    installed and Keras computes on a GPU, else None; "gpu" -> one, or a UsageError saying what is missing."""
    from captioner.base.errors import UsageError

    if mode == "cpu":
        return None
    why = _unavailable()
    if why is None:
        try:
            return NvImageCodecDecoder()
        except Exception as exc:  # e.g. no CUDA driver although the wheel is installed
            why = f"nvImageCodec did not start ({str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__})"
    if mode == "gpu":
        raise UsageError(f"--decode gpu: {why}; use --decode cpu or auto")
    return None


def _unavailable() -> str | None:
    """Why GPU decoding cannot run here, or None."""
    import importlib.util

    if importlib.util.find_spec("nvidia") is None or importlib.util.find_spec("nvidia.nvimgcodec") is None:
        return "nvImageCodec is not installed (pip install 'nvidia-nvimgcodec-cu12[nvjpeg]')"
    from captioner.base.compile import on_gpu

    if not on_gpu():
        return "Keras is not computing on a GPU"
    return None
