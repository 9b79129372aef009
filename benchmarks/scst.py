"""Cross-entropy training against self-critical fine-tuning (SCST) on a drawn image or clip set, side by side.

Usage:
    python -m benchmarks scst [--workdir bench-scst] [--set scenes|clips|shapes] [--count N] [--seed 1]
                                 [--wording other] [--weights random-tiny] [--no-meteor]

Draws the set (`scenes`, the default: the harder drawn scenes, 70/10/20 split, so 5,000 images give 1,000 test
images; `clips`: the harder drawn clips, 1,000 by default, trained with --frames 8; `shapes`: the first, easy
image set, 80/10/10), extracts it once, trains with default `train` (cross-entropy, early stopping),
then `train --init XE --objective cider` with its defaults (mean baseline and with --baseline greedy), and
scores every model on the test split, greedy and beam 3, through the `evaluate` code: every metric, the share of
captions that name exactly the shapes drawn (with colours and counts) and of stated relations that are right
(scenes), that name the mover's colour, the direction and the speed (clips), or whose colours and shapes were
all drawn (shapes); against the cross-entropy model with the same search, the CIDEr-D difference with the paired
standard error of the per-item differences and the BLEU-4 difference with its paired bootstrap standard error
(`captioner.evaluation.paired_difference`, 200 resamples of the test items); and the mean words per caption.
Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from benchmarks.measuring import machine

METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")
METRIC_NAMES = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr-D")


def _sets():
    """Per drawn set: (writer, caption file, media folder, train() extras, default count, truth checks)."""
    from captioner.drawn.motion import write_drawn_motion
    from captioner.drawn.scenes import write_drawn_scenes
    from captioner.drawn.shapes import write_synthetic

    return {"scenes": (write_drawn_scenes, "captions.token.txt", "Images", {}, 5000, "scenes"),
            "clips": (write_drawn_motion, "captions.csv", "Clips", {"frames": 8}, 1000, "motion"),
            "shapes": (write_synthetic, "captions.token.txt", "Images", {}, 3000, "shapes")}


def _shares(checks: str, items: list[dict], truth: dict) -> dict[str, str]:
    from captioner.drawn.truth import truth_shares

    shares = truth_shares(checks, [(i["input"], i["caption"]) for i in items], truth)
    return {f"{name} right": (f"{right / stated:.1%}" if stated else "—")
            + ("" if stated == len(items) else f" of {stated}") for name, (right, stated) in shares.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="bench-scst")
    parser.add_argument("--set", default="scenes", choices=["scenes", "clips", "shapes"],
                        help="drawn set (default: scenes)")
    parser.add_argument("--count", type=int,
                        help="drawn images or clips (default: 5000 scenes, 1000 clips, 3000 shapes)")
    parser.add_argument("--seed", type=int, default=1, help="drawing seed (default: 1; the demo and tests use 0)")
    parser.add_argument("--wording", default="other", choices=["plain", "other"],
                        help="caption wording (default: other)")
    parser.add_argument("--weights", default="random-tiny", help="encoder weights (default: random-tiny)")
    parser.add_argument("--no-meteor", action="store_true", help="leave METEOR out (Java)")
    args = parser.parse_args(argv)
    import numpy as np

    import captioner

    write, caption_name, media, extras, count, checks = _sets()[args.set]
    count = args.count or count
    work = args.workdir
    data = os.path.join(work, "data")
    captions = os.path.join(data, caption_name)
    if not os.path.exists(captions):
        write(data, count, seed=args.seed, wording=args.wording)
    images, cache = os.path.join(data, media), os.path.join(work, "cache")
    truth = json.load(open(os.path.join(data, "truth.json"), encoding="utf-8"))
    runs = [("cross-entropy (default train)", "xe", extras),
            ("SCST, mean baseline (default)", "scst-mean", {"objective": "cider"}),
            ("SCST, greedy baseline", "scst-greedy", {"objective": "cider", "baseline": "greedy"})]
    for _, name, extra in runs:
        out = os.path.join(work, name)
        if not os.path.exists(os.path.join(out, "config.json")):
            if name != "xe":
                extra = {**extra, "init": os.path.join(work, "xe")}
            captioner.train(out, cache, captions=captions, images=images, weights=args.weights, show_progress=False,
                            **extra)
    from captioner.evaluation.metrics import bleu_scores, tokenized
    from captioner.evaluation.paired_difference import paired_bootstrap, paired_mean_difference

    def bleu4_on(report):
        refs, hyps = tokenized([i["references"] for i in report.items], [i["caption"] for i in report.items])
        return lambda idx: bleu_scores([refs[i] for i in idx], [hyps[i] for i in idx])["bleu4"]

    rows, per_item, bleu4, columns = [], {}, {}, []
    for label, name, _ in runs:
        model = captioner.load(os.path.join(work, name), announce=False)
        training = model.training
        for beam in (1, 3):
            report = captioner.evaluate(model, cache, captions=captions, images=images, split="test", beam_size=beam,
                                        meteor=not args.no_meteor)
            per_item[name, beam] = [item["cider"] for item in report.items]
            bleu4[name, beam] = bleu4_on(report)
            if name == "xe":
                test_images = [item["input"] for item in report.items]
                paired = bootstrapped = "—"
            else:  # the same test images in the same order as the cross-entropy model's
                assert [item["input"] for item in report.items] == test_images
                paired = paired_mean_difference(per_item["xe", beam], per_item[name, beam]).percent()
                bootstrapped = paired_bootstrap(bleu4["xe", beam], bleu4[name, beam], len(test_images)).absolute()
            words = np.mean([len(item["caption"].split()) for item in report.items])
            epochs = (f"{training['epochs']} (best {training['best_epoch']})" if name == "xe" else
                      f"+{training['scst_epochs']} (best {training['scst_best_epoch']})")
            seconds = sum(h["seconds"] for h in training["history" if name == "xe" else "scst_history"])
            metrics = [f"{report.metrics[k]:.4f}" for k in METRICS if k in report.metrics]
            shares = _shares(checks, report.items, truth)
            columns = list(shares)
            rows.append(f"| {label} | {'greedy' if beam == 1 else 'beam 3'} | " + " | ".join(metrics)
                        + f" | {paired} | {bootstrapped} | {words:.1f} | " + " | ".join(shares.values())
                        + f" | {epochs} | {seconds:.0f} |")
    names = [n for k, n in zip(METRICS, METRIC_NAMES) if not (args.no_meteor and k == "meteor")]
    header = ["model", "search", *names, "CIDEr-D vs XE (paired s.e.)", "BLEU-4 vs XE (bootstrap s.e.)",
              "words", *columns, "epochs", "training s"]
    print(f"{count} drawn {args.set} (seed {args.seed}, {args.wording} wording), "
          f"test split {len(per_item['xe', 1])}; "
          f"encoder --weights {args.weights}; {machine()}")
    print("| " + " | ".join(header) + " |\n" + "| --- " * len(header) + "|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
