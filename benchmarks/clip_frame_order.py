"""Benchmark of the clip models on drawn moving-shape clips: does the order of frames matter?

Usage:
    python -m benchmarks clip_frame_order [--workdir DIR] [--clips N] [--frames N] [--seed S] [--wording plain|other]
                                  [--json OUT]

On one drawn set (MSVD layout, MP4 + GIF, 70/10/20 split, random encoder) it trains, with default settings:
  lstm      the LSTM frame encoder (the project's default)
  mean      the mean of the frame vectors (the mean-pool baseline)
  middle    the LSTM on one frame, the middle one of the sampled frames
  shuffled  the LSTM on the frames in a random order (train and test)
and prints BLEU-1..4, "direction right %" and "colour right %" on the test split (greedy), with training s/epoch.
Chance for the direction is 25% (four directions, the set is drawn so that neither one frame nor the mean of
the frames tells them apart). It also prints extraction frames/s for clips beside images/s for still images,
pure clip decoding frames/s, and captions/s of the clip model.
The docs' numbers come from `--seed 1 --wording other` (not the set the demo and tests use).
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from benchmarks.measuring import drawn_once, machine, parse_then_import_backend, save_results, workdir_parser


def main(argv=None) -> int:
    parser = workdir_parser(__doc__, "bench-clips", "bench_clips.json", clips=True)
    parser.add_argument("--wording", default="other", choices=["plain", "other"], help="caption wording (default: other)")
    parser.add_argument("--epochs", type=int, default=60, help="most epochs per model (default: 60)")
    args = parse_then_import_backend(parser, argv)

    from captioner.datasets import load_captions
    from captioner.drawn.shape_clips import write_synthetic_clips

    data_dir = os.path.join(args.workdir, "data")
    captions = load_captions(drawn_once(data_dir, "captions.csv", lambda d: write_synthetic_clips(
        d, num_clips=args.clips, seed=args.seed, wording=args.wording)))
    results = {"machine": machine(),
               "dataset": f"{len(captions.captions)} drawn clips, seed {args.seed}, wording {args.wording!r}, "
                          f"{args.frames} frames", "speed": measure_speed(args.workdir, data_dir, args.frames)}
    base_cache = os.path.join(args.workdir, "cache-lstm")
    variants = {}
    for name in ("lstm", "mean", "middle", "shuffled"):
        variants[name] = run_variant(name, captions, data_dir, base_cache, args)
        print(f"{name}: {variants[name]}", file=sys.stderr, flush=True)
    results["variants"] = variants
    save_results(results, args, "bench_clips.json", table(results))
    return 0


def measure_speed(workdir: str, data_dir: str, frames: int) -> dict:
    """Clip extraction (frames/s) beside still-image extraction (images/s), and decoding alone."""
    from captioner.drawn.shapes import write_synthetic
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import Encoder
    from captioner.features.extraction import extract_to_cache
    from captioner.inputs.frames import load_clip
    from captioner.inputs.images import ImageFile

    encoder = Encoder("random")
    clips_dir = os.path.join(data_dir, "Clips")
    names = sorted(os.listdir(clips_dir))[:24]
    items = [ImageFile(n, os.path.join(clips_dir, n), frames) for n in names]
    start = time.perf_counter()
    decoded = sum(len(load_clip(it.path, frames)) for it in items)
    decode_rate = decoded / (time.perf_counter() - start)
    images_dir = os.path.join(workdir, "stills")
    write_synthetic(images_dir, num_images=decoded, seed=5)
    stills = [ImageFile(n, os.path.join(images_dir, "Images", n)) for n in sorted(os.listdir(os.path.join(images_dir, "Images")))]
    encoder.encode(np.zeros((32, 224, 224, 3), np.uint8))  # warm up
    rates = {}
    for label, batch in (("clips", items), ("images", stills)):
        with FeatureCache.open(os.path.join(workdir, f"speed-{label}"), encoder.fingerprint, writable=True) as cache:
            report = extract_to_cache(batch, encoder, cache, show_progress=False)
        rates[label] = (report.frames / report.seconds, report.extracted / report.seconds)
    return {"clip_frames_per_s": round(rates["clips"][0], 2), "clips_per_s": round(rates["clips"][1], 2),
            "image_images_per_s": round(rates["images"][1], 2), "decode_frames_per_s": round(decode_rate, 1),
            "frames_per_clip": frames}


def run_variant(name: str, captions, data_dir: str, base_cache: str, args) -> dict:
    from captioner.drawn.shape_clips import colour_correct, direction_correct
    from captioner.evaluation.scoring import evaluate
    from captioner.features.encoder import fingerprint
    from captioner.models.bundle import load_bundle
    from captioner.features.features_for import features_for_job
    from captioner.training.train import DecoderChoices, TrainSettings, train

    clips_dir = os.path.join(data_dir, "Clips")
    model_dir = os.path.join(args.workdir, f"model-{name}")
    cache = base_cache
    if name in ("middle", "shuffled"):
        cache = os.path.join(args.workdir, f"cache-{name}")
        from benchmarks.measuring import derived_cache

        derived_cache(base_cache, cache, sorted(captions.captions), args.frames, name)
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        features = features_for_job(cache, fingerprint("random"), captions.training_keys(), clips_dir, "random",
                                    False, args.frames)
        train(captions, features, model_dir, TrainSettings(epochs=args.epochs, patience=4),
              DecoderChoices(frame_encoder="mean" if name == "mean" else "lstm"), show_progress=False)
    bundle = load_bundle(model_dir)
    with open(os.path.join(data_dir, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    start = time.perf_counter()
    report = evaluate(bundle, captions, "test", clips_dir, cache, 1, "random", show_progress=False, meteor=False)
    seconds = time.perf_counter() - start
    n = report.images
    rates = {}
    if name == "lstm":
        rates = clip_caption_rates(bundle, cache, [k for k, _ in report.captions()])
    return {**{k: round(v, 4) for k, v in report.scores.items()}, **rates,
            "direction_right": round(sum(direction_correct(c, truth[k]) for k, c in report.captions()) / n, 3),
            "colour_right": round(sum(colour_correct(c, truth[k]) for k, c in report.captions()) / n, 3),
            "test_clips": n, "epochs": bundle.training["epochs"],
            "seconds_per_epoch": bundle.training["seconds_per_epoch"],
            "evaluate_clips_per_s": round(n / seconds, 1)}


def clip_caption_rates(bundle, cache_dir: str, keys: list[str]) -> dict:
    """Captions/s of the clip model from cached frames (greedy at batch 1 and 256, beam 3 at 256)."""
    from benchmarks.measuring import generation_rates

    from captioner.features.cache import FeatureCache
    from captioner.features.clip_features import cached_inputs

    with FeatureCache.open(cache_dir) as cache:
        inputs = cached_inputs(cache, keys, bundle.frames).astype(np.float32)
    inputs = np.resize(inputs, (256, *inputs.shape[1:]))
    rates = generation_rates(bundle.decoder, bundle.vocab, inputs, batches=(1, 256))
    return {"captions_per_s": {k: v for k, v in rates.items() if k != "beam5_b256"}}


def table(results: dict) -> str:
    lines = [f"machine: {results['machine']}; data: {results['dataset']}", "",
             "| frame encoder | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | direction right | colour right | s/epoch |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results["variants"].items():
        lines.append(f"| {name} | {r['bleu1']:.4f} | {r['bleu2']:.4f} | {r['bleu3']:.4f} | {r['bleu4']:.4f} | "
                     f"{r['direction_right']:.0%} | {r['colour_right']:.0%} | {r['seconds_per_epoch']} |")
    s = results["speed"]
    lines += ["", f"extraction: clips {s['clip_frames_per_s']} frames/s ({s['clips_per_s']} clips/s of "
                  f"{s['frames_per_clip']} frames) vs still images {s['image_images_per_s']} images/s; "
                  f"decoding alone {s['decode_frames_per_s']} frames/s"]
    rates = results["variants"].get("lstm", {}).get("captions_per_s")
    if rates:
        lines.append("captions/s of the lstm clip model: " + ", ".join(f"{k} {v}" for k, v in rates.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
