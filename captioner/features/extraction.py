"""Images -> encoder -> cache, with decoding overlapped with the forward pass. Used by `extract` and `train`."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Iterator

import numpy as np

from captioner.base.progress import Progress
from captioner.features.cache import FeatureCache
from captioner.inputs.frames import load_item
from captioner.inputs.gpu_decoding import jpeg_bytes, resize_on_device
from captioner.inputs.images import ImageError, ImageFile


@dataclass
class ExtractReport:
    total: int = 0  # images considered
    cached: int = 0  # already in the cache before this run
    extracted: int = 0
    frames: int = 0  # encoder inputs: one per image, the sampled frames of each clip
    clips: bool = False  # whether any item was a clip (the summary then counts frames too)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    root: str = ""  # the folder keys are relative to (the `extract` job sets it)

    @property
    def rate(self) -> float:
        return self.extracted / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.clips:
            frame_rate = self.frames / self.seconds if self.seconds > 0 else 0.0
            return (f"{self.total} files: {self.extracted} extracted ({self.frames} frames, {frame_rate:.1f} frames/s), "
                    f"{self.cached} already cached, {len(self.failed)} skipped")
        return (f"{self.total} images: {self.extracted} extracted ({self.rate:.1f} images/s), "
                f"{self.cached} already cached, {len(self.failed)} skipped")


def decode_item(item: ImageFile, size: int):
    """(item, pixels, None) or (item, None, reason); module-level so that a process pool can run it."""
    try:
        return item, load_item(item, size), None
    except ImageError as exc:
        return item, None, str(exc)


def _chunks(items: list[ImageFile], batch_size: int) -> Iterator[list[ImageFile]]:
    """Items in runs of about `batch_size` frames (an image is one frame, a clip up to its N)."""
    chunk, frames = [], 0
    for item in items:
        chunk.append(item)
        frames += item.frames or 1
        if frames >= batch_size:
            yield chunk
            chunk, frames = [], 0
    if chunk:
        yield chunk


def decoded_batches(items: list[ImageFile], size: int, batch_size: int, workers: int | None = None, gpu=None,
                    processes: bool | None = None
                    ) -> Iterator[tuple[list[ImageFile], object, list[int], list[tuple[ImageFile, str]]]]:
    """(good items, (frames, size, size, 3) uint8 pixels, frames per good item, [(item, reason)] failures) per batch.

    An image gives one frame, a clip its sampled frames (in order). Decoding runs ahead of the encoder:
    - on the CPU in threads (PIL and PyAV release the GIL while decoding and resizing), or in processes when
      there are many cores (`processes`, default: 8 cores or more), where the GIL would cap threads;
    - with `gpu` (a `gpu_decoding` decoder), JPEGs are read ahead in threads and decoded and resized on the
      device (the pixels are then a device tensor); everything else still goes through the CPU path.
    """
    cores = os.cpu_count() or 2
    workers = workers or max(2, min(16, cores))
    processes = (cores >= 8 and gpu is None) if processes is None else processes
    ahead = 2 if workers <= 2 else 4
    chunks = _chunks(items, batch_size)
    job = partial(_read_for_gpu, size=size) if gpu is not None else partial(decode_item, size=size)
    with _pool(workers, processes) as pool:
        # At most `ahead` batches decode ahead: memory stays bounded whatever the folder size.
        pending = []
        while True:
            while len(pending) < ahead:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                pending.append([pool.submit(job, it) for it in chunk])
            if not pending:
                return
            results = [f.result() for f in pending.pop(0)]
            yield _on_device(results, gpu, size) if gpu is not None else _on_host(results, size)


def _pool(workers: int, processes: bool):
    if not processes:
        return ThreadPoolExecutor(max_workers=workers)
    # spawn, not fork: the parent holds TensorFlow/JAX threads that a forked child must not inherit.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _on_host(results, size: int):
    good = [(it, arr) for it, arr, err in results if err is None]
    bad = [(it, err) for it, _, err in results if err is not None]
    pixels = np.concatenate([a for _, a in good]) if good else np.empty((0, size, size, 3), np.uint8)
    return [it for it, _ in good], pixels, [len(a) for _, a in good], bad


def _read_for_gpu(item: ImageFile, size: int):
    """(item, JPEG bytes, None, None) for the device, or the CPU path's (item, None, pixels, reason)."""
    data = jpeg_bytes(item)
    if data is not None:
        return item, data, None, None
    _, pixels, reason = decode_item(item, size)
    return item, None, pixels, reason


