"""GPU decoding and process decoding, tested on the CPU.

nvImageCodec needs an NVIDIA GPU, so its one call (`NvImageCodecDecoder.decode`: JPEG bytes -> device images) is
replaced by Pillow decoding to full-size arrays that, like nvImageCodec's images, speak DLPack. Everything on
either side of that boundary is the real code: which files go to the device, adopting the arrays through
DLPack, the resize on the device, the CPU fallback, the order of rows, the failures, the cache.
"""

import shutil

import numpy as np
import pytest
from PIL import Image, ImageOps

from captioner.features.cache import FeatureCache
from captioner.features.extraction import decoded_batches, extract_to_cache
from captioner.inputs.gpu_decoding import gpu_decoder, resize_on_device
from captioner.inputs.images import find_images


class PillowAsNvImageCodec:
    """nvImageCodec's contract: a list of JPEG bytes in, one (H, W, 3) uint8 RGB image (or None) out per entry,
    EXIF orientation applied, at full resolution."""

    def __init__(self, refuse: bytes = b""):
        self.refuse = refuse  # files starting with this are "refused by the device decoder"
        self.calls = 0

    def decode(self, datas):
        import io

        self.calls += 1
        out = []
        for data in datas:
            if self.refuse and data.startswith(self.refuse):
                out.append(None)
                continue
            try:
                with Image.open(io.BytesIO(data)) as img:
                    out.append(_like_a_device_buffer(np.asarray(ImageOps.exif_transpose(img).convert("RGB"))))
            except OSError:
                out.append(None)
        return out


def _like_a_device_buffer(pixels: np.ndarray) -> np.ndarray:
    """A writable copy at a 64-byte aligned address, as CUDA allocations are (TensorFlow's DLPack import checks)."""
    raw = np.empty(pixels.nbytes + 64, np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start:start + pixels.nbytes].reshape(pixels.shape)
    out[...] = pixels
    return out


def test_device_resize_is_pillows_bilinear_within_one_level():
    rng = np.random.default_rng(0)
    for shape in [(375, 500), (500, 333), (80, 100), (224, 224), (1200, 900)]:
        image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        want = np.asarray(Image.fromarray(image).resize((224, 224), Image.BILINEAR)).astype(int)
        got = np.asarray(resize_on_device([image], 224)).astype(int)[0]
        assert np.abs(got - want).max() <= 1, shape


@pytest.fixture
def mixed_folder(shared_data, tmp_path):
    """Real photos, a PNG (CPU path), a truncated JPEG (nobody can read it) and a large photo (draft mode)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = sorted((shared_data / "flickr8k_sample" / "Images").glob("*.jpg"))[:5]
    for p in photos:
        shutil.copy(p, folder / p.name)
    Image.open(photos[0]).save(folder / "as_png.png")
    Image.open(photos[1]).resize((1500, 1000)).save(folder / "large.jpg", quality=92)
    (folder / "broken.jpg").write_bytes(photos[2].read_bytes()[:200])
    return folder


def _extract(folder, cache_dir, encoder, gpu):
    items, _, _ = find_images([str(folder)])
    with FeatureCache.open(str(cache_dir), encoder.fingerprint, "float32", writable=True) as cache:
        report = extract_to_cache(items, encoder, cache, batch_size=4, show_progress=False, gpu=gpu)
    cache = FeatureCache.open(str(cache_dir))
    return report, cache.keys(), cache.get(cache.keys())


def test_gpu_path_gives_the_cpu_paths_features(mixed_folder, tmp_path, random_encoder):
    device = PillowAsNvImageCodec(refuse=b"\x89PNG")
    cpu_report, cpu_keys, cpu = _extract(mixed_folder, tmp_path / "cpu", random_encoder, None)
    gpu_report, gpu_keys, gpu = _extract(mixed_folder, tmp_path / "gpu", random_encoder, device)
    assert device.calls > 0
    assert gpu_keys == cpu_keys and len(cpu_keys) == 7  # 5 photos, the PNG, the large one
    assert gpu_report.failed == cpu_report.failed and [p for p, _ in gpu_report.failed][0].endswith("broken.jpg")
    cosine = (cpu * gpu).sum(1) / np.linalg.norm(cpu, axis=1) / np.linalg.norm(gpu, axis=1)
    by_key = dict(zip(gpu_keys, cosine))
    # Same pixels recipe up to Pillow's fixed-point rounding (measured cosine >= 0.99998). Where the CPU path's
    # JPEG draft mode decoded at half scale (both sides >= 448 px: large.jpg, one 500x461 photo) it is lower
    # (measured 0.9989 and 0.9997).
    assert min(by_key.values()) > 0.998, by_key
    assert sorted(by_key.values())[2] > 0.99995, by_key
    np.testing.assert_array_equal(gpu[gpu_keys.index("as_png.png")], cpu[cpu_keys.index("as_png.png")])


def test_a_jpeg_the_device_refuses_falls_back_to_the_cpu_in_order(mixed_folder):
    items, _, _ = find_images([str(mixed_folder)])
    device = PillowAsNvImageCodec(refuse=open(items[0].path, "rb").read()[:4096])  # refuses the first photo
    host = list(decoded_batches(items, 224, 8, gpu=None))
    dev = list(decoded_batches(items, 224, 8, gpu=device))
    assert [[it.key for it in good] for good, *_ in dev] == [[it.key for it in good] for good, *_ in host]
    for (_, hp, hc, hb), (_, dp, dc, db) in zip(host, dev):
        assert hc == dc and [(i.key, r) for i, r in hb] == [(i.key, r) for i, r in db]
        assert np.asarray(dp).dtype == np.uint8 and np.asarray(dp).shape == hp.shape
    # The refused photo went through the CPU path: bit-identical rows.
    np.testing.assert_array_equal(np.asarray(dev[0][1])[0], host[0][1][0])


@pytest.mark.backend_independent  # Pillow in processes and threads
def test_process_decoding_equals_thread_decoding(mixed_folder):
    items, _, _ = find_images([str(mixed_folder)])
    threads = list(decoded_batches(items, 224, 4, workers=2, processes=False))
    processes = list(decoded_batches(items, 224, 4, workers=2, processes=True))
    assert len(threads) == len(processes)
    for (tg, tp, tc, tb), (pg, pp, pc, pb) in zip(threads, processes):
        assert tg == pg and tc == pc and tb == pb
        np.testing.assert_array_equal(tp, pp)


def test_decode_choice_says_what_is_missing():
    from captioner.base.errors import UsageError

    assert gpu_decoder("cpu") is None
    assert gpu_decoder("auto") is None  # no nvImageCodec (and no GPU) here: the CPU path, silently
    with pytest.raises(UsageError, match="--decode gpu: nvImageCodec is not installed"):
        gpu_decoder("gpu")
