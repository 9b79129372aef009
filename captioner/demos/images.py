"""The image demo: a drawn set -> extract -> train -> evaluate greedy and beam 3 -> a report page.

The set is the harder drawn scenes (one to three shapes, relations, counts) by default; `drawn_set="shapes"` is
the first, easy one (one or two shapes on white), whose test split the demo's model scores near 1.0 on.
"""

from __future__ import annotations

import json
import os
import time

from captioner.api.jobs import evaluate, train
from captioner.api.loading import load
from captioner.base.errors import UsageError
from captioner.datasets import load_captions
from captioner.drawn.scenes import write_drawn_scenes
from captioner.drawn.shapes import write_synthetic
from captioner.drawn.truth import describe_shares, truth_shares
from captioner.features.encoder import fingerprint
from captioner.report.report_file import write_report


def _drawn(drawn_set: str, entry) -> str:
    shapes = entry if drawn_set == "shapes" else entry["shapes"]
    return ", ".join(f"{s['colour']} {s['shape']}" for s in shapes)


def run_image_demo(workdir: str, weights: str, num_images: int, epochs: int, quiet: bool, meteor: bool,
                   drawn_set: str = "scenes") -> int:
    started = time.perf_counter()
    data_dir = os.path.join(workdir, "data")
    cache_dir = os.path.join(workdir, "cache")
    model_dir = os.path.join(workdir, "model")
    token_file = os.path.join(data_dir, "captions.token.txt")
    if not os.path.exists(token_file):
        (write_drawn_scenes if drawn_set == "scenes" else write_synthetic)(data_dir, num_images=num_images)
    images = os.path.join(data_dir, "Images")
    captions = load_captions(token_file)
    prefix = "scene_" if drawn_set == "scenes" else "shapes_"
    if not sorted(captions.captions)[0].startswith(prefix):  # a workdir from a run with the other set
        raise UsageError(f"{data_dir} holds the other drawn set (not --set {drawn_set}); use another --workdir")
    fp = fingerprint(weights)
    kind = "drawn scenes (1-3 shapes)" if drawn_set == "scenes" else "drawn shape images"
    print(f"1. dataset: {len(captions.captions)} {kind}, {captions.num_captions} captions in {data_dir}")
    print(f"   encoder: {fp.describe()}")

    resume = os.path.exists(os.path.join(model_dir, "checkpoints", "state.json"))
    summary = train(model_dir, cache_dir, captions, images, weights=weights, epochs=epochs, patience=4,
                    resume=resume, show_progress=not quiet)
    print(f"2. trained {summary['epochs']} epochs (best {summary['best_epoch']}), "
          f"{summary['seconds_per_epoch']} s/epoch; bundle in {model_dir}")

    model = load(model_dir, build_encoder=False, announce=False)  # the test features are in the cache
    truth = json.load(open(os.path.join(data_dir, "truth.json"), encoding="utf-8"))
    print("3. test split:")
    reports = {}
    for beam in (1, 3):
        start = time.perf_counter()
        reports[beam] = evaluate(model, cache_dir, captions, images, split="test", beam_size=beam, weights=weights,
                                 show_progress=not quiet, meteor=meteor)
        seconds = time.perf_counter() - start
        r = reports[beam]
        print(f"   {'greedy' if beam == 1 else 'beam 3':7s} {r.line()}\n"
              f"           {describe_shares(truth_shares(drawn_set, r.captions(), truth), r.images)}  "
              f"[{seconds:.1f} s]")
        if r.meteor_skipped:
            print(f"           METEOR skipped: {r.meteor_skipped}")
    print("4. captions of a few test images (beam 3):")
    for key, caption in reports[3].captions()[:5]:
        print(f"   {key}: {caption!r}   (drawn: {_drawn(drawn_set, truth[key])})")
    distinct = len({c for _, c in reports[3].captions()})
    print(f"   {distinct} distinct captions for {reports[3].images} test images")
    page = os.path.join(workdir, "report.html")
    write_report(page, reports[3].to_json())
    print(f"5. report page (beam 3, every test image with its caption, references and scores): {page}")
    if fp.is_random:
        print("note: RANDOM encoder weights: fine for shapes, not for photos; use --weights imagenet for real use")
    print(f"done in {time.perf_counter() - started:.0f} s. Try:\n"
          f"  python -m captioner caption --model {model_dir} {os.path.join(images, sorted(captions.captions)[0])}")
    return 0
