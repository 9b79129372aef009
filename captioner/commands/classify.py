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
    parser.add_argument("--model", required=True, metavar="DIR", help="classifier bundle (train --labels)")
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="clip files or folders of clips")
    parser.add_argument("--top-k", type=positive_int, default=1, help="the K most likely classes (default: 1)")
    parser.add_argument("--json", action="store_true", help="one JSON object per clip: clip, label, probability, top")
    parser.add_argument("--out", metavar="FILE.jsonl", help="write the results to this JSONL file instead (atomic)")
    parser.add_argument("--cache", metavar="DIR", help="feature cache to read from and add to (default: none)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clip frames per encoder batch (default: 32)")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")
    add_quiet(parser)


def run(args) -> int:

    from captioner.base.errors import UsageError
    from captioner.evaluation.classification import Labeller
    from captioner.features.cache import FeatureCache
    from captioner.features.features_for import encoder_for
    from captioner.features.notices import note_if_random
    from captioner.inputs.filetypes import looks_like_media
    from captioner.inputs.images import ImageFile, default_root, find_images
    from captioner.models.classifier_bundle import load_classifier_bundle

    if args.out and not args.out.lower().endswith(".jsonl"):
        raise UsageError(f"{args.out}: classify writes JSONL; name the file .jsonl")
    bundle = load_classifier_bundle(args.model)
    note_if_random(bundle.encoder)
    root = default_root(args.clips)
    items, problems, _ = find_images(args.clips, root=root, accept=looks_like_media)
    if not items and not problems:
        raise UsageError(f"{' '.join(args.clips)}: no clip files found")
    items = [ImageFile(it.key, it.path, bundle.frames) for it in items]
    labeller = Labeller(bundle, args.top_k)
    encoder = encoder_for(bundle.encoder, args.weights) if items else None
    cache = FeatureCache.open(args.cache, bundle.encoder, writable=True) if args.cache else None
    try:
        if args.out:
            from captioner.engines.folder_captioning import caption_folder

            report = caption_folder(items, problems, root, {}, encoder, labeller, args.out, args.batch_size, cache,
                                    show_progress=not args.quiet)
            print(report.summary() + f"; results in {args.out}")
            return 1 if report.failed else 0
        return _print(items, problems, encoder, labeller, args)
    finally:
        if cache is not None:
            cache.compact()
            cache.close()


def _print(items, problems, encoder, labeller, args) -> int:
    from captioner.features.clip_features import stack_clips
    from captioner.features.extraction import decoded_batches
    from captioner.features.notices import skipped

    failed = len(problems)
    for path, reason in problems:
        skipped(path, reason)
    for good, pixels, counts, bad in decoded_batches(items, encoder.input_size if encoder else 224, args.batch_size):
        for item, reason in bad:
            skipped(item.path, reason)
            failed += 1
        if not good:
            continue
        for item, ranked in zip(good, labeller.top(stack_clips(encoder.encode(pixels), counts, labeller.frames))):
            if args.json:
                print(json.dumps({"clip": item.path, "label": ranked[0][0], "probability": round(ranked[0][1], 4),
                                  "top": [{"label": c, "probability": round(p, 4)} for c, p in ranked]},
                                 ensure_ascii=False))
            else:
                for label, p in ranked:
                    print(f"{item.path}\t{label}\t{p:.4f}")
    return 1 if failed else 0
