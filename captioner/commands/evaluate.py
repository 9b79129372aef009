"""Score a model bundle on one split of a caption file: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D.

Captions are generated through the same search as `caption` (no teacher forcing); references and hypotheses
are tokenised alike, as coco-caption does. Missing features are extracted into --cache.
"""

from __future__ import annotations

import sys

from captioner.commands.caption import add_search_options
from captioner.commands.options import add_dataset_options, add_quiet

HELP = "BLEU-1..4, METEOR, ROUGE-L and CIDEr-D of a model on a dataset split"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="model bundle directory")
    add_dataset_options(parser)
    parser.add_argument("--split", default="test", choices=["train", "val", "dev", "test", "all"],
                        help="which images to score (default: test)")
    add_search_options(parser)
    parser.add_argument("--json", metavar="OUT", help="also write every metric, the settings, and every image's "
                                                       "caption, references and scores to this JSON file")
    parser.add_argument("--html", metavar="REPORT", help="also write a self-contained HTML page: metrics, training "
                                                          "curves, every image with its caption, references and scores")
    parser.add_argument("--coco-results", metavar="OUT", help="also write the captions as a COCO results file "
                                                               "([{image_id, caption}], as pycocoevalcap reads it)")
    parser.add_argument("--no-meteor", action="store_true",
                        help="skip METEOR (it needs Java and ~10 s to start); SPICE is never computed: it needs a "
                             "385 MB Stanford CoreNLP download")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")
    add_quiet(parser)


def run(args) -> int:
    from captioner.atomic import write_json
    from captioner.bundle import load_bundle
    from captioner.datasets import load_captions
    from captioner.encoder import describe
    from captioner.evaluation import evaluate
    from captioner.report_file import check_html_path, write_report

    if args.html:
        check_html_path(args.html)
    bundle = load_bundle(args.model)
    captions = load_captions(args.captions)
    for line in captions.skipped:
        print(line, file=sys.stderr)
    split = None if args.split == "all" else args.split
    report = evaluate(bundle, captions, split, args.images, args.cache, args.beam_size, args.weights,
                      show_progress=not args.quiet, length_penalty=args.length_penalty, meteor=not args.no_meteor)
    print(report.table())
    if bundle.encoder["weights"] == "random":
        print(f"note: encoder has {describe(bundle.encoder)}; these scores say nothing about real captioning")
    for path, write in ((args.json, lambda p: write_json(p, report.to_json())),
                        (args.coco_results, lambda p: write_json(p, report.coco_results())),
                        (args.html, lambda p: write_report(p, report.to_json()))):
        if path:
            write(path)
            print(f"wrote {path}")
    if report.skipped:
        print(f"note: {report.skipped} image(s) of the split could not be read and were left out (named above)")
    return 1 if report.skipped else 0
