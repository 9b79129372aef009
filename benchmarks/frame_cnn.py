"""Frozen VGG16 features against a small CNN trained end to end (`--frame-encoder cnn`), on drawn clips.

The two forms of the CNN LSTM side by side: the small CNN is trained inside TimeDistributed with the LSTM.

Usage:
    python -m benchmarks frame_cnn [--workdir bench-frame-cnn] [--part activity|captions|both]
                                      [--set tune|report|both] [--weights random]

activity: the drawn activity set (UCF101 layout, 240 clips, 4 motions), seed 0 to tune on and seed 1 to report;
    VGG16 with the LSTM frame reader, VGG16 with the mean, and the trainable CNN; test top-1.
captions: the harder drawn clips (1,000, MSVD layout), seed 0 "plain" wording to tune on and seed 1 "other" to
    report; VGG16 + LSTM against the trainable CNN; test split with the default search (beam 3): BLEU-4, CIDEr-D
    and the share of captions naming the mover's direction and colour.
Every model is trained with default `train` (`--frames 8`), each in its own process, so that its peak memory
(RSS) can be read; also parameters, epochs, s/epoch, and the frames/s of filling the cache (decoding, plus the
VGG16 forward pass for the feature models; decoding and resizing only for the CNN). A model or cache already in
the workdir is reused (its fill rate, or the memory of training it, is then not measured). Prints one markdown table per part.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.measuring import machine

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETS = {"tune": (0, "plain"), "report": (1, "other")}
VARIANTS = {"activity": ("vgg16-lstm", "vgg16-mean", "cnn"), "captions": ("vgg16-lstm", "cnn")}
FRAMES = 8


def _data(work: str, part: str, which: str) -> dict:
    """Write the drawn set once; returns where it is."""
    seed, wording = SETS[which]
    base = os.path.join(work, f"{part}-{which}")
    if part == "activity":
        from captioner.drawn.activities import write_activity_set

        root = os.path.join(base, "clips")
        if not os.path.exists(os.path.join(root, "testlist01.txt")):
            write_activity_set(root, num_clips=240, seed=seed)
        return {"base": base, "labels": root}
    from captioner.drawn.motion import write_drawn_motion

    data = os.path.join(base, "data")
    if not os.path.exists(os.path.join(data, "captions.csv")):
        write_drawn_motion(data, 1000, seed=seed, wording=wording)
    return {"base": base, "captions": os.path.join(data, "captions.csv"), "images": os.path.join(data, "Clips"),
            "truth": os.path.join(data, "truth.json")}


def run_one(spec: dict) -> dict:
    """In its own process: fill the cache (timed), train with defaults, evaluate on the test split."""
    import captioner
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import prepared_cache
    from captioner.features.pixels import pixel_fingerprint

    cnn = spec["variant"] == "cnn"
    out, cache = os.path.join(spec["base"], spec["variant"]), os.path.join(spec["base"], "cache")
    options = {"frame_encoder": "cnn"} if cnn else {"weights": spec["weights"],
                                                    "frame_encoder": spec["variant"].split("-")[1]}
    result = {"fill_frames_per_s": None, "trained": False}
    if not os.path.exists(os.path.join(out, "config.json")):
        result["trained"] = True
        if spec.get("labels"):
            from captioner.datasets.ucf101 import load_labels

            labels = load_labels(spec["labels"])
            keys, root = sorted(labels.clips), spec["labels"]
        else:
            from captioner.datasets import load_captions

            keys, root = sorted(load_captions(spec["captions"]).captions), spec["images"]
        fp = pixel_fingerprint() if cnn else fingerprint(spec["weights"])
        start = time.perf_counter()
        store, good, _ = prepared_cache(cache, fp, keys, root, spec["weights"], show_progress=False, frames=FRAMES)
        seconds = time.perf_counter() - start
        frames = sum(1 for _ in store.keys())
        store.close()
        if seconds > 1:  # not everything was cached already
            result["fill_frames_per_s"] = round(frames / seconds, 1)
        data = {"labels": spec["labels"]} if spec.get("labels") else {"captions": spec["captions"],
                                                                       "images": spec["images"]}
        captioner.train(out, cache, frames=FRAMES, **data, **options)
    model = captioner.load(out, announce=False)
    training = model.training
    inner = model.bundle.model if spec.get("labels") else model.bundle.decoder
    result.update({"params": int(inner.count_params()), "epochs": training["epochs"],
                   "best_epoch": training["best_epoch"], "seconds_per_epoch": training["seconds_per_epoch"]})
    if spec.get("labels"):
        report = captioner.evaluate(model, cache, labels=spec["labels"], split="test")
        result.update({"top1": round(report.top1, 4), "test_clips": len(report.predictions)})
    else:
        from captioner.drawn.truth import truth_shares

        report = captioner.evaluate(model, cache, captions=spec["captions"], images=spec["images"], split="test",
                                    beam_size=3, meteor=False)
        with open(spec["truth"], encoding="utf-8") as f:
            truth = json.load(f)
        shares = truth_shares("motion", [(i["input"], i["caption"]) for i in report.items], truth)
        result.update({"bleu4": round(report.metrics["bleu4"], 4), "cider": round(report.metrics["cider"], 4),
                       "test_clips": len(report.items),
                       **{f"{name}_right": round(right / len(report.items), 4)  # of all test clips
                          for name, (right, _) in shares.items()}})
    return result


def _in_process_of_its_own(spec: dict) -> dict:
    """run_one in a child process; adds its peak RSS (from wait4, this child's own)."""
    out = os.path.join(spec["base"], f"{spec['variant']}.result.json")
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.frame_cnn", "--one", json.dumps(spec), "--result", out], cwd=REPO)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{spec['variant']} on {spec['base']} failed (status {status})")
    with open(out, encoding="utf-8") as f:
        result = json.load(f)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024) if result["trained"] else None
    return result


