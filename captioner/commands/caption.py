"""Caption images (or clips, with a clip model) with a trained model bundle: one line each, `path<TAB>caption`.

Unreadable images are named on stderr with the reason (exit status 1).
"""

from __future__ import annotations

import json
import os

from captioner.commands.options import positive_int

HELP = "caption image (or clip) files"


def add_search_options(parser, exported: bool = True) -> None:
    """--beam-size (default 3; for a command that also takes an exported model, None: the file's own search)."""
    parser.add_argument("--beam-size", type=positive_int, default=None if exported else 3,
                        help="beam width; 1 = greedy (default: 3; an exported model: the search inside it)")
    parser.add_argument("--length-penalty", type=float, default=0.0,
                        help="rank beams by log-probability / (words + 1) ** A (default: 0, raw log-probability)")


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="model bundle directory, or a model file from `captioner export` (.onnx, .tflite)")
    parser.add_argument("images", nargs="+", metavar="FILE", help="image files (clip files for a clip model)")
    add_search_options(parser)
    parser.add_argument("--num-captions", type=positive_int, default=1,
                        help="the K best captions per image, with log-probabilities (K <= beam size; default: 1)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: input, caption, log_prob (and 'captions' for K > 1), or "
                             "input, error")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")


# Up to this many files are captioned by an eager search: compiling it (seconds) costs more than it saves.
EAGER_UP_TO = 64


def run(args) -> int:
    from captioner.api.loading import load
    from captioner.base.errors import UsageError
    from captioner.features.notices import skipped
    from captioner.runtime.sessions import is_exported

    exported = is_exported(args.model)
    if args.beam_size is None and not exported:
        args.beam_size = 3
    if args.beam_size is not None and args.num_captions > args.beam_size:
        raise UsageError(f"--num-captions {args.num_captions} needs --beam-size of at least {args.num_captions}")
    folder = next((path for path in args.images if os.path.isdir(path)), None)
    if folder is not None:
        raise UsageError(f"{folder}: is a folder; caption-folder captions a whole folder: captioner caption-folder "
                         f"--model {args.model} {folder} --out captions.jsonl")
    model = load(args.model, args.weights, compile_search=len(args.images) > EAGER_UP_TO, expect="caption")
    failed = 0
    for result in model.caption_stream(args.images, args.beam_size, args.num_captions, args.length_penalty):
        if result.error is not None:
            skipped(result.input, result.error)
            failed += 1
        if args.json:  # every input has its line, as caption-folder's output has its record
            print(json.dumps(result.to_json(all_captions=args.num_captions > 1, digits=4), ensure_ascii=False))
        elif result.error is None:
            for c in result.captions:
                print(f"{result.input}\t{c.text}" + (f"\t{c.log_prob:.4f}" if args.num_captions > 1 else ""))
    return 1 if failed else 0
