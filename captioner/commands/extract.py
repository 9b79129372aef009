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
    from captioner.api.engine_options import EngineOptions
    from captioner.api.jobs import extract
    from captioner.features.notices import skipped

    report = extract(args.paths, args.cache, args.weights, args.encoder_seed, args.precision, args.frames, args.dtype,
                     args.root, args.batch_size, EngineOptions(args.engine, args.ray_address, args.workers, args.decode),
                     show_progress=not args.quiet, on_skip=skipped)
    print(f"{report.summary()}; cache {args.cache} (keys relative to {report.root})")
    return 1 if report.failed else 0
