"""The batch jobs of the Python API: extract features into a cache, train a model, evaluate one on a split.
Each is what the command of the same name runs; the commands add only argument parsing and printing."""

from __future__ import annotations

import os

from captioner.api.engine_options import EngineOptions
from captioner.inputs.filetypes import DEFAULT_FRAMES


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


def train(out: str, cache: str, captions=None, images: str | None = None, labels=None, weights: str = "imagenet",
          seed: int = 0, precision: str = "fp32", frames: int | None = None, frame_encoder: str = "lstm",
          epochs: int = 200, patience: int | None = None, batch_size: int | None = None,
          learning_rate: float | None = None,
          units: int = 256, embed_dim: int = 256, dropout: float = 0.3, design: str = "inject", min_count: int = 1,
          max_length: int | None = None, resume: bool = False, show_progress: bool = False, objective: str = "xe",
          init: str | None = None, samples: int = 5, baseline: str = "mean", label_smoothing: float = 0.0,
          stop_on: str = "loss", frame_size: int = 64, cnn: dict | None = None, summary: bool = False) -> dict:
    """Train a caption model on `captions` (a caption file in any supported layout, or a loaded `CaptionSet`)
    with its images under `images`, or an activity classifier on `labels` (a UCF101-layout folder, or a loaded
    `LabelSet`); features come from (and missing ones are extracted into) the cache `cache`. Writes the bundle
    to `out` (checkpoints every epoch, `resume` continues a killed run) and returns its training summary
    (epochs, best_epoch, best_val_loss, seconds_per_epoch, val_bleu_greedy or val_top1, skipped_images or
    skipped_clips, settings, stopped_early: whether early stopping ended it rather than the `epochs` cap).
    `frames` (default 16 for clip caption files) makes a clip model. `batch_size` is captions per step (default
    128; clips per step for a classifier: 128, or 16 with its own CNN), `learning_rate` Adam's (default 3e-3),
    `label_smoothing` the share of each target word's probability spread over the vocabulary (default 0: plain
    cross-entropy), `stop_on` what picks the best epoch and stops training: "loss" (validation loss) or "cider"
    (greedy validation CIDEr-D); `patience` epochs without a better one end it (default 3; 8 for a model with its
    own CNN).

    `frame_encoder` "lstm" (an LSTM over the VGG16 frame vectors), "mean" (their mean), or "cnn": a clip model
    (either head) with its own small CNN, trained with it from the frames as `frame_size` x `frame_size` pixels
    (kept in a pixel cache under `cache`; no VGG16, so `weights` does not apply); `cnn` sizes it
    ({"filters": 16, "blocks": 3, "dense": 64} by default). `summary` prints the model's layers before training.

    `objective="cider"` fine-tunes the caption model `init` by self-critical training instead: `samples`
    captions sampled per image, CIDEr-D as the reward, `baseline` "mean" (the other samples' mean reward) or
    "greedy"; `batch_size` is then images per step (default 32), `learning_rate` defaults to 2e-4, early stopping
    is on validation CIDEr-D with the default search (beam 3), and the bundle keeps the starting model's summary
    with `objective`, `best_val_cider` and `scst_history` (per epoch: reward, baseline, loss, val_cider, seconds)
    added; sizes and vocabulary are the init model's."""
    from captioner.base.errors import UsageError
    from captioner.training.train import TrainSettings

    if (captions is None) == (labels is None):
        raise UsageError("train needs captions (with images) or labels, not both")
    if os.path.abspath(out) == os.path.abspath(cache):
        raise UsageError(f"{out}: --out and --cache are the same folder; a model bundle and a feature cache need "
                         "a folder each")
    if objective not in ("xe", "cider"):
        raise UsageError(f"objective {objective!r}: xe or cider")
    if objective == "cider":
        return _self_critical(out, cache, captions, images, init, weights, seed, epochs, patience or 3, batch_size,
                              learning_rate, samples, baseline, resume, show_progress)
    if stop_on not in ("loss", "cider"):
        raise UsageError(f"stop_on {stop_on!r}: loss or cider")
    if not 0.0 <= label_smoothing < 1.0:
        raise UsageError(f"label smoothing {label_smoothing}: give a share in [0, 1)")
    fp, frame_cnn = _frame_inputs(weights, seed, precision, frame_encoder, frame_size, cnn)
    batch_size, learning_rate = batch_size or _default_batch_size(labels is not None, frame_cnn), learning_rate or 3e-3
    from captioner.training.train import CNN_PATIENCE

    patience = patience or (CNN_PATIENCE if frame_cnn is not None else 3)
    if labels is not None:
        from captioner.datasets.ucf101 import load_labels
        from captioner.training.train_classifier import train_classifier

        labels = load_labels(labels, seed=seed) if isinstance(labels, str) else labels
        settings = TrainSettings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                 patience=patience, seed=seed)
        return train_classifier(labels, cache, out, fp, weights, settings, frames or DEFAULT_FRAMES, frame_encoder,
                                units=units, dropout=dropout, resume=resume, show_progress=show_progress,
                                cnn=frame_cnn, summary=summary)
    from captioner.datasets import load_captions
    from captioner.training.train import train as train_decoder

    if images is None:
        raise UsageError("train on captions needs images: the folder the caption file's names are relative to")
    captions = load_captions(captions) if isinstance(captions, str) else captions
    frames = frames or (DEFAULT_FRAMES if captions.kind == "clip" else 0)
    if frame_cnn is not None and not frames:
        raise UsageError(f"{captions.source}: names images; frame_encoder cnn is for clip models (or give frames)")
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, patience=patience,
                             min_count=min_count, max_length=max_length, seed=seed, label_smoothing=label_smoothing,
                             stop_on=stop_on)
    return train_decoder(captions, images, cache, out, fp, weights, settings, design=design, units=units,
                         embed_dim=embed_dim, dropout=dropout, resume=resume, show_progress=show_progress,
                         frames=frames, frame_encoder=frame_encoder, cnn=frame_cnn, summary=summary)


