"""Encode images with the frozen VGG16 into a feature cache.

Files and folders (recursively) are accepted. Images already in the cache are skipped, so a killed run
continues where it stopped. Unreadable files are listed with the reason and skipped.
"""

from __future__ import annotations

from captioner.commands.options import add_encoder_options, add_quiet

HELP = "encode images into a feature cache"


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files and folders")
    parser.add_argument("--cache", required=True, metavar="DIR", help="feature cache directory (created if needed)")
    parser.add_argument("--root", metavar="DIR",
                        help="folder that cache keys are relative to (default: the folder given, "
                             "or the deepest folder holding all PATHs)")
    add_encoder_options(parser)
    add_quiet(parser)


def run(args) -> int:
    from captioner.encoder import Encoder, fingerprint
    from captioner.extraction import extract_to_cache
    from captioner.features import FeatureCache
    from captioner.images import find_images
    from captioner.report import note_if_random, skipped

    items, problems, root = find_images(args.paths, root=args.root)
    for path, reason in problems:
        skipped(path, reason)
    fp = fingerprint(args.weights, args.seed)
    with FeatureCache.open(args.cache, fp, args.dtype, writable=True) as cache:
        todo = [it for it in items if it.key not in cache]
        encoder = Encoder(args.weights, args.seed) if todo else None
        note_if_random(fp)
        report = extract_to_cache(items, encoder, cache, args.batch_size, not args.quiet, skipped) \
            if encoder else _nothing_to_do(items, cache)
    report.failed[:0] = problems
    print(f"{report.summary()}; cache {args.cache} (keys relative to {root})")
    return 1 if report.failed else 0


def _nothing_to_do(items, cache):
    from captioner.extraction import ExtractReport

    cache.compact()
    return ExtractReport(total=len(items), cached=len(items))
