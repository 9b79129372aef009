"""Encode images and video clips with the frozen VGG16 into a feature cache.

Files and folders (recursively) are accepted. Video files (.mp4 .avi .mov .mkv .webm) are clips, and so are
animated GIF/WebP files when --frames is given: --frames frames are sampled uniformly over the frames decoded,
and each frame's vector is cached under `KEY@N:INDEX`, a clip's frames committed together. Images and clips
already in the cache are skipped, so a killed run continues where it stopped. Unreadable files are listed with
the reason and skipped.
"""

from __future__ import annotations

from captioner.commands.options import DEFAULT_FRAMES, add_encoder_options, add_engine_options, add_quiet, positive_int

HELP = "encode images and clips into a feature cache"


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image and video files, and folders")
    parser.add_argument("--cache", required=True, metavar="DIR", help="feature cache directory (created if needed)")
    parser.add_argument("--root", metavar="DIR",
                        help="folder that cache keys are relative to (default: the folder given, "
                             "or the deepest folder holding all PATHs)")
    parser.add_argument("--frames", type=positive_int, default=None,
                        help=f"frames sampled per video clip (default: {DEFAULT_FRAMES}); giving it also reads "
                             "animated GIF/WebP files as clips (else they are images: their first frame)")
    add_encoder_options(parser)
    add_engine_options(parser)
    add_quiet(parser)


def run(args) -> int:
    from captioner.engines.ray_engine import check_engine_options
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import Encoder, fingerprint
    from captioner.features.extraction import extract_to_cache, is_cached
    from captioner.features.notices import note_if_random, skipped
    from captioner.inputs.filetypes import looks_like_media, looks_like_video
    from captioner.inputs.frames import is_animated
    from captioner.inputs.gpu_decoding import gpu_decoder
    from captioner.inputs.images import ImageFile, find_images

    items, problems, root = find_images(args.paths, root=args.root, accept=looks_like_media)
    frames = args.frames or DEFAULT_FRAMES
    items = [ImageFile(it.key, it.path, frames if looks_like_video(it.path) or (args.frames and is_animated(it.path))
                       else 0) for it in items]
    for path, reason in problems:
        skipped(path, reason)
    fp = fingerprint(args.weights, args.seed, args.precision)
    check_engine_options(args)
    gpu = gpu_decoder(args.decode) if args.engine == "local" else None
    with FeatureCache.open(args.cache, fp, args.dtype, writable=True) as cache:
        todo = [it for it in items if not is_cached(cache, it)]
        note_if_random(fp)
        if not todo:
            report = _nothing_to_do(items, cache)
        elif args.engine == "ray":
            report = _extract_on_ray(args, items, cache)
        else:
            encoder = Encoder(args.weights, args.seed, args.precision)
            report = extract_to_cache(items, encoder, cache, args.batch_size, not args.quiet, skipped, gpu)
    report.failed[:0] = problems
    print(f"{report.summary()}; cache {args.cache} (keys relative to {root})")
    return 1 if report.failed else 0


def _extract_on_ray(args, items, cache):
    from captioner.engines.ray_engine import ray_engine, weights_for_workers
    from captioner.engines.ray_stages import EncodeFiles
    from captioner.features.extraction import extract_to_cache
    from captioner.features.notices import skipped

    stage_args = {"weights": weights_for_workers(args.weights), "seed": args.seed, "precision": args.precision,
                  "feature_dtype": cache.dtype.name}
    with ray_engine(args, EncodeFiles, stage_args) as engine:
        return extract_to_cache(items, None, cache, args.batch_size, not args.quiet, skipped, engine=engine)


def _nothing_to_do(items, cache):
    from captioner.features.extraction import ExtractReport

    cache.compact()
    return ExtractReport(total=len(items), cached=len(items))