def _cache_mb(base: str, variant: str) -> float:
    folder = os.path.join(base, "cache", *(["pixels-64x64"] if variant == "cnn" else []), "shards")
    return round(sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder)) / 2**20, 1)


NAMES = {"vgg16-lstm": "frozen VGG16 + LSTM", "vgg16-mean": "frozen VGG16 + mean", "cnn": "trainable CNN + LSTM"}


def _row(part: str, which: str, variant: str, r: dict, base: str) -> str:
    def opt(value, fmt="{}"):
        return "—" if value is None else fmt.format(value)

    common = (f"| {opt(r['params'], '{:,}')} | {r['epochs']} ({r['best_epoch']}) | {r['seconds_per_epoch']} | "
              f"{opt(r['fill_frames_per_s'])} | {_cache_mb(base, variant)} | {opt(r['peak_rss_mb'], '{:,}')} |")
    if part == "activity":
        return f"| {which} | {NAMES[variant]} | {r['top1']:.1%} ({r['test_clips']}) " + common
    return (f"| {which} | {NAMES[variant]} | {opt(r.get('direction_right'), '{:.1%}')} | "
            f"{opt(r.get('colour_right'), '{:.1%}')} | {r['bleu4']:.4f} | {r['cider']:.4f} " + common)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="bench-frame-cnn")
    parser.add_argument("--part", default="both", choices=["activity", "captions", "both"])
    parser.add_argument("--set", default="both", choices=["tune", "report", "both"])
    parser.add_argument("--weights", default="random", help="the frozen VGG16's weights (default: random)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        result = run_one(json.loads(args.one))
        with open(args.result, "w", encoding="utf-8") as f:
            json.dump(result, f)
        return 0
    parts = ("activity", "captions") if args.part == "both" else (args.part,)
    sets = ("tune", "report") if args.set == "both" else (args.set,)
    for part in parts:
        rows = []
        for which in sets:
            where = _data(args.workdir, part, which)
            for variant in VARIANTS[part]:
                spec = {**where, "variant": variant, "weights": args.weights}
                result = _in_process_of_its_own(spec)
                print(f"{part} {which} {variant}: {result}", file=sys.stderr, flush=True)
                rows.append(_row(part, which, variant, result, where["base"]))
        head = ["set", "model", "test top-1 (clips)"] if part == "activity" else \
            ["set", "model", "direction right", "colour right", "BLEU-4", "CIDEr-D"]
        head += ["parameters", "epochs (best)", "s/epoch", "cache fill frames/s", "cache MB", "peak RSS MB"]
        print(f"\n{part}: drawn clips, --frames {FRAMES}, default train; VGG16 --weights {args.weights}; "
              f"{machine()}")
        print("| " + " | ".join(head) + " |\n" + "| --- " * len(head) + "|\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
