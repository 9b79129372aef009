"""Benchmark of the activity classifier on drawn moving-shape clips: does the order of frames matter?

Usage:
    python -m benchmarks activity_frame_order [--workdir DIR] [--clips N] [--frames N] [--seed S] [--json OUT]

On one drawn 4-class set in the UCF101 layout (left/right/up/down; MP4 + GIF; trainlist01/testlist01 80/20 per
class; random encoder), with default settings plus --frames, it trains:
  lstm      the LSTM frame encoder (the default)
  mean      the mean of the frame vectors (the mean-pool baseline)
  middle    the LSTM on one frame, the middle one of the sampled frames
  shuffled  the LSTM on the frames in a random order (train and test)
and prints test top-1 accuracy and training s/epoch. Chance is 25%: the set is drawn so that neither one frame
nor the mean of the frames tells the directions apart. The docs' numbers come from seed 1 (the demo and the
tests use seed 0).
"""

from __future__ import annotations

import os
import sys

from benchmarks.measuring import (derived_cache, drawn_once, machine, parse_then_import_backend, save_results,
                                  workdir_parser)


def main(argv=None) -> int:
    args = parse_then_import_backend(workdir_parser(__doc__, "bench-activity", "bench_activity.json", clips=True), argv)

    from captioner.drawn.activities import write_activity_set
    from captioner.datasets.ucf101 import load_labels
    from captioner.evaluation.classification import evaluate_classifier
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import features_for_job
    from captioner.models.classifier_bundle import load_classifier_bundle
    from captioner.models.model_configs import ClassifierConfig
    from captioner.training.train import TrainSettings
    from captioner.training.train_classifier import train_classifier

    root = os.path.join(args.workdir, "clips")
    drawn_once(root, "testlist01.txt", lambda d: write_activity_set(d, num_clips=args.clips, seed=args.seed))
    labels = load_labels(root)
    base_cache = os.path.join(args.workdir, "cache-lstm")
    results = {"machine": machine(),
               "dataset": f"{len(labels.clips)} drawn clips in {len(labels.classes)} classes, seed {args.seed}, "
                          f"{args.frames} frames; {labels.split_source}", "variants": {}}
    for name in ("lstm", "mean", "middle", "shuffled"):
        cache = base_cache
        if name in ("middle", "shuffled"):
            cache = os.path.join(args.workdir, f"cache-{name}")
            derived_cache(base_cache, cache, sorted(labels.clips), args.frames, name)
        model_dir = os.path.join(args.workdir, f"model-{name}")
        if not os.path.exists(os.path.join(model_dir, "config.json")):
            spec = fingerprint("random")
            config = ClassifierConfig(classes=len(labels.classes), frames=args.frames, feature_dim=spec.dim,
                                      frame_encoder="mean" if name == "mean" else "lstm")
            features = features_for_job(cache, spec, labels.training_keys(), root, "random", False, args.frames)
            train_classifier(labels, features, model_dir, config, TrainSettings(), show_progress=False)
        bundle = load_classifier_bundle(model_dir)
        report = evaluate_classifier(bundle, labels, "test", cache, "random", show_progress=False)
        results["variants"][name] = {"top1": round(report.top1, 4), "test_clips": len(report.predictions),
                                     "epochs": bundle.training["epochs"],
                                     "seconds_per_epoch": bundle.training["seconds_per_epoch"],
                                     "per_class": {c: v["accuracy"] for c, v in report.per_class.items()}}
        print(f"{name}: {results['variants'][name]}", file=sys.stderr, flush=True)
    lines = [results["dataset"], "", "| frame encoder | test top-1 | epochs | s/epoch |", "| --- | --- | --- | --- |"]
    names = {"lstm": "lstm", "mean": "mean-pool", "middle": "one middle frame", "shuffled": "lstm, shuffled frames"}
    for name, r in results["variants"].items():
        lines.append(f"| {names[name]} | {r['top1']:.1%} ({r['test_clips']} clips) | {r['epochs']} | "
                     f"{r['seconds_per_epoch']} |")
    save_results(results, args, "bench_activity.json", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
