"""Benchmark: feature extraction (decode + VGG16 + cache) against a bare VGG16 forward loop.

Usage:
    python scripts/bench_extract.py [--images DIR] [--count N] [--batch-size N] [--weights random]

Both sides see the same images; the bare loop gets them already decoded in memory, so the ratio shows how
well decoding and cache writes hide behind the CNN (target: >= 0.9). Prints images/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", help="folder of images (default: 64 synthetic images in a temp folder)")
    parser.add_argument("--count", type=int, default=64, help="images to use (default: 64)")
    parser.add_argument("--batch-size", type=int, default=32, help="encoder batch size (default: 32)")
    parser.add_argument("--weights", default="random", help="encoder weights (default: random)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.images, args.count, args.batch_size, args.weights), indent=2))
    return 0


def measure(images: str | None, count: int, batch_size: int, weights: str = "random", decode: str = "cpu",
            precision: str = "fp32", processes: bool | None = None) -> dict:
    """`decode`: where JPEGs are decoded ("gpu" needs nvImageCodec and a GPU); `processes`: CPU decoding in
    processes (None: the default for this machine's core count)."""
    import numpy as np

    from captioner.datasets.synthetic import write_synthetic
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import Encoder
    from captioner.features.extraction import decoded_batches, extract_to_cache
    from captioner.inputs.gpu_decoding import gpu_decoder
    from captioner.inputs.images import find_images

    with tempfile.TemporaryDirectory() as tmp:
        if images is None:
            images = write_synthetic(tmp + "/synthetic", num_images=count).rsplit("/", 1)[0] + "/Images"
        items = find_images([images])[0][:count]
        encoder = Encoder(weights, precision=precision)
        gpu = gpu_decoder(decode)
        warm = np.zeros((batch_size, 224, 224, 3), np.uint8)
        encoder.encode(warm)
        encoder.encode(warm[: len(items) % batch_size or batch_size])  # trace the last batch's shape too

        start = time.perf_counter()
        pixels = [p for _, p, _, _ in decoded_batches(items, 224, batch_size, gpu=gpu, processes=processes)]
        decode_only = len(items) / (time.perf_counter() - start)
        start = time.perf_counter()
        for batch in pixels:
            encoder.encode(batch)
        bare = len(items) / (time.perf_counter() - start)

        with FeatureCache.open(tmp + "/cache", encoder.fingerprint, "float16", writable=True) as cache:
            start = time.perf_counter()
            report = extract_to_cache(items, encoder, cache, batch_size, show_progress=False, gpu=gpu)
            pipeline = report.extracted / (time.perf_counter() - start)
    return {"images": len(items), "batch_size": batch_size, "weights": weights, "decode": decode,
            "precision": precision, "processes": processes,
            "decode_only_images_per_s": round(decode_only, 1),
            "bare_forward_images_per_s": round(bare, 2), "extract_images_per_s": round(pipeline, 2),
            "ratio": round(pipeline / bare, 3)}


if __name__ == "__main__":
    sys.exit(main())
