"""Images -> encoder -> cache, with decoding overlapped with the forward pass. Used by `extract` and `train`."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from captioner.features import FeatureCache
from captioner.frames import load_item
from captioner.images import ImageError, ImageFile
from captioner.progress import Progress


@dataclass
class ExtractReport:
    total: int = 0  # images considered
    cached: int = 0  # already in the cache before this run
    extracted: int = 0
    frames: int = 0  # encoder inputs: one per image, the sampled frames of each clip
    clips: bool = False  # whether any item was a clip (the summary then counts frames too)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0

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


def _decode(item: ImageFile, size: int):
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


def decoded_batches(items: list[ImageFile], size: int, batch_size: int, workers: int | None = None
                    ) -> Iterator[tuple[list[ImageFile], np.ndarray, list[int], list[tuple[ImageFile, str]]]]:
    """(good items, (frames, size, size, 3) uint8, frames per good item, [(item, reason)] failures) per batch.

    An image gives one frame, a clip its sampled frames (in order). Decoding runs ahead in threads: PIL and
    PyAV release the GIL while decoding and resizing, so this overlaps with the encoder's forward pass.
    A fast accelerator needs more decoding threads than a 2-core CPU: one per core, 2 to 16.
    """
    workers = workers or max(2, min(16, os.cpu_count() or 2))
    ahead = 2 if workers <= 2 else 4
    chunks = _chunks(items, batch_size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # At most `ahead` batches decode ahead: memory stays bounded whatever the folder size.
        pending = []
        while True:
            while len(pending) < ahead:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                pending.append([pool.submit(_decode, it, size) for it in chunk])
            if not pending:
                return
            results = [f.result() for f in pending.pop(0)]
            good = [(it, arr) for it, arr, err in results if err is None]
            bad = [(it, err) for it, _, err in results if err is not None]
            pixels = np.concatenate([a for _, a in good]) if good else np.empty((0, size, size, 3), np.uint8)
            yield [it for it, _ in good], pixels, [len(a) for _, a in good], bad


def is_cached(cache: FeatureCache, item: ImageFile) -> bool:
    return item.cache_keys(1)[0] in cache


def cache_keys(items: list[ImageFile], counts: list[int]) -> list[str]:
    """The cache keys of a decoded batch's rows, in order."""
    return [key for item, count in zip(items, counts) for key in item.cache_keys(count)]


def extract_to_cache(items: list[ImageFile], encoder, cache: FeatureCache, batch_size: int = 32,
                     show_progress: bool = True, on_failure=None) -> ExtractReport:
    """Encode every image or clip not yet in `cache`; commit after each batch so a kill loses at most one batch."""
    report = ExtractReport(total=len(items), clips=any(it.frames for it in items))
    todo = [it for it in items if not is_cached(cache, it)]
    report.cached = len(items) - len(todo)
    progress = Progress(len(todo), "clip" if report.clips else "img", "extract ", enabled=show_progress)
    start = time.perf_counter()
    # Commits (write + fsync) run in their own thread, one in flight, in order: the encoder never waits on disk.
    with ThreadPoolExecutor(max_workers=1) as committer:
        writing = None
        for good, pixels, counts, bad in decoded_batches(todo, encoder.input_size, batch_size):
            for item, reason in bad:
                report.failed.append((item.path, reason))
                if on_failure:
                    on_failure(item.path, reason)
            if good:
                features = encoder.encode(pixels)
                if writing is not None:
                    writing.result()  # surfaces a failed write here
                # One append per batch: a clip's frames are committed together or not at all.
                writing = committer.submit(cache.append, cache_keys(good, counts), features)
                report.extracted += len(good)
                report.frames += len(pixels)
            progress.update(len(good) + len(bad))
        if writing is not None:
            writing.result()
    progress.close()
    report.seconds = time.perf_counter() - start
    cache.compact()
    return report
