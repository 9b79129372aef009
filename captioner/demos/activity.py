"""`demo --activity`: the drawn moving-shape clips as a 4-class activity set (left, right, up, down) in the UCF101
layout -> frames -> classifier -> test top-1, per-class accuracy, confusion, and a few clips classified."""

from __future__ import annotations

import os
import time


def run_activity_demo(workdir: str, weights: str, clips: int, frames: int, epochs: int, quiet: bool,
                      frame_encoder: str = "lstm") -> int:
    """`frame_encoder` "cnn": no VGG16; the classifier trains its own CNN on the frames' pixels."""
    from captioner.drawn.activities import write_activity_set
    from captioner.datasets.ucf101 import load_labels
    from captioner.evaluation.classification import Labeller, evaluate_classifier
    from captioner.features.cache import FeatureCache
    from captioner.features.clip_features import cached_inputs
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import features_for_job
    from captioner.features.pixels import pixel_fingerprint
    from captioner.models.classifier_bundle import load_classifier_bundle
    from captioner.models.model_configs import ClassifierConfig, FrameCnn
    from captioner.training.train import CNN_PATIENCE, TrainSettings
    from captioner.training.train_classifier import CNN_BATCH_SIZE, train_classifier

    started = time.perf_counter()
    root, cache_dir, model_dir = (os.path.join(workdir, n) for n in ("clips", "cache", "model"))
    if not os.path.exists(os.path.join(root, "testlist01.txt")):
        write_activity_set(root, num_clips=clips)
    labels = load_labels(root)
    cnn = FrameCnn() if frame_encoder == "cnn" else None
    fp = pixel_fingerprint(cnn.frame_size) if cnn else fingerprint(weights)
    print(f"1. activity set: {len(labels.clips)} drawn clips in {len(labels.classes)} classes "
          f"({', '.join(labels.classes)}), UCF101 layout in {root}; {labels.split_source}")
    print(f"   encoder: {fp.describe()}")
    resume = os.path.exists(os.path.join(model_dir, "checkpoints", "state.json"))
    settings = TrainSettings(epochs=epochs, patience=CNN_PATIENCE if cnn else 4,
                             batch_size=CNN_BATCH_SIZE if cnn else TrainSettings.batch_size)
    config = ClassifierConfig(classes=len(labels.classes), frames=frames, feature_dim=fp.dim,
                              frame_encoder=frame_encoder, cnn=cnn)
    features = features_for_job(cache_dir, fp, labels.training_keys(), root, weights, not quiet, frames)
    summary = train_classifier(labels, features, model_dir, config, settings, resume=resume, show_progress=not quiet)
    print(f"2. trained {summary['epochs']} epochs (best {summary['best_epoch']}), {summary['seconds_per_epoch']} "
          f"s/epoch; validation top-1 {summary['val_top1']:.0%}; classifier bundle in {model_dir}")
    bundle = load_classifier_bundle(model_dir)
    report = evaluate_classifier(bundle, labels, "test", cache_dir, weights, show_progress=not quiet)
    print("3. test split:\n" + "\n".join("   " + line for line in report.table().splitlines()))
    print("4. a few test clips:")
    keys = [p["input"] for p in report.predictions[:4]]
    with FeatureCache.open(cache_dir, bundle.encoder) as cache:
        ranked = Labeller(bundle, 2).top(cached_inputs(cache, keys, bundle.frames))
    for key, top in zip(keys, ranked):
        print(f"   {key}: " + ", ".join(f"{c} {p:.2f}" for c, p in top))
    if fp.is_random:
        print("note: RANDOM encoder weights: fine for drawn shapes, not for real video; use --weights imagenet")
    print(f"done in {time.perf_counter() - started:.0f} s. Try:\n"
          f"  python -m captioner classify --model {model_dir} {os.path.join(root, keys[0])} --top-k 2")
    return 0
