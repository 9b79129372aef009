"""Search speed on the CPU against the reference recipe, in one run (the machine's speed moves between runs).

Usage:
    python -m benchmarks search_speed [--bundle MODEL --cache DIR] [--json OUT]

Flickr8k-sized vocabulary (3,000 words, untrained decoder: every caption runs to 34 words): the reference
recipe's greedy captions/s (one model.predict per word, batch 1) and ours, greedy and beam-3/5 at batch 256, as
ratios. With --bundle/--cache (a trained model and its feature cache, e.g. the drawn-scenes model), also its
greedy (without and with log-probabilities) and beam-5 captions/s at batch 256.
"""

from __future__ import annotations

import argparse
import json
import sys



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", help="a trained model bundle")
    parser.add_argument("--cache", help="its feature cache (256 of its vectors are captioned)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    import numpy as np
    from benchmarks.measuring import rate, big_vocab_decoder, generation_rates
    from benchmarks.tutorial_recipe import reference_greedy_rate

    from captioner.search.captioning import Captioner

    decoder, vocab, features = big_vocab_decoder()
    reference = reference_greedy_rate(len(vocab), 34, features[:3])
    ours = generation_rates(decoder, vocab, features, batches=(256,))
    results = {"reference_greedy_b1": round(reference, 3),
               "flickr8k_vocab": {k: {"captions_per_s": v, "ratio": round(v / reference, 1)} for k, v in ours.items()}}
    print(json.dumps(results, indent=2), flush=True)
    if args.bundle:
        from captioner.features.cache import FeatureCache
        from captioner.models.bundle import load_bundle

        bundle = load_bundle(args.bundle)
        with FeatureCache.open(args.cache) as cache:
            vectors = cache.get(cache.keys()[:256]).astype(np.float32)
        greedy = Captioner(bundle.decoder, bundle.vocab, beam_size=1)
        beam = Captioner(bundle.decoder, bundle.vocab, beam_size=5)
        words = np.mean([len(t.split()) for t in greedy.best(vectors)])
        results["trained"] = {
            "model": f"{args.bundle} ({len(bundle.vocab)} tokens, greedy captions of {words:.1f} words on average)",
            "greedy_b256": round(rate(lambda: greedy.best(vectors), len(vectors)), 1),
            "greedy_with_log_probs_b256": round(rate(lambda: greedy(vectors), len(vectors)), 1),
            "beam5_b256": round(rate(lambda: beam.best(vectors), len(vectors)), 1)}
        print(json.dumps(results["trained"], indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
