"""Cold start of `caption --model M one.jpg`: the wall time of the whole command, and where it goes; and how soon
`captioner serve --model M` answers /readyz with 200.

Usage:
    python -m benchmarks cold_start --model MODEL IMAGE [--runs 5] [--beam-size 3] [--serve]

MODEL may be a file from `captioner export` (its own search; no breakdown by phase).

Prints the median (and best) wall time of `python -m captioner caption` over --runs fresh processes, then one
in-process breakdown by phase (imports, bundle, encoder build, decode, encode, search build + first call); with
--serve, the median over --runs servers of the seconds from starting `captioner serve` to /readyz 200, and its
ratio to the caption command's median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def command_seconds(model: str, image: str, beam: int, runs: int) -> list[float]:
    search = [] if os.path.isfile(model) else ["--beam-size", str(beam)]  # an exported file has its own
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "captioner", "caption", "--model", model, image, *search],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def ready_seconds(model: str, runs: int) -> list[float]:
    """Seconds from starting `captioner serve` to its first 200 on /readyz, per run."""
    import socket
    import urllib.request

    times = []
    for _ in range(runs):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        start = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "captioner", "serve", "--model", model, "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"serve exited with status {server.returncode} before it was ready")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                time.sleep(0.05)
            times.append(time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(timeout=60)
    return times


def phases(model: str, image: str, beam: int) -> dict:
    """Run in a fresh interpreter (imports must be cold): seconds per phase."""
    code = f"""
import json, time
t = [time.perf_counter()]
from captioner.base.backend import import_keras; import_keras(); t.append(time.perf_counter())
from captioner.models.bundle import load_bundle; b = load_bundle({model!r}); t.append(time.perf_counter())
from captioner.features.features_for import encoder_for; e = encoder_for(b.encoder); t.append(time.perf_counter())
from captioner.inputs.frames import load_item; from captioner.inputs.images import ImageFile
x = load_item(ImageFile({image!r}, {image!r})); t.append(time.perf_counter())
f = e.encode(x); t.append(time.perf_counter())
from captioner.search.captioning import Captioner
c = Captioner(b.decoder, b.vocab, {beam}, feature_dtype=b.feature_dtype); c(f); t.append(time.perf_counter())
names = ["import keras", "load bundle", "build encoder", "decode image", "encode", "search (build + first call)"]
print(json.dumps({{n: round(b - a, 2) for n, a, b in zip(names, t, t[1:])}}))
"""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["python + everything (this process)"] = round(time.perf_counter() - start, 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("image")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--beam-size", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="also time `captioner serve` to /readyz 200")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    walls = command_seconds(args.model, args.image, args.beam_size, args.runs)
    wall = statistics.median(walls)
    print(f"caption --model {args.model} {args.image}: median {wall:.2f} s, best {min(walls):.2f} s "
          f"({args.runs} runs: {', '.join(f'{w:.2f}' for w in walls)})")
    exported = os.path.isfile(args.model)  # a file from `captioner export`: its search is inside, no phases
    for name, seconds in ({} if exported else phases(args.model, args.image, args.beam_size)).items():
        print(f"  {name:36s} {seconds:6.2f} s")
    if args.serve:
        ready = ready_seconds(args.model, args.runs)
        print(f"serve --model {args.model}: /readyz 200 after median {statistics.median(ready):.2f} s "
              f"({', '.join(f'{r:.2f}' for r in ready)}); {statistics.median(ready) / wall:.2f}x the caption "
              "command's median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
