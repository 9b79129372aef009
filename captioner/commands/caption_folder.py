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
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="model bundle directory, or a model file from `captioner export` (.onnx, .tflite)")
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
    from captioner.api.engine_options import EngineOptions
    from captioner.api.loading import load
    from captioner.engines.outputs import output_format
    from captioner.engines.ray_engine import check_engine_options
    from captioner.report.report_file import check_html_path
    from captioner.runtime.sessions import is_exported

    output_format(args.out)  # usage errors before the model loads
    check_engine_options(args)
    if args.html:
        check_html_path(args.html)
    # The encoder is built only if some file is not cached (or with Ray, on the workers).
    model = load(args.model, args.weights, build_encoder=False, expect="caption")
    if args.beam_size is None and not is_exported(args.model):
        args.beam_size = 3
    report = model.caption_folder(args.folder, args.out, args.recursive, args.beam_size, args.length_penalty,
                                  args.cache, args.batch_size, args.resume, args.html,
                                  EngineOptions(args.engine, args.ray_address, args.workers), not args.quiet)
    print(report.summary() + f"; results in {args.out}")
    if args.html:
        print(f"wrote {args.html}")
    return 1 if report.failed else 0
