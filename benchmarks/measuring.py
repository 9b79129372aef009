"""What the benchmarks share: where a run happened, how speed is timed, and the inputs several of them build.

- `machine()` and `provenance(argv)`: the line every benchmark prints above its tables (command, commit, date,
  machine), so that a number in the docs leads back to the run that printed it;
- `rate`, `generation_rates`, `big_vocab_decoder`: captions/s of the project's search (CPU and GPU runs);
- `extraction_rates`: extraction (decode + VGG16 + cache) beside a bare VGG16 forward loop on the same images;
- `derived_cache`: a clip cache with each clip's frames shuffled or cut to the middle one (the frame-order
  benchmarks' baselines).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine() -> str:
    """`x86_64, 2 cores, Python 3.11.7, keras 3.15.1 (tensorflow)`: what the numbers of this run ran on."""
    backend = sys.modules["keras"].config.backend() if "keras" in sys.modules else \
        os.environ.get("KERAS_BACKEND", "tensorflow")
    try:
        keras_version = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        keras_version = "not installed"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, keras {keras_version} ({backend})")


def commit() -> str:
    """The checkout's commit, `+ uncommitted changes` when the tracked files differ from it."""
    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def provenance(argv: list[str]) -> str:
    """The `rows from:` line: the command, the commit, the date and the machine of this run."""
    command = " ".join(["python -m benchmarks", *argv])
    return f"rows from: `{command}`; commit {commit()}; {datetime.date.today().isoformat()}; {machine()}"

def workdir_parser(doc: str, workdir: str, results_name: str, clips: bool = False) -> argparse.ArgumentParser:
    """The options the drawn-set benchmarks share: --workdir (data, caches, models; reused by a rerun) and --json
    (default WORKDIR/results_name); with `clips`, also --clips, --frames and --seed of a drawn clip set."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=workdir, help=f"data, caches and models (default: {workdir})")
    parser.add_argument("--json", default=None, help=f"where to write the numbers (default: WORKDIR/{results_name})")
    if clips:
        parser.add_argument("--clips", type=int, default=240, help="drawn clips (default: 240)")
        parser.add_argument("--frames", type=int, default=8, help="frames per clip (default: 8)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the drawn set (default: 1)")
    return parser


def parse_then_import_backend(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse the options, then import Keras' backend before anything is timed (its import is never measured)."""
    args = parser.parse_args(argv)
    from captioner.base.backend import import_keras

    import_keras()
    return args


def drawn_once(folder: str, marker: str, write) -> str:
    """A drawn set in `folder`, written by `write(folder)` only when `marker` (a file it writes) is not there yet,
    so that a rerun reuses the set, its caches and models. Returns the marker's path."""
    path = os.path.join(folder, marker)
    if not os.path.exists(path):
        write(folder)
    return path


def save_results(results: dict, args: argparse.Namespace, results_name: str, table: str) -> str:
    """Write the numbers as JSON (--json, or WORKDIR/results_name), print the table and where the numbers are."""
    out = args.json or os.path.join(args.workdir, results_name)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    print(table)
    print(f"\n(numbers in {out})")
    return out


def rate(fn, n: int, repeat: int = 3) -> float:
    """n items / the best of `repeat` timed calls of fn, after one call to compile and warm up."""
    fn()  # compile / warm up
    best = min(timed(fn) for _ in range(repeat))
    return n / best


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def generation_rates(decoder, vocab, features: np.ndarray, batches=(1, 32, 256), beam_batch: int = 256) -> dict:
    """Greedy captions/s at each batch size, and beam-3 / beam-5 at `beam_batch` images per call."""
    from captioner.search.captioning import Captioner

    rates = {}
    for batch in batches:
        captioner = Captioner(decoder, vocab, beam_size=1, batch_size=batch)
        chunk = features[:batch]
        rates[f"greedy_b{batch}"] = rate(lambda: captioner.best(chunk), len(chunk))
    for beam in (3, 5):
        captioner = Captioner(decoder, vocab, beam_size=beam, batch_size=beam_batch)
        chunk = features[:beam_batch]
        rates[f"beam{beam}_b{beam_batch}"] = rate(lambda: captioner.best(chunk), len(chunk))
    return {k: round(v, 1) for k, v in rates.items()}


