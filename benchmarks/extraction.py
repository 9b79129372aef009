"""Benchmark: feature extraction (decode + VGG16 + cache) against a bare VGG16 forward loop.

Usage:
    python -m benchmarks extraction [--images DIR] [--count N] [--batch-size N] [--weights random]

Both sides see the same images; the bare loop gets them already decoded in memory, so the ratio shows how
well decoding and cache writes hide behind the CNN (target: >= 0.9). Prints images/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", help="folder of images (default: 64 synthetic images in a temp folder)")
    parser.add_argument("--count", type=int, default=64, help="images to use (default: 64)")
    parser.add_argument("--batch-size", type=int, default=32, help="encoder batch size (default: 32)")
    parser.add_argument("--weights", default="random", help="encoder weights (default: random)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    from benchmarks.measuring import extraction_rates

    print(json.dumps(extraction_rates(args.images, args.count, args.batch_size, args.weights), indent=2))
    return 0



if __name__ == "__main__":
    sys.exit(main())
