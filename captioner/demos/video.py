"""The video demo: drawn moving-shape clips -> extract frames -> train a clip model -> evaluate -> caption."""

from __future__ import annotations

import json
import os
import time


def run_video_demo(workdir: str, weights: str, clips: int, frames: int, epochs: int, quiet: bool,
                   meteor: bool = True) -> int:
    from captioner.datasets import load_captions
    from captioner.drawn.shape_clips import colour_correct, direction_correct, write_synthetic_clips
    from captioner.evaluation.scoring import evaluate
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import features_for_job
    from captioner.models.bundle import load_bundle
    from captioner.report.report_file import write_report
    from captioner.training.train import TrainSettings, train

    started = time.perf_counter()
    data_dir, cache_dir, model_dir = (os.path.join(workdir, name) for name in ("data", "cache", "model"))
    caption_file = os.path.join(data_dir, "captions.csv")
    if not os.path.exists(caption_file):
        write_synthetic_clips(data_dir, num_clips=clips)
    clips_dir = os.path.join(data_dir, "Clips")
    captions = load_captions(caption_file)
    fp = fingerprint(weights)
    print(f"1. dataset: {len(captions.captions)} drawn clips (MP4 and GIF, MSVD layout), {captions.num_captions} "
          f"English captions in {data_dir}; {frames} frames per clip")
    print(f"   encoder: {fp.describe()}")

    resume = os.path.exists(os.path.join(model_dir, "checkpoints", "state.json"))
    features = features_for_job(cache_dir, fp, captions.training_keys(), clips_dir, weights, not quiet, frames)
    summary = train(captions, features, model_dir, TrainSettings(epochs=epochs, patience=4), resume=resume,
                    show_progress=not quiet)
    print(f"2. trained {summary['epochs']} epochs (best {summary['best_epoch']}), "
          f"{summary['seconds_per_epoch']} s/epoch; clip model bundle in {model_dir}")

    bundle = load_bundle(model_dir)
    with open(os.path.join(data_dir, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    print("3. test split:")
    reports = {}
    for beam in (1, 3):
        start = time.perf_counter()
        r = reports[beam] = evaluate(bundle, captions, "test", clips_dir, cache_dir, beam, weights,
                                     show_progress=not quiet, meteor=meteor)
        seconds = time.perf_counter() - start
        motion = sum(direction_correct(c, truth[k]) for k, c in r.captions())
        colour = sum(colour_correct(c, truth[k]) for k, c in r.captions())
        print(f"   {'greedy' if beam == 1 else 'beam 3':7s} {r.line()}\n"
              f"           direction right {motion}/{r.images} ({motion / r.images:.0%})"
              f"  colour right {colour}/{r.images} ({colour / r.images:.0%})  [{seconds:.1f} s]")
        if r.meteor_skipped:
            print(f"           METEOR skipped: {r.meteor_skipped}")
    print("4. captions of a few test clips (beam 3):")
    for key, caption in reports[3].captions()[:5]:
        t = truth[key]
        print(f"   {t['file']}: {caption!r}   (drawn: {t['colour']} {t['shape']} moving {t['direction']})")
    if fp.is_random:
        print("note: RANDOM encoder weights: fine for drawn shapes, not for real video; use --weights imagenet")
    page = os.path.join(workdir, "report.html")
    write_report(page, reports[3].to_json())
    print(f"5. report page (beam 3, every test clip as a strip of its frames, with captions and scores): {page}")
    example = os.path.join(clips_dir, truth[reports[3].captions()[0][0]]["file"])
    print(f"done in {time.perf_counter() - started:.0f} s. Try:\n"
          f"  python -m captioner caption --model {model_dir} {example}")
    return 0
