"""The end-to-end demo on the built-in synthetic dataset: generate, extract, train, evaluate, caption.

--video runs the same on drawn clips (a shape moving left, right, up or down) with a clip model.
--activity uses those clips as a 4-class activity set (their motions as classes) and trains a classifier.

Runs anywhere offline with the default --weights random (and says so everywhere). With --weights imagenet
the same pipeline uses the real encoder.
"""

from __future__ import annotations

import json
import os
import time

from captioner.commands.options import positive_int

HELP = "run the whole pipeline on the built-in synthetic dataset"


def add_arguments(parser) -> None:
    parser.add_argument("--workdir", default="demo-run", metavar="DIR", help="where everything goes (default: demo-run)")
    parser.add_argument("--weights", default="random", metavar="imagenet|random|random-tiny|FILE",
                        help="encoder weights (default: random, so the demo runs offline; random-tiny: a tiny "
                             "VGG16, the pipeline in seconds)")
    parser.add_argument("--images", type=positive_int, default=1000, help="synthetic images (default: 1000)")
    parser.add_argument("--epochs", type=positive_int, default=60, help="most training epochs (default: 60)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--no-meteor", action="store_true", help="skip METEOR (Java, ~10 s per evaluation)")
    parser.add_argument("--video", action="store_true",
                        help="the video demo instead: drawn clips of a shape moving left/right/up/down (MSVD layout)")
    parser.add_argument("--activity", action="store_true",
                        help="the activity demo instead: the drawn clips' motions as classes (UCF101 layout)")
    parser.add_argument("--clips", type=positive_int, default=200,
                        help="drawn clips for --video / --activity (default: 200)")
    parser.add_argument("--frames", type=positive_int, default=4,
                        help="frames per clip for --video / --activity, a multiple of 4 (default: 4)")


def run(args) -> int:
    if args.activity:
        from captioner.demos.activity import run_activity_demo

        workdir = os.path.join(args.workdir, "activity") if args.workdir == "demo-run" else args.workdir
        return run_activity_demo(workdir, args.weights, args.clips, args.frames, args.epochs, args.quiet)
    if args.video:
        from captioner.demos.video import run_video_demo

        return run_video_demo(os.path.join(args.workdir, "video") if args.workdir == "demo-run" else args.workdir,
                              args.weights, args.clips, args.frames, args.epochs, args.quiet, not args.no_meteor)
    from captioner.datasets import load_captions
    from captioner.datasets.synthetic import colour_shape_correct, write_synthetic
    from captioner.evaluation.scoring import evaluate
    from captioner.features.encoder import describe, fingerprint
    from captioner.models.bundle import load_bundle
    from captioner.report.report_file import write_report
    from captioner.training.train import TrainSettings, train

    started = time.perf_counter()
    data_dir = os.path.join(args.workdir, "data")
    cache_dir = os.path.join(args.workdir, "cache")
    model_dir = os.path.join(args.workdir, "model")
    token_file = os.path.join(data_dir, "captions.token.txt")
    if not os.path.exists(token_file):
        write_synthetic(data_dir, num_images=args.images)
    images = os.path.join(data_dir, "Images")
    captions = load_captions(token_file)
    fp = fingerprint(args.weights)
    print(f"1. dataset: {len(captions.captions)} synthetic images, {captions.num_captions} captions in {data_dir}")
    print(f"   encoder: {describe(fp)}")

    resume = os.path.exists(os.path.join(model_dir, "checkpoints", "state.json"))
    summary = train(captions, images, cache_dir, model_dir, fp, args.weights,
                    TrainSettings(epochs=args.epochs, patience=4), resume=resume, show_progress=not args.quiet)
    print(f"2. trained {summary['epochs']} epochs (best {summary['best_epoch']}), "
          f"{summary['seconds_per_epoch']} s/epoch; bundle in {model_dir}")

    bundle = load_bundle(model_dir)
    truth = json.load(open(os.path.join(data_dir, "truth.json"), encoding="utf-8"))
    print("3. test split:")
    reports = {}
    for beam in (1, 3):
        start = time.perf_counter()
        reports[beam] = evaluate(bundle, captions, "test", images, cache_dir, beam, args.weights,
                                 show_progress=not args.quiet, meteor=not args.no_meteor)
        seconds = time.perf_counter() - start
        r = reports[beam]
        correct = sum(colour_shape_correct(c, truth[k]) for k, c in r.captions())
        print(f"   {'greedy' if beam == 1 else 'beam 3':7s} {r.line()}\n"
              f"           colour+shape right {correct}/{r.images} ({correct / r.images:.0%})  [{seconds:.1f} s]")
        if r.meteor_skipped:
            print(f"           METEOR skipped: {r.meteor_skipped}")
    print("4. captions of a few test images (beam 3):")
    for key, caption in reports[3].captions()[:5]:
        drawn = ", ".join(f"{s['colour']} {s['shape']}" for s in truth[key])
        print(f"   {key}: {caption!r}   (drawn: {drawn})")
    distinct = len({c for _, c in reports[3].captions()})
    print(f"   {distinct} distinct captions for {reports[3].images} test images")
    page = os.path.join(args.workdir, "report.html")
    write_report(page, reports[3].to_json())
    print(f"5. report page (beam 3, every test image with its caption, references and scores): {page}")
    if fp["weights"] == "random":
        print("note: RANDOM encoder weights: fine for shapes, not for photos; use --weights imagenet for real use")
    print(f"done in {time.perf_counter() - started:.0f} s. Try:\n"
          f"  python -m captioner caption --model {model_dir} {os.path.join(images, 'shapes_00000.jpg')}")
    return 0
