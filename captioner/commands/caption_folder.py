"""Caption every image (or, with a clip model, every clip) in a folder into one results file.

The format follows the extension: JSONL, CSV or COCO results JSON.

Streams: memory stays flat whatever the folder size. Every image file considered appears exactly once: with
its caption, or with "error": reason when it cannot be read (COCO results hold the captioned ones only, as
pycocoevalcap reads a caption from every entry; failures are named on stderr). The output file is replaced atomically when
complete; until then a killed run leaves the old file untouched and its progress in a hidden journal beside it.
With --resume, images already captioned (in the old output or the journal) are kept and not redone.
"""

from __future__ import annotations

from captioner.commands.caption import add_search_options
from captioner.commands.options import add_engine_options, add_quiet, positive_int

HELP = "caption a whole folder into a JSONL/CSV/COCO-json file"


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="model bundle directory")
    parser.add_argument("folder", metavar="FOLDER", help="folder of images (or clips, for a clip model)")
    parser.add_argument("--out", required=True, metavar="FILE", help="results file: .jsonl, .csv or .json (COCO results)")
    parser.add_argument("--recursive", action="store_true", help="also caption images in sub-folders")
    add_search_options(parser)
    parser.add_argument("--cache", metavar="DIR", help="feature cache to read from and add to (default: none)")
    parser.add_argument("--batch-size", type=positive_int, default=32,
                        help="images (or clip frames) per encoder batch (default: 32)")
    parser.add_argument("--html", metavar="REPORT", help="also write a self-contained HTML page of every image "
                                                          "(or clip's frames) with its caption")
    parser.add_argument("--resume", action="store_true", help="keep captions already in --out or in an interrupted run's journal; do the rest")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")
    add_engine_options(parser)
    add_quiet(parser)


def run(args) -> int:
    import os

    from captioner.base.errors import UsageError
    from captioner.engines.folder_captioning import caption_folder
    from captioner.engines.outputs import earlier_captions, output_format
    from captioner.engines.ray_engine import check_engine_options
    from captioner.features.cache import FeatureCache
    from captioner.features.extraction import is_cached
    from captioner.features.features_for import encoder_for
    from captioner.features.notices import note_if_random
    from captioner.inputs.filetypes import looks_like_media
    from captioner.inputs.images import ImageFile, find_images
    from captioner.models.bundle import load_bundle
    from captioner.report.report_file import check_html_path
    from captioner.search.captioning import Captioner

    output_format(args.out)
    check_engine_options(args)
    if args.html:
        check_html_path(args.html)
    if not os.path.isdir(args.folder):
        raise UsageError(f"{args.folder}: not a folder")
    bundle = load_bundle(args.model)
    note_if_random(bundle.encoder)
    # Images and clips alike are listed: the kind the model does not take is reported, not passed over.
    items, problems, _ = find_images([args.folder], root=args.folder, recursive=args.recursive, accept=looks_like_media)
    items = [ImageFile(it.key, it.path, bundle.frames) for it in items]
    earlier = earlier_captions(args.out) if args.resume else {}
    captioner = Captioner(bundle.decoder, bundle.vocab, args.beam_size, 1, args.length_penalty,
                          feature_dtype=bundle.feature_dtype)
    todo = [it for it in items if it.key not in earlier]
    cache = FeatureCache.open(args.cache, bundle.encoder, writable=True) if args.cache else None
    try:
        fresh = [it for it in todo if cache is None or not is_cached(cache, it)]  # what needs the encoder
        if args.engine == "ray" and fresh:
            report = _caption_on_ray(args, bundle, items, problems, earlier, captioner, cache)
        else:
            encoder = encoder_for(bundle.encoder, args.weights) if fresh else None
            report = caption_folder(items, problems, args.folder, earlier, encoder, captioner, args.out,
                                    args.batch_size, cache, show_progress=not args.quiet)
    finally:
        if cache is not None:
            cache.compact()
            cache.close()
    print(report.summary() + f"; results in {args.out}")
    if args.html:
        _write_page(args, bundle, {it.key: it.path for it in items})
        print(f"wrote {args.html}")
    return 1 if report.failed else 0


def _caption_on_ray(args, bundle, items, problems, earlier, captioner, cache):
    """Encoder and search in Ray's actors, each loading the bundle (so --model must be readable on every node)."""
    import os

    from captioner.engines.folder_captioning import caption_folder
    from captioner.engines.ray_engine import ray_engine, weights_for_workers
    from captioner.engines.ray_stages import CaptionFiles
    from captioner.features.features_for import encoder_args

    weights, seed, precision = encoder_args(bundle.encoder, args.weights)  # checked here, built on the workers
    stage_args = {"weights": weights_for_workers(weights), "seed": seed, "precision": precision,
                  "model": os.path.abspath(args.model), "beam_size": args.beam_size,
                  "length_penalty": args.length_penalty,
                  "feature_dtype": cache.dtype.name if cache is not None else None}
    with ray_engine(args, CaptionFiles, stage_args) as engine:
        return caption_folder(items, problems, args.folder, earlier, None, captioner, args.out, args.batch_size,
                              cache, show_progress=not args.quiet, engine=engine)


def _write_page(args, bundle, paths: dict[str, str]) -> None:
    """The page is made from the finished results file, so a resumed run shows every image, old and new."""
    from captioner.engines.outputs import read_results
    from captioner.report.report_file import write_report

    records = [{**r, "file": paths[r["image"]]} if r["image"] in paths else r for r in read_results(args.out)]
    write_report(args.html, {"folder": args.folder, "model": args.model, "frames": bundle.frames,
                             "encoder_weights": bundle.encoder["weights"], "training": bundle.training,
                             "captions": sorted(records, key=lambda r: r["image"])})
