"""Score a model bundle on one split of a caption file: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D.

Captions are generated through the same search as `caption` (no teacher forcing); references and hypotheses
are tokenised alike, as coco-caption does. Missing features are extracted into --cache.

With --labels ROOT and an activity classifier: top-1 and top-5 accuracy, per-class accuracy and the confusion
matrix; --json adds every clip's prediction.
"""

from __future__ import annotations

import sys

from captioner.commands.caption import add_search_options
from captioner.commands.options import add_dataset_options, add_quiet, check_dataset_choice

HELP = "BLEU-1..4, METEOR, ROUGE-L and CIDEr-D of a caption model (top-1/top-5 of a classifier) on a split"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="model bundle directory")
    add_dataset_options(parser, labels=True)
    parser.add_argument("--split", default="test", choices=["train", "val", "dev", "test", "all"],
                        help="which images to score (default: test)")
    add_search_options(parser, exported=False)
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
    from captioner.api.jobs import evaluate
    from captioner.base.atomic import write_json
    from captioner.datasets import load_captions
    from captioner.api.loading import load
    from captioner.report.report_file import check_html_path, write_report

    check_dataset_choice(args)
    if args.labels:
        return _evaluate_classifier(args)
    if args.html:
        check_html_path(args.html)
    # The encoder is built only for images the cache lacks; the random-encoder note comes with the scores.
    model = load(args.model, args.weights, build_encoder=False, expect="caption", announce=False)
    bundle = model.bundle
    captions = load_captions(args.captions)
    for line in captions.skipped:
        print(line, file=sys.stderr)
    split = None if args.split == "all" else args.split
    report = evaluate(model, args.cache, captions, args.images, split=split, beam_size=args.beam_size,
                      length_penalty=args.length_penalty, meteor=not args.no_meteor, weights=args.weights,
                      show_progress=not args.quiet)
    print(report.table())
    if bundle.encoder.is_random:
        print(f"note: encoder has {bundle.encoder.describe()}; these scores say nothing about real captioning")
    for path, write in ((args.json, lambda p: write_json(p, report.to_json())),
                        (args.coco_results, lambda p: write_json(p, report.coco_results())),
                        (args.html, lambda p: write_report(p, report.to_json()))):
        if path:
            write(path)
            print(f"wrote {path}")
    if report.skipped:
        print(f"note: {report.skipped} image(s) of the split could not be read and were left out (named above)")
    return 1 if report.skipped else 0


def _evaluate_classifier(args) -> int:
    from captioner.base.atomic import write_json
    from captioner.base.errors import UsageError
    from captioner.api.jobs import evaluate
    from captioner.datasets.ucf101 import load_labels
    from captioner.api.loading import load

    if args.html or args.coco_results:
        raise UsageError("--html and --coco-results are for caption models; a classifier's scores go to --json")
    model = load(args.model, args.weights, build_encoder=False, expect="classifier", announce=False)
    bundle = model.bundle
    labels = load_labels(args.labels, seed=bundle.training.get("settings", {}).get("seed", 0))
    for line in labels.skipped:
        print(line, file=sys.stderr)
    report = evaluate(model, args.cache, labels=labels, split=None if args.split == "all" else args.split,
                      weights=args.weights, show_progress=not args.quiet)
    print(report.table())
    if bundle.encoder.is_random:
        print(f"note: encoder has {bundle.encoder.describe()}; these scores say nothing about real clips")
    if args.json:
        write_json(args.json, report.to_json())
        print(f"wrote {args.json}")
    if report.skipped:
        print(f"note: {report.skipped} clip(s) of the split could not be read and were left out (named above)")
    return 1 if report.skipped else 0
