"""What cross-entropy training gains from each setting, on the tuning set's validation split.

Usage:
    python -m benchmarks tune_xe [--workdir tune-xe] [--set scenes|clips] [--count N] [--weights random-tiny]
                              [--only NAME ...]

Draws the harder drawn scene set (3,000 images) or motion clip set (1,000 clips, trained with --frames 8) to
tune on (seed 0, the "plain" wording; the docs' reported numbers come from seed 1, "other"), extracts it
once, then trains one model per row, each changing one setting from the defaults, and scores the validation
split (never the test split) greedy and beam 3. The default model is then searched with other beam sizes and
length penalties. Prints markdown tables; models stay in --workdir, so a rerun only scores.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks.measuring import machine


# (row name, train() keyword arguments changed from the defaults)
SETTINGS = (
    ("defaults", {}),
    ("LSTM 512 units", {"units": 512}),
    ("LSTM 128 units", {"units": 128}),
    ("dropout 0.5", {"dropout": 0.5}),
    ("dropout 0.1", {"dropout": 0.1}),
    ("learning rate 1e-3", {"learning_rate": 1e-3}),
    ("patience 6", {"patience": 6}),
    ("merge design", {"design": "merge"}),
    ("label smoothing 0.1", {"label_smoothing": 0.1}),
    ("stop on CIDEr-D", {"stop_on": "cider"}),
    ("stop on CIDEr-D, patience 6", {"stop_on": "cider", "patience": 6}),
)
SEARCHES = ((1, 0.0), (2, 0.0), (3, 0.0), (5, 0.0), (3, 0.5), (3, 1.0), (5, 1.0))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="tune-xe")
    parser.add_argument("--set", default="scenes", choices=["scenes", "clips"], help="drawn set (default: scenes)")
    parser.add_argument("--count", type=int, help="drawn images or clips (default: 3000 scenes, 1000 clips)")
    parser.add_argument("--weights", default="random-tiny", help="encoder weights (default: random-tiny)")
    parser.add_argument("--only", nargs="*", help="row names to run (default: all)")
    args = parser.parse_args(argv)
    import json

    import captioner
    from captioner.drawn.motion import write_drawn_motion
    from captioner.drawn.scenes import write_drawn_scenes
    from captioner.drawn.truth import truth_shares

    clips = args.set == "clips"
    count = args.count or (1000 if clips else 3000)
    data = os.path.join(args.workdir, "data")
    captions = os.path.join(data, "captions.csv" if clips else "captions.token.txt")
    if not os.path.exists(captions):
        (write_drawn_motion if clips else write_drawn_scenes)(data, count, seed=0, wording="plain")
    images, cache = os.path.join(data, "Clips" if clips else "Images"), os.path.join(args.workdir, "cache")
    truth = json.load(open(os.path.join(data, "truth.json"), encoding="utf-8"))
    checked = ("colour", "shape", "direction", "speed") if clips else ("objects",)

    def score(model, beam, penalty):
        report = captioner.evaluate(model, cache, captions=captions, images=images, split="val", beam_size=beam,
                                    length_penalty=penalty, meteor=False)
        shares = truth_shares("motion" if clips else "scenes", [(i["input"], i["caption"]) for i in report.items],
                              truth)
        return report, " | ".join(f"{shares[c][0] / max(shares[c][1], 1):.1%}" for c in checked)

    print(f"{count} drawn {args.set} (seed 0, plain wording), validation split; encoder --weights {args.weights}; "
          f"{machine()}", flush=True)
    right = " | ".join(f"{c} right" for c in checked)
    print("| setting | epochs (best) | val loss | greedy BLEU-4 | greedy CIDEr-D | beam 3 BLEU-4 | beam 3 CIDEr-D | "
          f"{right} (beam 3) | s/epoch |\n" + "| --- " * (8 + len(checked)) + "|", flush=True)
    for name, changes in SETTINGS:
        if args.only and name not in args.only:
            continue
        out = os.path.join(args.workdir, name.replace(" ", "-"))
        if not os.path.exists(os.path.join(out, "config.json")):
            captioner.train(out, cache, captions=captions, images=images, weights=args.weights, show_progress=False,
                            **({"frames": 8} if clips else {}), **changes)
        model = captioner.load(out, announce=False)
        t = model.training
        greedy, _ = score(model, 1, 0.0)
        beam, right = score(model, 3, 0.0)
        print(f"| {name} | {t['epochs']} ({t['best_epoch']}) | {t['best_val_loss']:.4f} | "
              f"{greedy.metrics['bleu4']:.4f} | {greedy.metrics['cider']:.4f} | {beam.metrics['bleu4']:.4f} | "
              f"{beam.metrics['cider']:.4f} | {right} | {t['seconds_per_epoch']} |", flush=True)
    if args.only and "defaults" not in args.only:
        return 0
    model = captioner.load(os.path.join(args.workdir, "defaults"), announce=False)
    heading = " | ".join(f"{c} right" for c in checked)
    print(f"\n| search (defaults model) | BLEU-4 | CIDEr-D | {heading} | s |\n" + "| --- " * (4 + len(checked)) + "|")
    for beam, penalty in SEARCHES:
        start = time.perf_counter()
        report, right = score(model, beam, penalty)
        print(f"| beam {beam}, length penalty {penalty} | {report.metrics['bleu4']:.4f} | "
              f"{report.metrics['cider']:.4f} | {right} | {time.perf_counter() - start:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
