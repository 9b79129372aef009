"""Benchmark: extraction on the local engine and on a local Ray with 1 and 2 encoder workers.

Usage:
    python -m benchmarks ray_extraction --photos ../shared/data/flickr8k_sample/Images [--images 120] [--batch-size 16]

The same photos go through each engine's batches (decode + VGG16 fc2, random weights; nothing is written).
Prints, per engine: start-up (until the first batch is back: Ray, the actors' Keras import and VGG16 build),
steady images/s (the batches after the first), and end-to-end images/s including start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", required=True, help="folder of photos")
    parser.add_argument("--images", type=int, default=120, help="photos to use (default: 120)")
    parser.add_argument("--batch-size", type=int, default=16, help="encoder batch size (default: 16)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray encoder workers to try")
    args = parser.parse_args(argv)

    from captioner.inputs.images import find_images

    items = find_images([args.photos])[0][:args.images]
    results = {"images": len(items), "batch_size": args.batch_size, "cores": os.cpu_count()}
    results["local"] = _timed(lambda: _local(items, args.batch_size))
    from captioner.engines.ray_engine import RayEngine, ray_session
    from captioner.engines.ray_stages import EncodeFiles

    stage_args = {"weights": "random", "seed": 0, "precision": "fp32"}
    for workers in args.workers:
        # A fresh Ray each time, so that every run pays (and shows) its own start-up.
        def run(workers=workers):
            with ray_session(None, workers):
                yield from RayEngine(EncodeFiles, stage_args, workers)(items, args.batch_size)

        results[f"ray, {workers} worker{'s' if workers > 1 else ''}"] = _timed(run)
    for name, numbers in results.items():
        if isinstance(numbers, dict):
            print(f"{name:16s} start-up {numbers['startup_s']:5.1f} s  steady {numbers['steady_images_per_s']:5.2f} "
                  f"images/s  end to end {numbers['images_per_s']:5.2f} images/s")
    print(json.dumps(results, indent=2))
    return 0


def _local(items, batch_size):
    from captioner.features.encoder import Encoder
    from captioner.features.extraction import encoded_locally

    yield from encoded_locally(items, Encoder("random", 0), batch_size)


def _timed(batches) -> dict:
    start = time.perf_counter()
    arrivals = []  # (time, images) per batch
    for batch in batches():
        arrivals.append((time.perf_counter(), len(batch.good) + len(batch.bad)))
    end = arrivals[-1][0]
    first, total = arrivals[0][0], sum(n for _, n in arrivals)
    after_first = total - arrivals[0][1]
    return {"startup_s": round(first - start, 2),
            "steady_images_per_s": round(after_first / (end - first), 2) if end > first else 0.0,
            "images_per_s": round(total / (end - start), 2)}


if __name__ == "__main__":
    raise SystemExit(main())