def big_vocab_decoder(n_features: int = 256):
    """An untrained decoder with a Flickr8k-sized vocabulary (3,000 tokens) and 34-word captions."""
    from captioner.models.decoder import DecoderConfig, build_decoder
    from vocab import SPECIALS, Vocabulary

    vocab = Vocabulary(list(SPECIALS) + [f"w{i}" for i in range(2996)])
    decoder = build_decoder(DecoderConfig(vocab_size=len(vocab), max_length=34))
    features = np.random.default_rng(0).standard_normal((n_features, 4096)).astype(np.float32)
    return decoder, vocab, features


def extraction_rates(images: str | None, count: int, batch_size: int, weights: str = "random", decode: str = "cpu",
            precision: str = "fp32", processes: bool | None = None) -> dict:
    """`decode`: where JPEGs are decoded ("gpu" needs nvImageCodec and a GPU); `processes`: CPU decoding in
    processes (None: the default for this machine's core count)."""
    from captioner.drawn.shapes import write_synthetic
    from captioner.features.cache import FeatureCache
    from captioner.features.encoder import Encoder
    from captioner.features.extraction import decoded_batches, extract_to_cache
    from captioner.inputs.gpu_decoding import gpu_decoder
    from captioner.inputs.images import find_images

    with tempfile.TemporaryDirectory() as tmp:
        if images is None:
            images = write_synthetic(tmp + "/synthetic", num_images=count).rsplit("/", 1)[0] + "/Images"
        items = find_images([images])[0][:count]
        encoder = Encoder(weights, precision=precision)
        gpu = gpu_decoder(decode)
        warm = np.zeros((batch_size, 224, 224, 3), np.uint8)
        encoder.encode(warm)
        encoder.encode(warm[: len(items) % batch_size or batch_size])  # trace the last batch's shape too

        start = time.perf_counter()
        pixels = [p for _, p, _, _ in decoded_batches(items, 224, batch_size, gpu=gpu, processes=processes)]
        decode_only = len(items) / (time.perf_counter() - start)
        start = time.perf_counter()
        for batch in pixels:
            encoder.encode(batch)
        bare = len(items) / (time.perf_counter() - start)

        with FeatureCache.open(tmp + "/cache", encoder.fingerprint, "float16", writable=True) as cache:
            start = time.perf_counter()
            report = extract_to_cache(items, encoder, cache, batch_size, show_progress=False, gpu=gpu)
            pipeline = report.extracted / (time.perf_counter() - start)
    return {"images": len(items), "batch_size": batch_size, "weights": weights, "decode": decode,
            "precision": precision, "processes": processes,
            "decode_only_images_per_s": round(decode_only, 1),
            "bare_forward_images_per_s": round(bare, 2), "extract_images_per_s": round(pipeline, 2),
            "ratio": round(pipeline / bare, 3)}


def derived_cache(source: str, target: str, keys: list[str], frames: int, how: str, seed: int = 0) -> None:
    """A copy of `source` with each clip's frames shuffled, or reduced to the middle frame."""
    from captioner.features.cache import FeatureCache
    from captioner.features.clip_features import clip_keys

    if os.path.exists(os.path.join(target, "cache.json")):
        return
    rng = np.random.default_rng(seed)
    with FeatureCache.open(source) as src, FeatureCache.open(target, src.fingerprint, str(src.dtype),
                                                               writable=True) as dst:
        out_keys, rows = [], []
        for key in keys:
            stored = clip_keys(src, key, frames)
            vectors = src.get(stored)
            if how == "shuffled":
                vectors = vectors[rng.permutation(len(vectors))]
            else:  # middle
                vectors = vectors[len(vectors) // 2:len(vectors) // 2 + 1]
            out_keys += stored[:len(vectors)]
            rows.append(vectors)
        dst.append(out_keys, np.concatenate(rows))
