"""The results table (docs/results.md): every metric (BLEU-1..4, METEOR, ROUGE-L, CIDEr-D), greedy and beam 3.

Usage:
    python -m benchmarks metrics_table [--workdir DIR] [--images N] [--json OUT]

Two data sets, both with the random encoder (this machine cannot download ImageNet weights), default settings:
  drawn     a held-out drawn-shapes set: seed 1, the "other" caption wording (the demo and the tests use seed 0
            and the "plain" wording; no setting was tuned on this one), 80/10/10 split
  flickr8k  the 300 real Flickr8k photos in ../shared/data/flickr8k_sample (train 200, val 50, test 50), with
            --min-count 2, as in the docs' results
For each it trains, evaluates the test split greedy and beam 3 (through the `evaluate` command's own code),
writes an HTML report of the beam-3 run into the work folder, and prints one markdown table.
"""

from __future__ import annotations

import json
import os
import sys
import time

from benchmarks.measuring import drawn_once, machine, parse_then_import_backend, save_results, workdir_parser

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(os.path.dirname(REPO), "shared", "data", "flickr8k_sample")


def main(argv=None) -> int:
    parser = workdir_parser(__doc__, "bench-metrics", "bench_metrics.json")
    parser.add_argument("--images", type=int, default=1000, help="drawn images (default: 1000)")
    args = parse_then_import_backend(parser, argv)

    from captioner.drawn.shapes import write_synthetic

    drawn_dir = os.path.join(args.workdir, "drawn")
    token_file = drawn_once(drawn_dir, "captions.token.txt", lambda d: write_synthetic(
        d, num_images=args.images, seed=1, wording="other"))
    results = {"machine": machine(), "runs": {}}
    results["runs"]["drawn"] = run(args.workdir, "drawn", token_file, os.path.join(drawn_dir, "Images"), 1, truth=
                                   os.path.join(drawn_dir, "truth.json"))
    if os.path.isdir(SAMPLE):
        results["runs"]["flickr8k"] = run(args.workdir, "flickr8k", os.path.join(SAMPLE, "captions.token.txt"),
                                          os.path.join(SAMPLE, "Images"), 2)
    else:
        print(f"note: {SAMPLE} is not here; the Flickr8k rows are left out", file=sys.stderr)
    save_results(results, args, "bench_metrics.json", table(results))
    return 0


def run(workdir: str, name: str, captions_path: str, images: str, min_count: int, truth: str | None = None) -> dict:
    from captioner.datasets import load_captions
    from captioner.drawn.shapes import colour_shape_correct
    from captioner.evaluation.scoring import evaluate
    from captioner.features.encoder import fingerprint
    from captioner.models.bundle import load_bundle
    from captioner.report.report_file import write_report
    from captioner.features.features_for import features_for_job
    from captioner.training.train import TrainSettings, train

    cache, model = os.path.join(workdir, f"{name}-cache"), os.path.join(workdir, f"{name}-model")
    captions = load_captions(captions_path)
    if not os.path.exists(os.path.join(model, "config.json")):
        features = features_for_job(cache, fingerprint("random"), captions.training_keys(), images, "random", False)
        train(captions, features, model, TrainSettings(epochs=60, patience=4, min_count=min_count), show_progress=False)
    bundle = load_bundle(model)
    drawn = json.load(open(truth, encoding="utf-8")) if truth else None
    out = {"epochs": bundle.training["epochs"], "seconds_per_epoch": bundle.training["seconds_per_epoch"],
           "train_images": bundle.training["train_images"]}
    for beam in (1, 3):
        start = time.perf_counter()
        report = evaluate(bundle, captions, "test", images, cache, beam, "random", show_progress=False)
        seconds = time.perf_counter() - start
        row = {k: round(v, 4) for k, v in report.scores.items()}
        row.update(images=report.images, seconds=round(seconds, 1), meteor_skipped=report.meteor_skipped,
                   distinct=len({c for _, c in report.captions()}))
        if drawn:
            row["colour_shape_right"] = round(sum(colour_shape_correct(c, drawn[k]) for k, c in report.captions())
                                              / report.images, 3)
        out["greedy" if beam == 1 else "beam3"] = row
        print(f"{name} beam {beam}: {row}", file=sys.stderr, flush=True)
        if beam == 3:
            write_report(os.path.join(workdir, f"{name}-report.html"), report.to_json())
    return out


def table(results: dict) -> str:
    lines = ["| what | search | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | METEOR | ROUGE-L | CIDEr-D | notes |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, run_ in results["runs"].items():
        for search in ("greedy", "beam3"):
            r = run_[search]
            note = f"{r['distinct']} distinct captions for {r['images']} test images"
            if "colour_shape_right" in r:
                note = f"colour+shape right {r['colour_shape_right']:.0%}; " + note
            cells = [f"{r[k]:.4f}" if k in r else "—" for k in
                     ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")]
            lines.append(f"| {name} | {'greedy' if search == 'greedy' else 'beam 3'} | {' | '.join(cells)} | {note} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
