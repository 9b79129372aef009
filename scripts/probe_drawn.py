"""What a linear probe reads from encoder features of a drawn scene set: is the information there at all?

Usage:
    python scripts/probe_drawn.py --data DIR --cache DIR [--weights random-tiny]

DIR is a set written by `captioner.datasets.drawn_scenes.write_drawn_scenes` (its truth.json and splits); the
cache is filled as needed. A ridge-regression classifier (one-hot targets, features standardised on the train
split, the ridge picked on the dev split) is fitted on the train split and scored on the test split, for each
attribute of the scene: number of shapes (all scenes); colour, shape, size and place (one-shape scenes); the axis
of the pair (two-shape scenes). Prints one markdown row per attribute with chance (the test split's most common
class) beside it. A caption decoder cannot name reliably what a probe this simple cannot read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    out = {"number of shapes": len(entry["shapes"])}
    if entry["kind"] == "one":
        s = entry["shapes"][0]
        out.update({"colour (one shape)": s["colour"], "shape (one shape)": s["shape"],
                    "size (one shape)": s["size"], "place (one shape)": entry["place"]})
    if entry["kind"] == "two":
        out["axis of the pair (two shapes)"] = "side by side" if "of" in entry["relation"] else "one above the other"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--cache", required=True)
    parser.add_argument("--weights", default="random-tiny")
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)
    import collections

    import numpy as np

    import captioner
    from captioner.features.cache import FeatureCache

    truth = json.load(open(os.path.join(args.data, "truth.json"), encoding="utf-8"))
    splits = {s: open(os.path.join(args.data, f"scenes.{s}Images.txt")).read().split()
              for s in ("train", "dev", "test")}
    images = os.path.join(args.data, "Images")
    every = [k for keys in splits.values() for k in keys]
    if not os.path.exists(os.path.join(args.cache, "cache.json")) or \
            any(k not in FeatureCache.open(args.cache) for k in every):  # extracting takes the cache's write lock
        captioner.extract([images], args.cache, weights=args.weights, root=images)
    with FeatureCache.open(args.cache) as cache:
        feats = {s: cache.get(keys).astype("float64") for s, keys in splits.items()}
        dim, described = cache.dim, cache.fingerprint.get("architecture", "VGG16")
    print(f"linear (ridge) probe on {dim}-d features ({described}, --weights {args.weights}) of {args.data}: "
          f"fitted on {len(splits['train'])} train images, scored on {len(splits['test'])} test images")
    print("| attribute | test accuracy | chance (most common class) | classes | test images |\n"
          "| --- | --- | --- | --- | --- |")
    names = list(dict.fromkeys(a for k in splits["train"] for a in attributes(truth[k])))
    for name in names:
        parts = {}
        for split, keys in splits.items():
            rows = [(i, attributes(truth[k])[name]) for i, k in enumerate(keys) if name in attributes(truth[k])]
            parts[split] = (feats[split][[i for i, _ in rows]], [y for _, y in rows])
        accuracy, _ = ridge_probe(*parts["train"], *parts["dev"], *parts["test"])
        test_y = parts["test"][1]
        chance = collections.Counter(test_y).most_common(1)[0][1] / len(test_y)
        print(f"| {name} | {accuracy:.1%} | {chance:.1%} | {len(set(test_y))} | {len(test_y)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
