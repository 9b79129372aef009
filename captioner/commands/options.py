"""Options shared by several subcommands, so that they read the same everywhere."""

from __future__ import annotations

import argparse

DEFAULT_FRAMES = 16  # frames sampled per clip unless --frames says otherwise


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|random|FILE",
                        help="VGG16 weights: 'imagenet' (downloads once), 'random' (seeded, offline tests only) "
                             "or a local .h5 file (default: imagenet)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random encoder weights (default: 0)")
    parser.add_argument("--batch-size", type=positive_int, default=32,
                        help="images per encoder forward pass (default: 32)")
    parser.add_argument("--dtype", choices=["float16", "float32"], default=None,
                        help="feature dtype of a new cache (default: float16; an existing cache keeps its own)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """--captions, --images, --cache: a dataset and the feature cache that goes with it."""
    parser.add_argument("--captions", required=True, metavar="FILE", help="caption file (token .txt, .csv or .json)")
    parser.add_argument("--images", required=True, metavar="DIR", help="image root the caption file's names are under")
    parser.add_argument("--cache", required=True, metavar="DIR",
                        help="feature cache (created or completed as needed)")
