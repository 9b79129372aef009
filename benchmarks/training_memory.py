"""Peak memory of one training epoch on a random Flickr8k-like cache (run by against_tutorial).

Usage: python -m benchmarks training_memory WORKDIR N_IMAGES   (prints one JSON line)
N images x 5 random captions (8-20 words from a 3,000-word Zipf vocabulary), random float16 features.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np


def peak_rss_kb() -> int:
    """VmHWM of this process. (ru_maxrss would include the parent's memory copied at fork, before exec.)"""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", help="where the random cache and captions go")
    parser.add_argument("images", type=int, help="how many images (x 5 captions)")
    args = parser.parse_args(argv)
    workdir, n = args.workdir, args.images
    from captioner.datasets import load_captions
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import features_for_job
    from captioner.training.train import TrainSettings, train

    rng = np.random.default_rng(n)
    os.makedirs(workdir, exist_ok=True)
    fp = fingerprint("random")
    token_file = os.path.join(workdir, "captions.token.txt")
    cache_dir = os.path.join(workdir, "cache")
    keys = [f"img_{i:05d}.jpg" for i in range(n)]
    if not os.path.exists(token_file):
        weights = 1.0 / np.arange(1, 3001)
        weights /= weights.sum()
        with open(token_file, "w", encoding="utf-8") as f:
            for key in keys:
                for j in range(5):
                    words = rng.choice(3000, size=rng.integers(8, 21), p=weights)
                    f.write(f"{key}#{j}\t" + " ".join(f"w{w}" for w in words) + "\n")
        with FeatureCache.open(cache_dir, fp, "float16", writable=True) as cache:
            for start in range(0, n, 1000):
                chunk = keys[start:start + 1000]
                cache.append(chunk, rng.random((len(chunk), 4096), dtype=np.float32))
            cache.compact()
    captions = load_captions(token_file)
    shutil.rmtree(os.path.join(workdir, "model"), ignore_errors=True)
    features = features_for_job(cache_dir, fp, captions.training_keys(), workdir, "random", False)
    train(captions, features, os.path.join(workdir, "model"), TrainSettings(epochs=1, patience=1), show_progress=False)
    cache_mb = sum(os.path.getsize(os.path.join(cache_dir, "shards", p))
                   for p in os.listdir(os.path.join(cache_dir, "shards"))) / 2**20
    print(json.dumps({"images": n, "captions": 5 * n, "cache_mb": round(cache_mb, 1),
                      "peak_rss_mb": round(peak_rss_kb() / 1024, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
