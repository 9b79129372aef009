"""Streaming a folder through encoder + search (or the classifier) into a results file, one batch at a time.

The model side is anything with `frames` and `records(features) -> [dict]`: a `Captioner` ({"caption"}) or a
`Labeller` ({"label", "probability", "top"})."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from captioner.base.progress import Progress
from captioner.engines.outputs import ResultWriter
from captioner.features.clip_features import cached_inputs
from captioner.features.extraction import cache_keys, encoded_locally, is_cached
from captioner.features.notices import skipped
from captioner.inputs.gpu_decoding import gpu_decoder


@dataclass
class FolderReport:
    total: int = 0
    captioned: int = 0
    kept: int = 0  # taken over from an earlier run (--resume)
    failed: int = 0
    seconds: float = 0.0
    unit: str = "images"  # or "clips"
    verb: str = "captioned"  # or "classified"

    def summary(self) -> str:
        rate = self.captioned / self.seconds if self.seconds else 0.0
        return (f"{self.total} files: {self.captioned} {self.verb} ({rate:.1f} {self.unit}/s), "
                f"{self.kept} kept from the earlier output, {self.failed} failed")


def caption_folder(items, problems, root, earlier: dict, encoder, captioner, out_path: str, batch_size: int,
                   cache=None, show_progress: bool = True, engine=None) -> FolderReport:
    """`engine(items, batch_size) -> EncodedBatch...` with records runs encoder and search elsewhere (Ray);
    `encoder` is then unused, and `captioner` captions only what the cache already holds."""
    report = FolderReport(total=len(items) + len(problems), unit="clips" if captioner.frames else "images",
                          verb=getattr(captioner, "verb", "captioned"))
    kept = [{**earlier[it.key], "input": it.key} for it in items if it.key in earlier]
    report.kept = len(kept)
    writer = ResultWriter(out_path, kept)
    start = time.perf_counter()
    try:
        for path, reason in problems:
            writer.write({"input": os.path.relpath(path, root).replace(os.sep, "/"), "error": reason})
            skipped(path, reason)
            report.failed += 1
        todo = [it for it in items if it.key not in earlier]
        cached = [it for it in todo if cache is not None and is_cached(cache, it)]
        fresh = [it for it in todo if cache is None or not is_cached(cache, it)]
        frames = captioner.frames
        progress = Progress(len(todo), "clip" if frames else "img", "caption ", enabled=show_progress)
        for start_at in range(0, len(cached), 256):
            chunk = cached[start_at:start_at + 256]
            for item, record in zip(chunk, captioner.records(cached_inputs(cache, [it.key for it in chunk], frames))):
                writer.write({"input": item.key, **record})
            writer.flush()
            report.captioned += len(chunk)
            progress.update(len(chunk))
        for batch in _encoded(fresh, encoder, captioner, batch_size, engine):
            records = []
            for item, reason in batch.bad:
                records.append({"input": item.key, "error": reason})
                skipped(item.path, reason)
            if batch.good:
                if cache is not None:
                    cache.append(cache_keys(batch.good, batch.counts), batch.features)
                records += [{"input": it.key, **record} for it, record in zip(batch.good, batch.records)]
            for record in sorted(records, key=lambda r: r["input"]):
                writer.write(record)
            writer.flush()
            report.captioned += len(batch.good)
            report.failed += len(batch.bad)
            progress.update(len(batch.good), skipped=len(batch.bad))
        progress.close()
        writer.commit()
    finally:
        writer.close()  # on an error the journal stays, for --resume
    report.seconds = time.perf_counter() - start
    return report


def _encoded(items, encoder, captioner, batch_size: int, engine):
    """Batches with their records, from `engine` or made here."""
    if not items:
        return []
    if engine is not None:
        return engine(items, batch_size)

    def describe(features, counts):
        return captioner.records_of_rows(features, counts)

    return encoded_locally(items, encoder, batch_size, gpu_decoder("auto"), describe)


