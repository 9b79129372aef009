"""Caption images (or clips, with a clip model) with a trained model bundle: one line each, `path<TAB>caption`.

Unreadable images are named on stderr with the reason (exit status 1).
"""

from __future__ import annotations

import json

from captioner.commands.options import positive_int

HELP = "caption image (or clip) files"


def add_search_options(parser) -> None:
    parser.add_argument("--beam-size", type=positive_int, default=3, help="beam width; 1 = greedy (default: 3)")
    parser.add_argument("--length-penalty", type=float, default=0.0,
                        help="rank beams by log-probability / (words + 1) ** A (default: 0, raw log-probability)")


def add_arguments(parser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR", help="model bundle directory")
    parser.add_argument("images", nargs="+", metavar="FILE", help="image files (clip files for a clip model)")
    add_search_options(parser)
    parser.add_argument("--num-captions", type=positive_int, default=1,
                        help="the K best captions per image, with log-probabilities (K <= beam size; default: 1)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: image, caption, log_prob (and 'captions' for K > 1)")
    parser.add_argument("--weights", default=None, metavar="FILE",
                        help="encoder weights, only needed when the model was trained with a local weights file")


# Up to this many files are captioned by an eager search: compiling it (seconds) costs more than it saves.
EAGER_UP_TO = 64


def run(args) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from captioner.base.errors import UsageError
    from captioner.features.clip_features import stack_clips
    from captioner.features.extraction import decoded_batches
    from captioner.features.features_for import encoder_for
    from captioner.features.notices import note_if_random, skipped
    from captioner.inputs.gpu_decoding import gpu_decoder
    from captioner.inputs.images import ImageFile
    from captioner.models.bundle import load_bundle, read_encoder

    if args.num_captions > args.beam_size:
        raise UsageError(f"--num-captions {args.num_captions} needs --beam-size of at least {args.num_captions}")
    # Cold start: the encoder (seconds: 138M weights) is made in a thread while Keras is imported (here, by the
    # search) and the decoder loads; its arrays need only numpy, so that part overlaps the import.
    with ThreadPoolExecutor(max_workers=1) as building:
        encoder_future = building.submit(encoder_for, read_encoder(args.model), args.weights)
        from captioner.search.captioning import Captioner

        bundle = load_bundle(args.model)
        note_if_random(bundle.encoder)
        captioner = Captioner(bundle.decoder, bundle.vocab, args.beam_size, args.num_captions, args.length_penalty,
                              feature_dtype=bundle.feature_dtype, compiled=len(args.images) > EAGER_UP_TO)
        encoder = encoder_future.result()
    items = [ImageFile(p, p, bundle.frames) for p in args.images]
    failed = 0
    for good, pixels, counts, bad in decoded_batches(items, encoder.input_size, 32, gpu=gpu_decoder("auto")):
        for item, reason in bad:
            skipped(item.path, reason)
            failed += 1
        if not good:
            continue
        ranked = captioner(stack_clips(encoder.encode(pixels), counts, bundle.frames))
        for item, captions in zip(good, ranked):
            if args.json:
                record = {"image": item.path, "caption": captions[0].text, "log_prob": round(captions[0].log_prob, 4)}
                if args.num_captions > 1:
                    record["captions"] = [{"caption": c.text, "log_prob": round(c.log_prob, 4)} for c in captions]
                print(json.dumps(record, ensure_ascii=False))
            else:
                for c in captions:
                    print(f"{item.path}\t{c.text}" + (f"\t{c.log_prob:.4f}" if args.num_captions > 1 else ""))
    return 1 if failed else 0
