"""Show what a feature cache holds (entries, dtype, encoder fingerprint) and export it to .npz."""

from __future__ import annotations

import json

HELP = "inspect or export a feature cache"


def add_arguments(parser) -> None:
    parser.add_argument("directory", metavar="DIR", help="feature cache directory")
    parser.add_argument("--export", metavar="FILE.npz",
                        help="write arrays 'keys' (sorted) and 'features' (same order) to FILE.npz")
    parser.add_argument("--keys", action="store_true", help="also list every key")


def run(args) -> int:
    from captioner.features.cache import FeatureCache

    cache = FeatureCache.open(args.directory)
    print(f"cache {args.directory}: {len(cache)} entries, {cache.dtype} x {cache.dim}")
    print(f"encoder: {cache.fingerprint.describe()}")
    print("fingerprint: " + json.dumps(cache.fingerprint.to_json(), sort_keys=True))
    if args.keys:
        for key in cache.keys():
            print(key)
    if args.export:
        n = cache.export(args.export)
        print(f"exported {n} entries to {args.export}")
    return 0
