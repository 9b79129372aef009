"""Captioning or classifying a folder into a results file: what `caption-folder` and `classify --out` run."""

from __future__ import annotations

import os

from captioner.api.engine_options import EngineOptions
from captioner.base.errors import UsageError
from captioner.engines.folder_captioning import FolderReport, caption_folder as stream_folder
from captioner.engines.outputs import earlier_captions, output_format, read_results
from captioner.engines.ray_engine import check_engine_options
from captioner.features.cache import FeatureCache
from captioner.features.extraction import is_cached
from captioner.inputs.filetypes import looks_like_media
from captioner.inputs.images import ImageFile, find_images
from captioner.report.report_file import check_html_path, write_report


def caption_folder(model, folder: str, out: str, recursive: bool, beam_size: int, length_penalty: float,
                   cache_dir: str | None, batch_size: int, resume: bool, html: str | None, engine: EngineOptions,
                   show_progress: bool) -> FolderReport:
    output_format(out)
    check_engine_options(engine)
    if html:
        check_html_path(html)
    if not os.path.isdir(folder):
        raise UsageError(f"{folder}: not a folder")
    bundle = model.bundle
    # Images and clips alike are listed: the kind the model does not take is reported, not passed over.
    items, problems, _ = find_images([folder], root=folder, recursive=recursive, accept=looks_like_media)
    items = [ImageFile(it.key, it.path, bundle.frames) for it in items]
    earlier = earlier_captions(out) if resume else {}
    captioner = model.captioner(beam_size, 1, length_penalty)
    todo = [it for it in items if it.key not in earlier]
    cache = FeatureCache.open(cache_dir, bundle.encoder, writable=True) if cache_dir else None
    try:
        fresh = [it for it in todo if cache is None or not is_cached(cache, it)]  # what needs the encoder
        if engine.engine == "ray" and fresh:
            report = _caption_on_ray(model, engine, folder, out, beam_size, length_penalty, batch_size, items,
                                     problems, earlier, captioner, cache, show_progress)
        else:
            report = stream_folder(items, problems, folder, earlier, model.encoder if fresh else None, captioner,
                                   out, batch_size, cache, show_progress=show_progress)
    finally:
        if cache is not None:
            cache.compact()
            cache.close()
    if html:
        _write_page(html, out, folder, bundle, {it.key: it.path for it in items})
    return report


def _caption_on_ray(model, engine, folder, out, beam_size, length_penalty, batch_size, items, problems, earlier,
                    captioner, cache, show_progress):
    """Encoder and search in Ray's actors, each loading the bundle (so it must be readable on every node)."""
    from captioner.engines.ray_engine import ray_engine, weights_for_workers
    from captioner.engines.ray_stages import CaptionFiles
    from captioner.features.features_for import encoder_args

    weights, seed, precision = encoder_args(model.bundle.encoder, model.weights)  # checked here, built there
    stage_args = {"weights": weights_for_workers(weights), "seed": seed, "precision": precision,
                  "model": os.path.abspath(model.directory), "beam_size": beam_size, "length_penalty": length_penalty,
                  "feature_dtype": cache.dtype.name if cache is not None else None}
    with ray_engine(engine, CaptionFiles, stage_args) as run_on_ray:
        return stream_folder(items, problems, folder, earlier, None, captioner, out, batch_size, cache,
                             show_progress=show_progress, engine=run_on_ray)


def _write_page(html: str, out: str, folder: str, bundle, paths: dict[str, str]) -> None:
    """The page is made from the finished results file, so a resumed run shows every image, old and new."""
    records = [{**r, "path": paths[r["input"]]} if r["input"] in paths else r for r in read_results(out)]
    write_report(html, {"folder": folder, "model": bundle.directory, "frames": bundle.frames,
                        "encoder_weights": bundle.encoder.weights, "training": bundle.training,
                        "captions": sorted(records, key=lambda r: r["input"])})


def classify_files(model, paths: list[str], out: str, top_k: int, cache_dir: str | None, batch_size: int,
                   show_progress: bool) -> FolderReport:
    """Every clip under `paths` (files and folders) exactly once into the JSONL file `out`, atomically."""
    from captioner.inputs.images import default_root

    if not out.lower().endswith(".jsonl"):
        raise UsageError(f"{out}: classify writes JSONL; name the file .jsonl")
    root = default_root(paths)
    items, problems, _ = find_images(paths, root=root, accept=looks_like_media)
    if not items and not problems:
        raise UsageError(f"{' '.join(paths)}: no clip files found")
    items = [ImageFile(it.key, it.path, model.frames) for it in items]
    cache = FeatureCache.open(cache_dir, model.bundle.encoder, writable=True) if cache_dir else None
    try:
        return stream_folder(items, problems, root, {}, model.encoder if items else None, model.labeller(top_k),
                             out, batch_size, cache, show_progress=show_progress)
    finally:
        if cache is not None:
            cache.compact()
            cache.close()
