"""Options shared by several subcommands, so that they read the same everywhere."""

from __future__ import annotations

import argparse

from captioner.inputs.filetypes import DEFAULT_FRAMES  # noqa: F401 (the commands read it from here)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|random|random-tiny|FILE",
                        help="VGG16 weights: 'imagenet' (downloads once), 'random' (seeded, offline tests only), "
                             "'random-tiny' (VGG16 at 1/16 of the width, 64-d features, seeded: the pipeline in "
                             "seconds, for tests) or a local .h5 file (default: imagenet)")
    parser.add_argument("--encoder-seed", "--seed", dest="encoder_seed", type=int, default=0,
                        help="seed of the random encoder weights (--weights random/random-tiny) (default: 0)")
    add_precision(parser)
    parser.add_argument("--batch-size", type=positive_int, default=32,
                        help="images per encoder forward pass (default: 32)")
    parser.add_argument("--decode", choices=["auto", "cpu", "gpu"], default="auto",
                        help="where JPEGs are decoded: 'gpu' (NVIDIA nvImageCodec, the [gpu] extra), 'cpu', or "
                             "'auto': the GPU when the extra is installed and Keras computes on a GPU (default)")
    parser.add_argument("--dtype", choices=["float16", "float32"], default=None,
                        help="feature dtype of a new cache (default: float16; an existing cache keeps its own)")


def add_precision(parser: argparse.ArgumentParser, default: str | None = "fp32") -> None:
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default=default,
                        help="the encoder's arithmetic: bf16/fp16 are mixed precision (float32 weights, 16-bit "
                             "maths; fast on GPUs with tensor cores, slow on CPUs without bf16 support). Part of "
                             "the cache's encoder identity (default: fp32)")


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="where the work runs: this process ('local', default) or Ray ('ray': decoding in CPU "
                             "tasks, the encoder in a pool of actors; needs the [ray] extra)")
    parser.add_argument("--ray-address", metavar="ADDRESS",
                        help="with --engine ray: join the Ray cluster at ADDRESS (e.g. ray://head:10001 or "
                             "head:6379; default: start a local Ray on this machine)")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="with --engine ray: encoder actors (default: one per GPU in the cluster, else 1)")


def add_frame_encoder(parser: argparse.ArgumentParser, applies_to: str, default: str | None = "lstm") -> None:
    """--frame-encoder, read the same by `train` and `demo`."""
    parser.add_argument("--frame-encoder", choices=["lstm", "mean", "cnn"], default=default,
                        help=f"{applies_to}: an LSTM over the VGG16 frame vectors, their mean, or 'cnn': no VGG16, a "
                             "small CNN trained with the LSTM on the frames' pixels (default: lstm)")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_dataset_options(parser: argparse.ArgumentParser, labels: bool = False) -> None:
    """--captions, --images, --cache: a dataset and the feature cache that goes with it. With `labels`, an
    activity set (--labels ROOT, UCF101 layout) may stand in for --captions and --images."""
    parser.add_argument("--captions", required=not labels, metavar="FILE",
                        help="caption file (token .txt, .csv or .json)")
    parser.add_argument("--images", required=not labels, metavar="DIR",
                        help="image root the caption file's names are under")
    if labels:
        parser.add_argument("--labels", metavar="ROOT", help="activity clips in the UCF101 layout, ROOT/<Class>/<clip> "
                                                              "(with classInd.txt, trainlist01.txt, testlist01.txt "
                                                              "when there are): a classifier instead of a caption model")
    parser.add_argument("--cache", required=True, metavar="DIR",
                        help="feature cache (created or completed as needed)")


def check_dataset_choice(args) -> None:
    """Either --labels, or --captions with --images (argparse cannot say "one of two groups")."""
    from captioner.base.errors import UsageError

    if getattr(args, "labels", None):
        if args.captions or args.images:
            raise UsageError("--labels ROOT trains or scores a classifier: give it without --captions/--images")
    elif not (args.captions and args.images):
        raise UsageError("give --captions FILE and --images DIR (a caption model), or --labels ROOT (a classifier)")
