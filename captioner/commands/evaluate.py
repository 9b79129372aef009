"""Score a model bundle with BLEU-1..4 on one split of a caption file.

Captions are generated through the same search as `caption` (no teacher forcing); references and hypotheses
are normalised by the same function as the training captions. Missing features are extracted into --cache.
"""

from __future__ import annotations

import sys

from captioner.commands.caption import add_search_options
from captioner.commands.options import add_dataset_options, add_quiet

HELP = "BLEU-1..4 of a model on a dataset split"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="model bundle directory")
    add_dataset_options(parser)
    parser.add_argument("--split", default="test", choices=["train", "val", "dev", "test", "all"],
                        help="which images to score (default: test)")
    add_search_options(parser)
    parser.add_argument("--json", metavar="OUT", help="also write bleu1..bleu4, images, beam_size, encoder_weights, "
                                                       "and every caption to this JSON file")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")
    add_quiet(parser)


def run(args) -> int:
    from captioner.atomic import write_json
    from captioner.bundle import load_bundle
    from captioner.datasets import load_captions
    from captioner.encoder import describe
    from captioner.evaluation import evaluate

    bundle = load_bundle(args.model)
    captions = load_captions(args.captions)
    for line in captions.skipped:
        print(line, file=sys.stderr)
    split = None if args.split == "all" else args.split
    report = evaluate(bundle, captions, split, args.images, args.cache, args.beam_size, args.weights,
                      show_progress=not args.quiet, length_penalty=args.length_penalty)
    print(report.table())
    if bundle.encoder["weights"] == "random":
        print(f"note: encoder has {describe(bundle.encoder)}; these scores say nothing about real captioning")
    if args.json:
        write_json(args.json, report.to_json())
        print(f"wrote {args.json}")
    if report.skipped:
        print(f"note: {report.skipped} image(s) of the split could not be read and were left out (named above)")
    return 1 if report.skipped else 0
