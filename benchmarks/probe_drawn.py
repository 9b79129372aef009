"""What a linear probe reads from encoder features of a drawn set: is the information there at all?

Usage:
    python -m benchmarks probe_drawn --data DIR --cache DIR [--weights random-tiny] [--frames 8]

DIR is a set written by `captioner.drawn.scenes.write_drawn_scenes` or
`captioner.drawn.motion.write_drawn_motion` (its truth.json and splits); the cache is filled as needed
(clips: --frames frames each, read as the first frame and as the mean of the frames). A ridge-regression
classifier (one-hot targets, features standardised on the train split, the ridge picked on the dev split) is
fitted on the train split and scored on the test split, for each attribute: number of shapes (all scenes);
colour, shape, size and place (one-shape scenes); the axis of the pair (two-shape scenes); the mover's colour
and shape, the direction and the speed (clips). Prints one markdown row per attribute with chance (the test
split's most common class) beside it. A caption decoder cannot name reliably what a probe this simple cannot
read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys



def ridge_probe(train_x, train_y, dev_x, dev_y, test_x, test_y):
    """(test accuracy, ridge used) of a one-vs-all ridge classifier; the ridge with the best dev accuracy wins."""
    import numpy as np

    classes = sorted(set(train_y))
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    prep = [np.hstack([(x - mean) / std, np.ones((len(x), 1))]) for x in (train_x, dev_x, test_x)]
    targets = np.array([[1.0 if y == c else 0.0 for c in classes] for y in train_y])
    gram, rhs = prep[0].T @ prep[0], prep[0].T @ targets

    def accuracy(weights, x, y):
        return float(np.mean(np.array(classes)[np.argmax(x @ weights, 1)] == np.array(y)))

    best = None
    for ridge in (1e-1, 1e0, 1e1, 1e2, 1e3, 1e4):
        weights = np.linalg.solve(gram + ridge * np.eye(len(gram)), rhs)
        dev = accuracy(weights, prep[1], dev_y)
        if best is None or dev > best[0]:
            best = (dev, ridge, weights)
    return accuracy(best[2], prep[2], test_y), best[1]


def attributes(entry: dict) -> dict:
    if "direction" in entry:  # a motion clip
        return {a: entry[a] for a in ("colour", "shape", "direction", "speed")}
    out = {"number of shapes": len(entry["shapes"])}
    if entry["kind"] == "one":
        s = entry["shapes"][0]
        out.update({"colour (one shape)": s["colour"], "shape (one shape)": s["shape"],
                    "size (one shape)": s["size"], "place (one shape)": entry["place"]})
    if entry["kind"] == "two":
        out["axis of the pair (two shapes)"] = "side by side" if "of" in entry["relation"] else "one above the other"
    return out


def splits_of(data: str) -> dict[str, list[str]]:
    """train / dev / test keys of a scene set (its split files) or a motion clip set (split.tsv)."""
    if os.path.exists(os.path.join(data, "split.tsv")):
        rows = [line.split("\t") for line in open(os.path.join(data, "split.tsv")).read().splitlines() if line]
        return {name: [k for k, s in rows if s == split] for name, split in
                (("train", "train"), ("dev", "val"), ("test", "test"))}
    return {s: open(os.path.join(data, f"scenes.{s}Images.txt")).read().split() for s in ("train", "dev", "test")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--weights", default="random-tiny")
    parser.add_argument("--frames", type=int, default=8, help="frames per clip, for a motion clip set (default: 8)")
    args = parser.parse_args(argv)
    import collections

    from captioner.features.clip_features import cached_rows, gather_rows
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import prepared_cache

    truth = json.load(open(os.path.join(args.data, "truth.json"), encoding="utf-8"))
    splits = splits_of(args.data)
    clips = os.path.exists(os.path.join(args.data, "split.tsv"))
    frames = args.frames if clips else 0
    root = os.path.join(args.data, "Clips" if clips else "Images")
    every = [k for keys in splits.values() for k in keys]
    cache, _, _ = prepared_cache(args.cache, fingerprint(args.weights), every, root, args.weights, False, frames)
    with cache:
        memmap, rows = cached_rows(cache, every, frames)
        matrix = gather_rows(memmap, rows).astype("float64")  # (n, D) or (n, frames, D)
        dim, described = cache.dim, cache.fingerprint.architecture
    row_of = {k: i for i, k in enumerate(every)}
    views = {"": matrix} if not clips else {", first frame": matrix[:, 0], ", mean of the frames": matrix.mean(1)}
    print(f"linear (ridge) probe on {dim}-d features ({described}, --weights {args.weights}) of {args.data}"
          f"{f' ({frames} frames a clip)' if clips else ''}: fitted on {len(splits['train'])} train items, ridge "
          f"picked on {len(splits['dev'])}, scored on {len(splits['test'])} test items")
    print("| attribute | test accuracy | chance (most common class) | classes | test items |\n"
          "| --- | --- | --- | --- | --- |")
    names = list(dict.fromkeys(a for k in splits["train"] for a in attributes(truth[k])))
    for view, feats in views.items():
        for name in names:
            parts = {}
            for split, keys in splits.items():
                chosen = [(k, attributes(truth[k])[name]) for k in keys if name in attributes(truth[k])]
                parts[split] = (feats[[row_of[k] for k, _ in chosen]], [y for _, y in chosen])
            accuracy, _ = ridge_probe(*parts["train"], *parts["dev"], *parts["test"])
            test_y = parts["test"][1]
            chance = collections.Counter(test_y).most_common(1)[0][1] / len(test_y)
            print(f"| {name}{view} | {accuracy:.1%} | {chance:.1%} | {len(set(test_y))} | {len(test_y)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
