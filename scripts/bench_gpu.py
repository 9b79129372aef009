"""GPU benchmark: extraction and generation under the active Keras backend (no TensorFlow needed).

Usage (on the GPU machine):
    KERAS_BACKEND=jax python scripts/bench_gpu.py [--bundle MODEL_DIR] [--images N] [--json OUT]

Prints images/s of extraction beside a bare VGG16 loop (random encoder), and greedy / beam captions/s of a
trained bundle (if given) and of an untrained decoder with a Flickr8k-sized vocabulary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", help="a trained model bundle to time (default: none)")
    parser.add_argument("--images", type=int, default=512, help="synthetic images for extraction (default: 512)")
    parser.add_argument("--batch-size", type=int, default=64, help="encoder batch size (default: 64)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    import numpy as np
    from bench_extract import measure
    from bench_generation import big_vocab_decoder, generation_rates

    from captioner.backend import import_keras

    keras = import_keras()
    results = {"backend": keras.config.backend(), "devices": _devices(keras)}
    results["extract"] = measure(None, args.images, args.batch_size)
    print(json.dumps(results, indent=2), flush=True)
    batches = (1, 32, 256, 1024)
    if args.bundle:
        from captioner.bundle import load_bundle

        bundle = load_bundle(args.bundle)
        features = np.random.default_rng(0).standard_normal((1024, 4096)).astype(np.float32)
        results["generation_bundle"] = generation_rates(bundle.decoder, bundle.vocab, features, batches, 1024)
    decoder, vocab, features = big_vocab_decoder(1024)
    results["generation_flickr8k_vocab"] = generation_rates(decoder, vocab, features, batches, 1024)
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


def _devices(keras) -> str:
    if keras.config.backend() == "jax":
        import jax

        return ", ".join(str(d) for d in jax.devices())
    return "see the backend's own device list"


if __name__ == "__main__":
    sys.exit(main())
