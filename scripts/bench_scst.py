"""Cross-entropy training against self-critical fine-tuning (SCST), on a drawn image set, side by side.

Usage:
    python scripts/bench_scst.py [--workdir bench-scst] [--images 3000] [--seed 1] [--wording other]
                                 [--weights random-tiny] [--no-meteor]

Draws the set (80/10/10 split), extracts it once, trains with default `train` (cross-entropy, early stopping),
then `train --init XE --objective cider` with its defaults (mean baseline and with --baseline greedy), and
scores every model on the test split, greedy and beam 3, through the `evaluate` code: every metric, the share of
captions whose colours and shapes were all drawn, and for CIDEr-D the paired standard error of the per-image
difference from the cross-entropy model. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="bench-scst")
    parser.add_argument("--images", type=int, default=3000, help="drawn images (default: 3000)")
    parser.add_argument("--seed", type=int, default=1, help="drawing seed (default: 1; the demo and tests use 0)")
    parser.add_argument("--wording", default="other", choices=["plain", "other"], help="caption wording (default: other)")
    parser.add_argument("--weights", default="random-tiny", help="encoder weights (default: random-tiny)")
    parser.add_argument("--no-meteor", action="store_true", help="leave METEOR out (Java)")
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)
    import numpy as np

    import captioner
    from captioner.datasets.synthetic import colour_shape_correct, write_synthetic

    work = args.workdir
    data = os.path.join(work, "data")
    captions = os.path.join(data, "captions.token.txt")
    if not os.path.exists(captions):
        write_synthetic(data, num_images=args.images, seed=args.seed, wording=args.wording)
    images, cache = os.path.join(data, "Images"), os.path.join(work, "cache")
    truth = json.load(open(os.path.join(data, "truth.json"), encoding="utf-8"))
    runs = [("cross-entropy (default train)", "xe", {}),
            ("SCST, mean baseline (default)", "scst-mean", {"objective": "cider", "init": None}),
            ("SCST, greedy baseline", "scst-greedy", {"objective": "cider", "init": None, "baseline": "greedy"})]
    seconds = {}
    for _, name, extra in runs:
        out = os.path.join(work, name)
        if not os.path.exists(os.path.join(out, "config.json")):
            if "init" in extra:
                extra = {**extra, "init": os.path.join(work, "xe")}
            start = time.perf_counter()
            captioner.train(out, cache, captions=captions, images=images, weights=args.weights, show_progress=False,
                            **extra)
            seconds[name] = time.perf_counter() - start
    rows, per_image = [], {}
    for label, name, _ in runs:
        model = captioner.load(os.path.join(work, name), announce=False)
        training = model.training
        for beam in (1, 3):
            report = captioner.evaluate(model, cache, captions=captions, images=images, split="test", beam_size=beam,
                                        meteor=not args.no_meteor)
            cider = np.array([item["cider"] for item in report.items])
            per_image[name, beam] = cider
            right = np.mean([colour_shape_correct(i["caption"], truth[i["image"]]) for i in report.items])
            base = per_image.get(("xe", beam))
            diff = cider - base
            paired = (f"{diff.mean() / base.mean():+.1%} ± {diff.std(ddof=1) / np.sqrt(len(diff)) / base.mean():.1%}"
                      if name != "xe" else "—")
            epochs = (f"{training['epochs']} (best {training['best_epoch']})" if name == "xe" else
                      f"+{training['scst_epochs']} (best {training['scst_best_epoch']})")
            rows.append(f"| {label} | {'greedy' if beam == 1 else 'beam 3'} | "
                        + " | ".join(f"{report.metrics[k]:.4f}" for k in ("bleu1", "bleu4", "meteor", "rouge_l", "cider")
                                     if k in report.metrics)
                        + f" | {paired} | {right:.1%} | {epochs} | {seconds.get(name, float('nan')):.0f} |")
    meteor = "" if args.no_meteor else " METEOR |"
    print(f"{args.images} drawn images (seed {args.seed}, {args.wording} wording), test split "
          f"{len(per_image['xe', 1])} images; encoder --weights {args.weights}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    print(f"| model | search | BLEU-1 | BLEU-4 |{meteor} ROUGE-L | CIDEr-D | CIDEr-D vs XE (paired s.e.) | "
          "colour+shape right | epochs | train s |")
    print("| --- " * (10 + (0 if args.no_meteor else 1)) + "|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