def _on_device(results, gpu, size: int):
    """Decode a batch's JPEGs on the device; what the device cannot decode goes through the CPU path."""
    from captioner.base.compile import from_dlpack

    results = list(results)
    on_gpu = [i for i, (_, data, _, _) in enumerate(results) if data is not None]
    decoded = gpu.decode([results[i][1] for i in on_gpu]) if on_gpu else []
    device_images = {}
    for i, image in zip(on_gpu, decoded):
        if image is None:
            item = results[i][0]
            _, pixels, reason = decode_item(item, size)  # a JPEG nvImageCodec refused: Pillow decodes it or says why
            results[i] = (item, None, pixels, reason)
        else:
            device_images[i] = from_dlpack(image)
    good = [i for i, (_, _, pixels, reason) in enumerate(results) if i in device_images or reason is None]
    bad = [(it, reason) for it, data, _, reason in results if data is None and reason is not None]
    if not good:
        return [], np.empty((0, size, size, 3), np.uint8), [], bad
    resized = resize_on_device([device_images[i] for i in good if i in device_images], size) \
        if device_images else None
    counts = [1 if i in device_images else len(results[i][2]) for i in good]
    if len(device_images) == len(good):
        pixels = resized
    else:  # a mix: host arrays join the device rows in order
        from captioner.base.backend import import_keras

        ops = import_keras().ops
        parts, row = [], 0
        for i in good:
            if i in device_images:
                parts.append(resized[row:row + 1])
                row += 1
            else:
                parts.append(ops.convert_to_tensor(results[i][2]))
        pixels = ops.concatenate(parts)
    return [results[i][0] for i in good], pixels, counts, bad


@dataclass
class EncodedBatch:
    """A batch of files after the encoder, from whichever engine ran it (local, or Ray)."""

    good: list[ImageFile]
    features: np.ndarray | None  # (frames, D) float32: the good items' rows, in order (None when none is good)
    counts: list[int]  # frames per good item
    bad: list[tuple[ImageFile, str]]  # (item, reason)
    records: list[dict] | None = None  # caption-folder's record of each good item, where the engine made them


def encoded_locally(items: list[ImageFile], encoder, batch_size: int, gpu=None, describe=None
                    ) -> Iterator[EncodedBatch]:
    """The local engine: decoding in threads (or on the GPU) overlapped with the encoder in this process.

    `describe(features, counts) -> [record]`, if given, makes each good item's record from its features."""
    for good, pixels, counts, bad in decoded_batches(items, encoder.input_size, batch_size, gpu=gpu):
        features = encoder.encode(pixels) if good else None
        records = describe(features, counts) if describe is not None and good else None
        yield EncodedBatch(good, features, counts, bad, records)


def is_cached(cache: FeatureCache, item: ImageFile) -> bool:
    return item.cache_keys(1)[0] in cache


def cache_keys(items: list[ImageFile], counts: list[int]) -> list[str]:
    """The cache keys of a decoded batch's rows, in order."""
    return [key for item, count in zip(items, counts) for key in item.cache_keys(count)]


def extract_to_cache(items: list[ImageFile], encoder, cache: FeatureCache, batch_size: int = 32,
                     show_progress: bool = True, on_failure=None, gpu=None, engine=None) -> ExtractReport:
    """Encode every image or clip not yet in `cache`; commit after each batch so a kill loses at most one batch.

    `gpu`: a `gpu_decoding` decoder, to decode JPEGs on the device (None: on the CPU).
    `engine(items, batch_size) -> EncodedBatch...` runs the encoder elsewhere (Ray); `encoder` is then unused."""
    report = ExtractReport(total=len(items), clips=any(it.frames for it in items))
    todo = [it for it in items if not is_cached(cache, it)]
    report.cached = len(items) - len(todo)
    progress = Progress(len(todo), "clip" if report.clips else "img", "extract ", enabled=show_progress)
    batches = engine(todo, batch_size) if engine is not None else encoded_locally(todo, encoder, batch_size, gpu)
    start = time.perf_counter()
    # Commits (write + fsync) run in their own thread, one in flight, in order: the encoder never waits on disk.
    with ThreadPoolExecutor(max_workers=1) as committer:
        writing = None
        for batch in batches:
            for item, reason in batch.bad:
                report.failed.append((item.path, reason))
                if on_failure:
                    on_failure(item.path, reason)
            if batch.good:
                if writing is not None:
                    writing.result()  # surfaces a failed write here
                # One append per batch: a clip's frames are committed together or not at all.
                writing = committer.submit(cache.append, cache_keys(batch.good, batch.counts), batch.features)
                report.extracted += len(batch.good)
                report.frames += len(batch.features)
            progress.update(len(batch.good), skipped=len(batch.bad))
        if writing is not None:
            writing.result()
    progress.close()
    report.seconds = time.perf_counter() - start
    cache.compact()
    return report
