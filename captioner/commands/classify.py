"""Recognise the activity in clips with a classifier bundle (train --labels).

Prints `clip<TAB>label<TAB>probability` for each clip (K lines with --top-k K, most likely first), or one JSON
object per clip with --json. Folders are walked for clips. With --out F.jsonl the results go to a file instead,
streamed like caption-folder's: every clip exactly once, with its label or "error": reason, written atomically.
"""

from __future__ import annotations

import json

from captioner.commands.options import add_quiet, positive_int

HELP = "recognise the activity in clips with a classifier bundle"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="classifier bundle (train --labels), or its file from `captioner export`")
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="clip files or folders of clips")
    parser.add_argument("--top-k", type=positive_int, default=1, help="the K most likely classes (default: 1)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per clip: input, label, probability, top (or input, error)")
    parser.add_argument("--out", metavar="FILE.jsonl", help="write the results to this JSONL file instead (atomic)")
    parser.add_argument("--cache", metavar="DIR", help="feature cache to read from and add to (default: none)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clip frames per encoder batch (default: 32)")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")
    add_quiet(parser)


def run(args) -> int:
    from captioner.api.loading import load
    from captioner.base.errors import UsageError
    from captioner.features.notices import skipped
    from captioner.inputs.filetypes import looks_like_media
    from captioner.inputs.images import default_root, find_images

    if args.out and not args.out.lower().endswith(".jsonl"):
        raise UsageError(f"{args.out}: classify writes JSONL; name the file .jsonl")
    model = load(args.model, args.weights, build_encoder=False, expect="classifier")
    if args.out:
        report = model.classify_files(args.clips, args.out, args.top_k, args.cache, args.batch_size,
                                      show_progress=not args.quiet)
        print(report.summary() + f"; results in {args.out}")
        return 1 if report.failed else 0
    items, problems, _ = find_images(args.clips, root=default_root(args.clips), accept=looks_like_media)
    if not items and not problems:
        raise UsageError(f"{' '.join(args.clips)}: no clip files found")
    for path, reason in problems:
        skipped(path, reason)
        if args.json:
            print(json.dumps({"input": path, "error": reason}, ensure_ascii=False))
    failed = len(problems)
    for result in model.classify_stream([it.path for it in items], args.top_k, args.batch_size):
        if result.error is not None:
            skipped(result.input, result.error)
            failed += 1
        if args.json:  # every clip has its line, failures with their reason
            print(json.dumps(result.to_json(digits=4), ensure_ascii=False))
        elif result.error is None:
            for label, p in result.top:
                print(f"{result.input}\t{label}\t{p:.4f}")
    return 1 if failed else 0
