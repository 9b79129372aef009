"""The end-to-end demo on the built-in drawn sets: generate, extract, train, evaluate, caption.

--video runs the same on drawn clips (a shape moving left, right, up or down) with a clip model.
--activity uses those clips as a 4-class activity set (their motions as classes) and trains a classifier;
with --frame-encoder cnn, one with its own small CNN trained on the frames' pixels (no VGG16).

Runs anywhere offline with the default --weights random (and says so everywhere). With --weights imagenet
the same pipeline uses the real encoder.
"""

from __future__ import annotations

import os

from captioner.commands.options import add_frame_encoder, positive_int

HELP = "run the whole pipeline on a built-in drawn set"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", default="demo-run", metavar="DIR", help="where everything goes (default: demo-run)")
    parser.add_argument("--weights", default="random", metavar="imagenet|random|random-tiny|FILE",
                        help="encoder weights (default: random, so the demo runs offline; random-tiny: a tiny "
                             "VGG16, the pipeline in seconds)")
    parser.add_argument("--images", type=positive_int, default=1000, help="drawn images (default: 1000)")
    parser.add_argument("--set", dest="drawn_set", default="scenes", choices=["scenes", "shapes"],
                        help="drawn image set: scenes (1-3 shapes, relations, counts, clutter; the default) or "
                             "shapes (the first, easy set: one or two shapes on white)")
    parser.add_argument("--epochs", type=positive_int, default=60, help="most training epochs (default: 60)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--no-meteor", action="store_true", help="skip METEOR (Java, ~10 s per evaluation)")
    parser.add_argument("--video", action="store_true",
                        help="the video demo instead: drawn clips of a shape moving left/right/up/down (MSVD layout)")
    parser.add_argument("--activity", action="store_true",
                        help="the activity demo instead: the drawn clips' motions as classes (UCF101 layout)")
    add_frame_encoder(parser, "--activity")
    parser.add_argument("--clips", type=positive_int, default=200,
                        help="drawn clips for --video / --activity (default: 200)")
    parser.add_argument("--frames", type=positive_int, default=4,
                        help="frames per clip for --video / --activity, a multiple of 4 (default: 4)")


def run(args) -> int:
    if args.frame_encoder != "lstm" and not args.activity:
        from captioner.base.errors import UsageError

        raise UsageError("--frame-encoder goes with --activity")
    if args.activity:
        from captioner.demos.activity import run_activity_demo

        name = "activity" if args.frame_encoder == "lstm" else f"activity-{args.frame_encoder}"
        workdir = os.path.join(args.workdir, name) if args.workdir == "demo-run" else args.workdir
        return run_activity_demo(workdir, args.weights, args.clips, args.frames, args.epochs, args.quiet,
                                 args.frame_encoder)
    if args.video:
        from captioner.demos.video import run_video_demo

        return run_video_demo(os.path.join(args.workdir, "video") if args.workdir == "demo-run" else args.workdir,
                              args.weights, args.clips, args.frames, args.epochs, args.quiet, not args.no_meteor)
    from captioner.demos.images import run_image_demo

    return run_image_demo(args.workdir, args.weights, args.images, args.epochs, args.quiet, not args.no_meteor,
                          args.drawn_set)
