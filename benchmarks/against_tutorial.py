"""Benchmark: this project against the classic tutorial recipe (benchmarks/tutorial_recipe.py), in one run.

Usage:
    python -m benchmarks against_tutorial [--workdir DIR] [--images N] [--epochs E] [--captions FILE --images-dir DIR]
                                [--skip-memory] [--skip-extract] [--json OUT]

On the same cached features (the synthetic set by default, random encoder) it measures side by side:
training seconds per epoch and BLEU after E epochs and after early stopping; greedy captions/s at batch
1, 32 and 256 and beam-3 / beam-5 captions/s (also with a Flickr8k-sized vocabulary); peak memory of
training on Flickr8k-sized random caches of 2k, 4k and 8k images; extraction against a bare VGG16 loop.
Prints a markdown table with project / reference ratios and writes the numbers as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from benchmarks.measuring import machine, parse_then_import_backend, save_results, workdir_parser



def main(argv=None) -> int:
    parser = workdir_parser(__doc__, "bench-run", "benchmark.json")
    parser.add_argument("--images", type=int, default=500, help="synthetic images (default: 500)")
    parser.add_argument("--captions", help="caption file of another dataset (default: the synthetic set)")
    parser.add_argument("--images-dir", help="image root of --captions")
    parser.add_argument("--epochs", type=int, default=3, help="epochs for the same-epochs comparison (default: 3)")
    parser.add_argument("--max-epochs", type=int, default=30, help="cap for training to early stopping (default: 30)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 2k/4k/8k memory runs")
    parser.add_argument("--skip-extract", action="store_true", help="skip the extraction benchmark")
    args = parse_then_import_backend(parser, argv)
    results = {"machine": machine()}
    data = prepare_data(args)
    results["dataset"] = data["name"]
    results.update(bench_training(data, args))
    results.update(bench_generation(data))
    results.update(bench_big_vocab())
    if not args.skip_memory:
        results.update(bench_memory(args.workdir))
    if not args.skip_extract:
        from benchmarks.measuring import extraction_rates

        results["extract"] = extraction_rates(None, 64, 32)
    save_results(results, args, "benchmark.json", table(results))
    return 0


def prepare_data(args) -> dict:
    from captioner.datasets import load_captions
    from captioner.drawn.shapes import write_synthetic
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import prepared_cache

    if args.captions:
        token_file, images = args.captions, args.images_dir
    else:
        data_dir = os.path.join(args.workdir, f"synthetic-{args.images}")
        token_file = os.path.join(data_dir, "captions.token.txt")
        if not os.path.exists(token_file):
            write_synthetic(data_dir, num_images=args.images)
        images = os.path.join(data_dir, "Images")
    captions = load_captions(token_file)
    fp = fingerprint("random")
    cache_dir = os.path.join(args.workdir, "cache-" + os.path.basename(os.path.dirname(os.path.abspath(token_file))))
    cache, keys, _ = prepared_cache(cache_dir, fp, sorted(captions.captions), images, "random", True)
    return {"name": f"{captions.layout} {token_file} ({len(keys)} images, random encoder)", "captions": captions,
            "images": images, "cache_dir": cache_dir, "cache": cache, "fingerprint": fp}


def bench_training(data, args) -> dict:
    from benchmarks.tutorial_recipe import reference_training

    from captioner.evaluation.scoring import evaluate
    from captioner.models.bundle import load_bundle
    from captioner.features.features_for import features_for_job
    from captioner.training.train import TrainSettings, train

    out = {}
    for label, epochs, patience in (("same_epochs", args.epochs, args.epochs + 1), ("early_stop", args.max_epochs, 3)):
        model_dir = os.path.join(args.workdir, f"model-{label}")
        subprocess.run(["rm", "-rf", model_dir], check=True)
        features = features_for_job(data["cache_dir"], data["fingerprint"], data["captions"].training_keys(),
                                    data["images"], "random", False)
        summary = train(data["captions"], features, model_dir, TrainSettings(epochs=epochs, patience=patience),
                        show_progress=False)
        report = evaluate(load_bundle(model_dir), data["captions"], "test", data["images"], data["cache_dir"], 1,
                          show_progress=False, meteor=False)
        out[f"project_{label}"] = {"epochs": summary["epochs"], "seconds_per_epoch": summary["seconds_per_epoch"],
                                   "test_bleu_greedy": {k: v for k, v in report.scores.items() if k.startswith("bleu")}}
    out.update(reference_training(data, args.epochs, args.max_epochs))
    return out


def bench_generation(data) -> dict:
    from benchmarks.measuring import generation_rates
    from benchmarks.tutorial_recipe import reference_greedy_rate

    from captioner.models.bundle import load_bundle

    bundle = load_bundle(os.path.join(os.path.dirname(data["cache_dir"]), "model-same_epochs"))
    keys = data["cache"].keys()
    features = np.resize(data["cache"].get(keys).astype(np.float32), (256, data["cache"].dim))
    project = generation_rates(bundle.decoder, bundle.vocab, features)
    reference = reference_greedy_rate(len(bundle.vocab), bundle.config.max_length, features[:8])
    return {"generation": {"project": project, "reference_greedy_b1": round(reference, 3)}}


def bench_big_vocab() -> dict:
    """Flickr8k-sized vocabulary (~3,000 words, 34-word captions), untrained weights: speed only."""
    from benchmarks.measuring import big_vocab_decoder, generation_rates
    from benchmarks.tutorial_recipe import reference_greedy_rate

    decoder, vocab, features = big_vocab_decoder()
    project = generation_rates(decoder, vocab, features)
    reference = reference_greedy_rate(len(vocab), 34, features[:3])
    return {"generation_flickr8k_vocab": {"project": project, "reference_greedy_b1": round(reference, 3)}}


def bench_memory(workdir: str) -> dict:
    """Peak RSS of one training epoch on random Flickr8k-like caches of 2k, 4k and 8k images (child processes)."""
    rows = {}
    script = "benchmarks.training_memory"
    for n in (2000, 4000, 8000):
        done = subprocess.run([sys.executable, "-m", script, os.path.join(workdir, f"memory-{n}"), str(n)],
                              capture_output=True, text=True, check=True)
        rows[str(n)] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"memory": rows}


def _ratio(a, b) -> str:
    return f"{a / b:,.1f}x" if a and b else "-"


def table(r: dict) -> str:
    from benchmarks.tutorial_recipe import reference_in_memory_gb

    lines = [f"Machine: {r['machine']}. Dataset: {r['dataset']}.", "",
             "| measure | project | reference recipe | project / reference |", "| --- | --- | --- | --- |"]
    p, q = r["project_same_epochs"], r["reference_same_epochs"]
    lines.append(f"| training seconds per epoch | {p['seconds_per_epoch']} | {q['seconds_per_epoch']} | "
                 f"{_ratio(q['seconds_per_epoch'], p['seconds_per_epoch'])} faster |")
    for label in ("same_epochs", "early_stop"):
        p, q = r[f"project_{label}"], r[f"reference_{label}"]
        what = f"after {p['epochs']} epochs" if label == "same_epochs" else \
            f"at early stopping ({p['epochs']} vs {q['epochs']} epochs)"
        lines.append(f"| test BLEU-4 (greedy) {what} | {p['test_bleu_greedy']['bleu4']:.4f} | "
                     f"{q['test_bleu_greedy']['bleu4']:.4f} | {_ratio(p['test_bleu_greedy']['bleu4'], q['test_bleu_greedy']['bleu4'])} |")
    for key, title in (("generation", "trained on this dataset"),
                       ("generation_flickr8k_vocab", "Flickr8k-sized vocabulary (3,000 words, 34-word captions, untrained)")):
        if key not in r:
            continue
        g = r[key]
        ref = r.get("reference_trained_greedy_b1") if key == "generation" else g["reference_greedy_b1"]
        for name, rate in g["project"].items():
            lines.append(f"| {name.replace('_b', ' captions/s, batch ')} ({title}) | {rate:,.1f} | "
                         f"{ref} (greedy, batch 1) | {_ratio(rate, ref)} |")
    for n, m in r.get("memory", {}).items():
        lines.append(f"| peak memory, 1 training epoch, {int(n):,} images x 5 captions | {m['peak_rss_mb']:,.0f} MB "
                     f"(cache file {m['cache_mb']:,.0f} MB) | {reference_in_memory_gb(m['captions']):,.1f} GB "
                     f"(in-memory expansion, computed) | - |")
    if "extract" in r:
        e = r["extract"]
        lines.append(f"| extraction images/s ({e['images']} images, batch {e['batch_size']}) | "
                     f"{e['extract_images_per_s']} | {e['bare_forward_images_per_s']} (bare VGG16 loop) | "
                     f"{e['ratio']:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
