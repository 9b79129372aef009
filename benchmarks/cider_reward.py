"""How fast the CIDEr-D reward scores sampled captions, beside pycocoevalcap's scorer on the same captions.

Usage:
    python -m benchmarks cider_reward [--captions Flickr8k.token.txt] [--images 1000] [--samples 5]

References: the train split of the caption file (default: ../shared/data's Flickr8k text, 6,000 images x 5
captions), PTB-tokenised. Samples: for each of the first --images images, --samples captions of other images
(real sentences of the right length, as a trained model's samples are). Both scorers score the same captions;
pycocoevalcap, as it has no fixed document frequencies, scores each sample round against the same images'
references (its document frequencies then come from those). Prints the rates and their ratio, measured in one run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = os.path.join(os.path.dirname(REPO), "shared", "data", "flickr8k_text", "Flickr8k.token.txt")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", default=TEXT, help="a caption file with a train split (default: Flickr8k's)")
    parser.add_argument("--images", type=int, default=1000, help="images whose samples are scored (default: 1000)")
    parser.add_argument("--samples", type=int, default=5, help="sampled captions per image (default: 5)")
    args = parser.parse_args(argv)
    from pycocoevalcap.cider.cider_scorer import CiderScorer

    from captioner.datasets import load_captions
    from captioner.evaluation.cider_d import CiderD
    from captioner.evaluation.metrics import tokenized

    train = load_captions(args.captions).select("train").captions
    keys = sorted(train)
    refs, _ = tokenized([train[k] for k in keys], [""] * len(keys))
    rng = random.Random(0)
    pool = [c for r in refs for c in r]
    images = list(range(min(args.images, len(keys))))
    rounds = [[rng.choice(pool) for _ in images] for _ in range(args.samples)]
    n = len(images) * args.samples

    start = time.perf_counter()
    reward = CiderD(refs)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    for sample in rounds:
        reward.scores(sample, images)
    ours = time.perf_counter() - start

    start = time.perf_counter()
    for sample in rounds:
        scorer = CiderScorer(n=4, sigma=6.0)
        for i, hyp in zip(images, sample):
            scorer += (hyp, refs[i])
        scorer.compute_score()
    theirs = time.perf_counter() - start

    print(f"references: {len(refs)} images, {len(pool)} captions; {n} sampled captions "
          f"({len(images)} images x {args.samples})")
    print(f"CiderD reward: set-up (document frequencies, reference vectors) {setup:.2f} s once; "
          f"{n / ours:,.0f} captions/s")
    print(f"pycocoevalcap CiderScorer: {n / theirs:,.0f} captions/s; ratio {theirs / ours:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
