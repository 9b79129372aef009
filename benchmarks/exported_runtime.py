"""Exported models beside the bundle: agreement, images/s, cold start, peak memory, file and install sizes.

Usage:
    python -m benchmarks exported_runtime [--workdir /tmp/bench-export] [--weights random] [--runs 3]

Draws the scenes set (600 images, seed 5), caches its features as float32, trains a caption model (units 128,
30 epochs at most) and exports it: ONNX greedy and beam 3, ONNX and LiteRT beam 3 in float32 and float16. Then, in this
process and side by side on the same images:
- agreement on the 120 test images with `captioner caption`'s search (share of the same captions, the largest
  log-probability gap where they agree);
- images/s of `captioner.load(M).caption(paths, batch_size=B)` (decoding included) at batch 1, 8 and 32 for the
  bundle under Keras/TensorFlow, the ONNX file under ONNX Runtime and the .tflite under LiteRT (beam 3 each),
  the best of three passes after a warm-up;
- cold start of `python -m captioner caption --model M one.jpg` (median of --runs fresh processes) and its peak
  RSS, for the bundle and the ONNX file;
- each export's size, and the installed size of a venv with `captioner[onnx]` only (from .wheels/, as
  `bash scripts/setup.sh runtime-wheels` downloads them) beside this venv's site-packages.
`--weights random` is the full VGG16 (seeded random weights: ImageNet's cannot be downloaded here; the speed is
VGG16's all the same); `random-tiny` runs it all in a minute.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time

from benchmarks.measuring import REPO, drawn_once, parse_then_import_backend, save_results, workdir_parser

EXPORTS = {"onnx greedy": ("onnx", "greedy", "float32", "greedy.onnx"),
           "onnx beam 3": ("onnx", "beam", "float32", "beam3.onnx"),
           "onnx beam 3 float16": ("onnx", "beam", "float16", "beam3-fp16.onnx"),
           "litert beam 3": ("litert", "beam", "float32", "beam3.tflite"),
           "litert beam 3 float16": ("litert", "beam", "float16", "beam3-fp16.tflite")}
BATCHES = (1, 8, 32)


def prepared(args) -> tuple[str, list[str], dict[str, str]]:
    """(bundle, test image paths, {export name: path}); made once per --workdir and --weights."""
    import captioner
    from captioner.cli import main
    from captioner.drawn.scenes import write_drawn_scenes

    scenes = os.path.join(args.workdir, "scenes")
    captions = drawn_once(scenes, "captions.token.txt", lambda d: write_drawn_scenes(d, num_images=600, seed=5))
    images = os.path.join(scenes, "Images")
    work = os.path.join(args.workdir, args.weights)
    model = os.path.join(work, "model")
    if not os.path.exists(os.path.join(model, "config.json")):
        assert main(["extract", images, "--cache", os.path.join(work, "cache"), "--dtype", "float32", "--weights",
                     args.weights, "--quiet"]) == 0
        assert main(["train", "--captions", captions, "--images", images, "--cache", os.path.join(work, "cache"),
                     "--out", model, "--weights", args.weights, "--epochs", "30", "--units", "128", "--embed-dim",
                     "32", "--seed", "1", "--quiet"]) == 0
    exports = {}
    for name, (fmt, search, precision, file) in EXPORTS.items():
        path = os.path.join(work, file)
        if not os.path.exists(path):
            captioner.export(model, fmt, path, search, 3, precision=precision)
        exports[name] = path
    with open(os.path.join(scenes, "scenes.testImages.txt"), encoding="utf-8") as f:
        test = [os.path.join(images, line.strip()) for line in f if line.strip()]
    return model, test, exports


def agreement(exported, reference) -> tuple[float, float]:
    same = [e.caption == r.caption for e, r in zip(exported, reference)]
    gaps = [abs(e.log_prob - r.log_prob) for e, r, s in zip(exported, reference, same) if s]
    return sum(same) / len(same), max(gaps, default=float("nan"))


def images_per_second(model, paths: list[str], batch: int) -> float:
    model.caption(paths[:batch], batch_size=batch)  # warm up (and compile, for Keras)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        model.caption(paths, batch_size=batch)
        best = min(best, time.perf_counter() - start)
    return len(paths) / best


def cold_start(model: str, image: str, runs: int) -> tuple[float, float]:
    """(median seconds, peak RSS in MB of the slowest-growing run) of `python -m captioner caption`."""
    probe = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
             "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    walls, peaks = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "captioner", "caption", "--model",
                              model, image], check=True, capture_output=True, text=True).stdout.split()
        walls.append(float(out[0]))
        peaks.append(int(out[1]) / 1024)
    return statistics.median(walls), max(peaks)


def folder_mb(path: str) -> float:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files
               if not os.path.islink(os.path.join(d, f))) / 1e6


def runtime_venv_mb(workdir: str) -> float | None:
    """Installed size of a fresh venv with captioner[onnx] from .wheels/ (None when the wheels are absent)."""
    wheels = os.path.join(REPO, ".wheels")
    if not os.path.isdir(wheels):
        return None
    venv, dist = os.path.join(workdir, "runtime-venv"), os.path.join(workdir, "dist")
    if not os.path.isdir(venv):
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist,
                        REPO], check=True, capture_output=True)
        wheel = next(os.path.join(dist, f) for f in os.listdir(dist) if f.startswith("captioner-"))
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", "--no-index",
                        "--find-links", wheels, f"{wheel}[onnx]"], check=True, capture_output=True)
        shutil.rmtree(os.path.join(REPO, "build"), ignore_errors=True)  # setuptools' build folder
    return folder_mb(venv)


def main(argv=None) -> int:
    parser = workdir_parser(__doc__, "/tmp/bench-export", "exported_runtime.json")
    parser.add_argument("--weights", default="random", choices=["random", "random-tiny"])
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per cold start (default: 3)")
    args = parse_then_import_backend(parser, argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import captioner

    model, test, exports = prepared(args)
    bundle = captioner.load(model, announce=False)
    reference = {1: bundle.caption(test, beam_size=1), 3: bundle.caption(test, beam_size=3)}
    loaded = {name: captioner.load(path, announce=False) for name, path in exports.items()}
    rows = ["| export | same captions | largest log-prob gap | file |", "| --- | --- | --- | --- |"]
    results: dict = {"agreement": {}, "images_per_second": {}, "cold_start": {}, "sizes_mb": {}}
    for name, model_file in loaded.items():
        share, gap = agreement(model_file.caption(test), reference[1 if "greedy" in name else 3])
        size = os.path.getsize(exports[name]) / 1e6
        results["agreement"][name] = {"same": share, "gap": gap}
        results["sizes_mb"][name] = size
        rows.append(f"| {name} | {share:.1%} of {len(test)} | {gap:.1e} | {size:.1f} MB |")
    rows += ["", "| images/s (beam 3, decoding included) | " + " | ".join(f"batch {b}" for b in BATCHES) + " |",
             "| --- |" + " --- |" * len(BATCHES)]
    runners = {"bundle, Keras (TensorFlow)": (bundle, {"beam_size": 3}), "ONNX Runtime": (loaded["onnx beam 3"], {}),
               "LiteRT": (loaded["litert beam 3"], {})}
    for name, (runner, options) in runners.items():
        per_batch = {}
        for batch in BATCHES:
            class Bound:  # the bundle takes beam_size; the exports carry theirs
                def caption(self, paths, batch_size):
                    return runner.caption(paths, batch_size=batch_size, **options)
            per_batch[batch] = images_per_second(Bound(), test[:64], batch)
        results["images_per_second"][name] = per_batch
        rows.append(f"| {name} | " + " | ".join(f"{per_batch[b]:.1f}" for b in BATCHES) + " |")
    base = results["images_per_second"]["bundle, Keras (TensorFlow)"]
    rows.append("| ONNX Runtime / Keras | " + " | ".join(
        f"{results['images_per_second']['ONNX Runtime'][b] / base[b]:.2f}x" for b in BATCHES) + " |")
    rows += ["", "| one-image `caption`, fresh process | median wall | peak RSS |", "| --- | --- | --- |"]
    for name, path in (("bundle (Keras, TensorFlow)", model), ("ONNX file (ONNX Runtime)", exports["onnx beam 3"])):
        wall, peak = cold_start(path, test[0], args.runs)
        results["cold_start"][name] = {"seconds": wall, "peak_rss_mb": peak}
        rows.append(f"| {name} | {wall:.2f} s | {peak:.0f} MB |")
    runtime = runtime_venv_mb(args.workdir)
    full = folder_mb(sysconfig.get_paths()["purelib"])
    results["sizes_mb"]["runtime venv"] = runtime
    results["sizes_mb"]["this venv's site-packages"] = full
    rows += ["", f"installed: captioner[onnx] venv {runtime:.0f} MB" if runtime else
             "installed: no .wheels/ (bash scripts/setup.sh runtime-wheels) for the runtime venv",
             f"this venv's site-packages (TensorFlow, JAX, the test tools): {full:.0f} MB"]
    save_results(results, args, "exported_runtime.json", "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
