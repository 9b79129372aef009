"""The batch jobs of the Python API: extract features into a cache, train a model, evaluate one on a split.
Each is what the command of the same name runs; the commands add only argument parsing and printing."""

from __future__ import annotations

from captioner.api.engine_options import EngineOptions
from captioner.api.train_job import train  # noqa: F401 (the jobs of the API are read from here)
from captioner.inputs.filetypes import DEFAULT_FRAMES

__all__ = ["extract", "train", "evaluate"]


def extract(paths: list[str], cache: str, weights: str = "imagenet", seed: int = 0, precision: str = "fp32",
            frames: int | None = None, dtype: str | None = None, root: str | None = None, batch_size: int = 32,
            engine: EngineOptions = EngineOptions(), show_progress: bool = False, on_skip=None):
    """Encode image and clip files (and folders of them, recursively) into the feature cache `cache`, skipping
    what it holds already; crash-safe and resumable. Videos are read as `frames` frames (default 16); animated
    GIF/WebP too when `frames` is given, else as images. Keys are paths relative to `root` (default: the common
    folder). `weights`: "imagenet", "random", "random-tiny" or a local VGG16 .h5 file (random ones for tests
    only); `dtype` float16 (default) or float32. `on_skip(path, reason)` is called for each unreadable file.
    Returns the `ExtractReport` (total, cached, extracted, frames, failed [(path, reason)], seconds, root)."""
    from captioner.engines.ray_engine import check_engine_options
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import Encoder, fingerprint
    from captioner.features.extraction import ExtractReport, extract_to_cache, is_cached
    from captioner.features.notices import note_if_random
    from captioner.inputs.filetypes import looks_like_media, looks_like_video
    from captioner.inputs.frames import is_animated
    from captioner.inputs.gpu_decoding import gpu_decoder
    from captioner.inputs.images import ImageFile, find_images

    check_engine_options(engine)
    items, problems, root = find_images(list(paths), root=root, accept=looks_like_media)
    n = frames or DEFAULT_FRAMES
    items = [ImageFile(it.key, it.path, n if looks_like_video(it.path) or (frames and is_animated(it.path)) else 0)
             for it in items]
    for path, reason in problems:
        if on_skip:
            on_skip(path, reason)
    fp = fingerprint(weights, seed, precision)
    gpu = gpu_decoder(engine.decode) if engine.engine == "local" else None
    with FeatureCache.open(cache, fp, dtype, writable=True) as store:
        todo = [it for it in items if not is_cached(store, it)]
        note_if_random(fp)
        if not todo:
            store.compact()
            report = ExtractReport(total=len(items), cached=len(items))
        elif engine.engine == "ray":
            report = _extract_on_ray(engine, weights, seed, precision, items, store, batch_size, show_progress,
                                     on_skip)
        else:
            report = extract_to_cache(items, Encoder(weights, seed, precision), store, batch_size, show_progress,
                                      on_skip, gpu)
    report.failed[:0] = problems
    report.root = root
    return report


def _extract_on_ray(engine, weights, seed, precision, items, store, batch_size, show_progress, on_skip):
    from captioner.engines.ray_engine import ray_engine, weights_for_workers
    from captioner.engines.ray_stages import EncodeFiles
    from captioner.features.extraction import extract_to_cache

    stage_args = {"weights": weights_for_workers(weights), "seed": seed, "precision": precision,
                  "feature_dtype": store.dtype.name}
    with ray_engine(engine, EncodeFiles, stage_args) as run_on_ray:
        return extract_to_cache(items, None, store, batch_size, show_progress, on_skip, engine=run_on_ray)


def evaluate(model, cache: str, captions=None, images: str | None = None, labels=None, split: str | None = "test",
             beam_size: int = 3, length_penalty: float = 0.0, meteor: bool = True, weights: str | None = None,
             show_progress: bool = False):
    """Score a model (a bundle directory, or a model from `load`) on one split (None: every image) of a caption
    set (`captions` file or `CaptionSet`, images under `images`) or, for a classifier, of an activity set
    (`labels`), generating exactly as `caption` does. Features come from (and missing ones go into) `cache`.
    Returns a report with `.metrics` ({bleu1..bleu4, meteor, rouge_l, cider}, or {top1, top5} for a
    classifier), `.items` (one dict per image or clip: its caption or prediction, references, scores),
    `.table()` and `.to_json()`; a caption report also has `.coco_results()`. `meteor=False` skips METEOR (Java)."""
    from captioner.base.errors import UsageError

    directory = model if isinstance(model, str) else model.directory
    if (captions is None) == (labels is None):
        raise UsageError("evaluate needs captions (with images) or labels, not both")
    if labels is not None:
        from captioner.datasets.ucf101 import load_labels
        from captioner.evaluation.classification import evaluate_classifier
        from captioner.models.classifier_bundle import load_classifier_bundle

        bundle = load_classifier_bundle(directory) if isinstance(model, str) else model.bundle
        if isinstance(labels, str):
            labels = load_labels(labels, seed=bundle.training.get("settings", {}).get("seed", 0))
        return evaluate_classifier(bundle, labels, split, cache, weights, show_progress=show_progress)
    from captioner.datasets import load_captions
    from captioner.evaluation.scoring import evaluate as score_split
    from captioner.models.bundle import load_bundle

    if images is None:
        raise UsageError("evaluate on captions needs images: the folder the caption file's names are relative to")
    bundle = load_bundle(directory) if isinstance(model, str) else model.bundle
    captions = load_captions(captions) if isinstance(captions, str) else captions
    captioner = None if isinstance(model, str) else model.captioner(beam_size, 1, length_penalty)
    return score_split(bundle, captions, split, images, cache, beam_size, weights, show_progress=show_progress,
                       length_penalty=length_penalty, meteor=meteor, captioner=captioner)
