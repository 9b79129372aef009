"""Images -> encoder -> cache, with decoding overlapped with the forward pass. Used by `extract` and `train`."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from captioner.features import FeatureCache
from captioner.images import ImageError, ImageFile, load_image
from captioner.progress import Progress


@dataclass
class ExtractReport:
    total: int = 0  # images considered
    cached: int = 0  # already in the cache before this run
    extracted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.extracted / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (f"{self.total} images: {self.extracted} extracted ({self.rate:.1f} images/s), "
                f"{self.cached} already cached, {len(self.failed)} skipped")


def _decode(item: ImageFile, size: int):
    try:
        return item, load_image(item.path, size), None
    except ImageError as exc:
        return item, None, str(exc)


def decoded_batches(items: list[ImageFile], size: int, batch_size: int, workers: int | None = None
                    ) -> Iterator[tuple[list[ImageFile], np.ndarray, list[tuple[ImageFile, str]]]]:
    """(good items, (n, size, size, 3) uint8, [(item, reason)] failures) per batch; decoding runs ahead.

    PIL releases the GIL while decoding and resizing, so this overlaps with the encoder's forward pass.
    A fast accelerator needs more decoding threads than a 2-core CPU: one per core, 2 to 16.
    """
    workers = workers or max(2, min(16, os.cpu_count() or 2))
    ahead = 2 if workers <= 2 else 4
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # At most `ahead` batches decode ahead: memory stays bounded whatever the folder size.
        pending = []
        position = 0
        while position < len(items) or pending:
            while position < len(items) and len(pending) < ahead:
                chunk = items[position:position + batch_size]
                position += len(chunk)
                pending.append([pool.submit(_decode, it, size) for it in chunk])
            results = [f.result() for f in pending.pop(0)]
            good = [(it, arr) for it, arr, err in results if err is None]
            bad = [(it, err) for it, _, err in results if err is not None]
            pixels = np.stack([a for _, a in good]) if good else np.empty((0, size, size, 3), np.uint8)
            yield [it for it, _ in good], pixels, bad


def extract_to_cache(items: list[ImageFile], encoder, cache: FeatureCache, batch_size: int = 32,
                     show_progress: bool = True, on_failure=None) -> ExtractReport:
    """Encode every image not yet in `cache`; commit after each batch so a kill loses at most one batch."""
    report = ExtractReport(total=len(items))
    todo = [it for it in items if it.key not in cache]
    report.cached = len(items) - len(todo)
    progress = Progress(len(todo), "img", "extract ", enabled=show_progress)
    start = time.perf_counter()
    # Commits (write + fsync) run in their own thread, one in flight, in order: the encoder never waits on disk.
    with ThreadPoolExecutor(max_workers=1) as committer:
        writing = None
        for good, pixels, bad in decoded_batches(todo, encoder.input_size, batch_size):
            for item, reason in bad:
                report.failed.append((item.path, reason))
                if on_failure:
                    on_failure(item.path, reason)
            if good:
                features = encoder.encode(pixels)
                if writing is not None:
                    writing.result()  # surfaces a failed write here
                writing = committer.submit(cache.append, [it.key for it in good], features)
                report.extracted += len(good)
            progress.update(len(good) + len(bad))
        if writing is not None:
            writing.result()
    progress.close()
    report.seconds = time.perf_counter() - start
    cache.compact()
    return report