def _default_batch_size(classifier: bool, frame_cnn) -> int:
    if classifier and frame_cnn is not None:
        from captioner.training.train_classifier import CNN_BATCH_SIZE

        return CNN_BATCH_SIZE
    return 128


def _frame_inputs(weights: str, seed: int, precision: str, frame_encoder: str, frame_size: int, cnn: dict | None):
    """(the fingerprint of the model's inputs, its FrameCnn or None): VGG16 features, or for frame_encoder "cnn"
    frames as pixels."""
    from captioner.base.errors import UsageError
    from captioner.features.encoder import fingerprint
    from captioner.features.pixels import pixel_fingerprint
    from captioner.models.frame_reader import FRAME_ENCODERS

    if frame_encoder not in FRAME_ENCODERS:
        raise UsageError(f"frame_encoder {frame_encoder!r}: one of {', '.join(FRAME_ENCODERS)}")
    if frame_encoder != "cnn":
        if cnn is not None:
            raise UsageError("cnn sizes go with frame_encoder cnn")
        return fingerprint(weights, seed, precision), None
    from captioner.models.frame_cnn import FrameCnn

    if weights != "imagenet" or precision != "fp32":
        raise UsageError("frame_encoder cnn trains its own CNN from the pixels: weights and precision (VGG16's) "
                         "do not apply")
    fp = pixel_fingerprint(frame_size)
    try:
        return fp, FrameCnn(frame_size=frame_size, **(cnn or {}))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"frame CNN: {exc}") from None


def _self_critical(out, cache, captions, images, init, weights, seed, epochs, patience, batch_size, learning_rate,
                   samples, baseline, resume, show_progress) -> dict:
    from captioner.base.errors import UsageError
    from captioner.datasets import load_captions
    from captioner.training.self_critical import ScstSettings, train_self_critical

    if init is None:
        raise UsageError("objective cider fine-tunes a trained caption model: give init (--init MODEL_DIR)")
    if images is None:
        raise UsageError("self-critical training needs captions and images")
    captions = load_captions(captions) if isinstance(captions, str) else captions
    settings = ScstSettings(epochs=epochs, batch_size=batch_size or ScstSettings.batch_size,
                            learning_rate=learning_rate or ScstSettings.learning_rate,
                            patience=patience, samples=samples, baseline=baseline, seed=seed)
    weights = None if weights == "imagenet" else weights  # the init model's encoder unless a file is named
    return train_self_critical(captions, images, cache, init, out, weights, settings, resume, show_progress)


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
