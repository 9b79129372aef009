"""Load and faults on `captioner serve`, on loopback, with an asyncio httpx client; bounded in requests and time.

Usage:
    python -m benchmarks serving [--work DIR] [--weights random|random-tiny] [--photos N] [--onnx]

1. A caption model is trained once (2 epochs) on the real Flickr8k photos of ../shared/data/flickr8k_sample with a
   random encoder (`--weights`, default the full random VGG16); it is only there to be served.
2. Side by side on the same N photos (default 96): `caption-folder` (the API's `caption_folder`, in this process,
   beam 3) as images/s, and one in-process `model.caption` call on one image as milliseconds (p50 of 12).
3. The server (a `captioner serve` subprocess, beam 3) with batching (--max-batch 32) and without (--max-batch 1):
   requests of one photo each at concurrency 1, 8 and 32 (`--concurrency`; 3x as many requests, at least 12):
   images/s, p50/p95/p99 latency.
   With --onnx, also the batching server on the model exported to ONNX (`captioner export`, beam 3; ONNX
   Runtime, no Keras in the server), at the same concurrencies in the same run.
4. A soak on the batching server with an API key: a seeded mix of good requests (1-3 photos), broken files,
   oversized files, unauthorised requests, requests without files and (`--long-clips`, default 10% of requests)
   long clips: ten minutes of a still picture, 0.5 MB, the length stated nowhere in the file. Every request must
   get exactly one answer with the status its kind calls for, every good photo its caption, one log line each;
   the server's RSS is read after a warm-up and after each third. The good requests' p95 latency is compared
   with a round of the first third without its long clips (the same seed), run first.

Prints Markdown tables and writes WORK/bench_serve.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import httpx
import numpy as np

from benchmarks.measuring import machine
from benchmarks.serving_soak import KEY, p95_ms, soak, soak_requests

REPO = pathlib.Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "data" / "flickr8k_sample"


def train_model(work: pathlib.Path, weights: str) -> pathlib.Path:
    model = work / f"model-{weights}"
    if not (model / "config.json").exists():
        subprocess.run([sys.executable, "-m", "captioner", "train", "--captions", str(SAMPLE / "captions.token.txt"),
                        "--images", str(SAMPLE / "Images"), "--cache", str(work / f"cache-{weights}"),
                        "--out", str(model), "--weights", weights, "--epochs", "2", "--quiet"], check=True)
    return model


def photo_folder(work: pathlib.Path, count: int) -> list[pathlib.Path]:
    folder = work / f"photos-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    photos = sorted((SAMPLE / "Images").glob("*.jpg"))[:count]
    for p in photos:
        if not (folder / p.name).exists():
            os.symlink(p, folder / p.name)
    return [folder / p.name for p in photos]


def in_process(model_dir: pathlib.Path, photos: list[pathlib.Path], work: pathlib.Path) -> dict:
    import captioner

    model = captioner.load(str(model_dir), announce=False)
    model.caption([str(photos[0])])  # build the encoder, compile beam 3
    model.caption_folder(str(photos[0].parent), str(work / "folder.jsonl"))  # compile its batch shapes
    report = model.caption_folder(str(photos[0].parent), str(work / "folder.jsonl"))  # timed: warm, as the server
    latencies = []
    for p in photos[1:13]:
        start = time.perf_counter()
        model.caption([str(p)])
        latencies.append(time.perf_counter() - start)
    return {"folder_images_per_s": report.captioned / report.seconds, "folder_seconds": report.seconds,
            "one_caption_ms_p50": 1000 * float(np.median(latencies))}


class Server:
    def __init__(self, model_dir: pathlib.Path, log: pathlib.Path, *args: str):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen([sys.executable, "-m", "captioner", "serve", "--model", str(model_dir),
                                         "--port", str(self.port), *args], stdout=open(log, "w"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not become ready; its log: {log}")
            try:
                if httpx.get(self.url + "/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)


async def load(url: str, photos: list[pathlib.Path], concurrency: int, requests: int) -> dict:
    """`requests` POSTs of one photo each, `concurrency` at a time."""
    bodies = [(p.name, p.read_bytes()) for p in photos]
    latencies, statuses = [], []
    queue = list(range(requests))

    async def worker(client):
        while queue:
            i = queue.pop()
            start = time.perf_counter()
            response = await client.post("/v1/captions", files=[("file", bodies[i % len(bodies)])])
            latencies.append(time.perf_counter() - start)
            statuses.append(response.status_code)

    async with httpx.AsyncClient(base_url=url, timeout=300, limits=httpx.Limits(max_connections=concurrency)) as c:
        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    ms = 1000 * np.array(latencies)
    return {"concurrency": concurrency, "requests": requests, "ok": statuses.count(200),
            "images_per_s": requests / wall, "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/bench-serve")
    parser.add_argument("--weights", default="random", choices=["random", "random-tiny"])
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument("--soak", type=int, default=300, help="requests in the soak (default: 300)")
    parser.add_argument("--soak-only", action="store_true", help="leave out the load table")
    parser.add_argument("--long-clips", type=float, default=0.1,
                        help="share of the soak's requests that send a ten-minute clip (default: 0.1)")
    parser.add_argument("--onnx", action="store_true",
                        help="also load the batching server with the model exported to ONNX (beam 3)")
    parser.add_argument("--concurrency", default="1,8,32",
                        help="concurrencies of the load table, each with 3x as many requests, at least 12 "
                             "(default: 1,8,32; the GPU target adds 64)")
    args = parser.parse_args(argv)
    if not SAMPLE.is_dir():
        raise SystemExit(f"{SAMPLE} is not here: the benchmark needs the shared Flickr8k photos")
    concurrency = [int(c) for c in args.concurrency.split(",")]
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = train_model(work, args.weights)
    photos = photo_folder(work, args.photos)
    result = {"machine": machine(), "weights": args.weights,
              "photos": len(photos), "search": "beam 3"}
    result["in_process"] = in_process(model_dir, photos, work)
    result["load"] = {}
    servers = [("batched", model_dir, "32"), ("max_batch_1", model_dir, "1")] if not args.soak_only else []
    if args.onnx and not args.soak_only:
        import captioner

        exported = work / f"model-{args.weights}.onnx"
        if not exported.exists():
            captioner.export(str(model_dir), "onnx", str(exported), "beam", 3)
        servers.append(("onnx_batched", exported, "32"))
    for label, served, max_batch in servers:
        server = Server(served, work / f"serve-{label}.log", "--max-batch", max_batch)
        try:
            asyncio.run(load(server.url, photos, 1, 4))  # connections and first requests warm
            result["load"][label] = [asyncio.run(load(server.url, photos, c, max(12, 3 * c))) for c in concurrency]
            result["load"][label + "_batches"] = httpx.get(server.url + "/healthz").json()
        finally:
            result["load"][label + "_exit"] = server.stop()

    from tests.support.oddclips import still_clip

    long_clip = still_clip(18_000)  # ten minutes at 30 fps of one 160x120 picture
    server = Server(model_dir, work / "serve-soak.log", "--api-key", KEY, "--max-file-mb", "2")
    rounds = []

    def plan(count: int, seed: int) -> list[dict]:
        return soak_requests(photos, count, seed, long_clip, args.long_clips)

    try:
        asyncio.run(soak(server.url, plan(60, 1), 16))  # warm-up: allocators, all paths
        # the first third without its long clips (the same seed: each long clip's place holds what it replaced)
        alone = asyncio.run(soak(server.url, soak_requests(photos, args.soak // 3, 2), 16))
        rss = [server.rss_mb()]
        for round_ in range(3):  # RSS after each third: growth that levels off is not a leak
            rounds.append(asyncio.run(soak(server.url, plan(args.soak // 3, 2 + round_), 16)))
            rss.append(server.rss_mb())
    finally:
        exit_status = server.stop()
    result["soak"] = {"requests": sum(r["requests"] for r in rounds), "seconds": sum(r["seconds"] for r in rounds),
                      "kinds": {k: sum(r["kinds"][k] for r in rounds) for k in rounds[0]["kinds"]},
                      "wrong_status": [w for r in rounds for w in r["wrong_status"]],
                      **{k: sum(r[k] for r in rounds) for k in ("transport_errors", "good_photos",
                                                                 "uncaptioned_good_photos")},
                      "rss_mb": rss, "exit": exit_status, "long_clip_bytes": len(long_clip),
                      "good_p95_ms_alone": p95_ms(alone["good_seconds"]),
                      "good_p95_ms_first_third": p95_ms(rounds[0]["good_seconds"]),
                      "good_p95_ms": p95_ms([t for r in rounds for t in r["good_seconds"]])}
    logged = sum(" /v1/captions " in line for line in open(work / "serve-soak.log", encoding="utf-8"))
    result["soak"]["log_lines"] = logged - 60 - alone["requests"]  # less the warm-up and the round alone
    (work / "bench_serve.json").write_text(json.dumps(result, indent=1))
    print(render(result))
    return 0


def render(r: dict) -> str:
    p = r["in_process"]
    lines = [f"{r['photos']} Flickr8k photos, --weights {r['weights']}, {r['search']}; {r['machine']}", "",
             f"in process: caption-folder {p['folder_images_per_s']:.2f} images/s; one `model.caption` call on one "
             f"image p50 {p['one_caption_ms_p50']:.0f} ms", "",
             "| server | concurrency | requests | images/s | vs caption-folder | p50 ms | p95 ms | p99 ms | "
             "p50 vs one in-process call |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, name in (("batched", "--max-batch 32"), ("max_batch_1", "--max-batch 1"),
                        ("onnx_batched", "ONNX file, --max-batch 32")):
        for row in r["load"].get(label, []):
            lines.append(f"| {name} | {row['concurrency']} | {row['requests']} ({row['ok']} ok) | "
                         f"{row['images_per_s']:.2f} | {row['images_per_s'] / p['folder_images_per_s']:.2f}x | "
                         f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f} | "
                         f"{row['p50_ms'] / p['one_caption_ms_p50']:.2f}x |")
    for label in ("batched", "max_batch_1", "onnx_batched") if r["load"] else ():
        if label + "_batches" not in r["load"]:
            continue
        b = r["load"][label + "_batches"]
        lines.append(f"\n{label}: {b['items']} items in {b['batches']} batches (largest {b['largest_batch']}); "
                     f"exit status after SIGTERM {r['load'][label + '_exit']}")
    s = r["soak"]
    lines += ["", f"soak: {s['requests']} requests {s['kinds']} at concurrency 16 in {s['seconds']:.0f} s: "
              f"{len(s['wrong_status'])} with a wrong status, {s['transport_errors']} without an answer, "
              f"{s['uncaptioned_good_photos']} of {s['good_photos']} good photos uncaptioned, {s['log_lines']} "
              f"log lines; server RSS after the warm-up and after each third: "
              f"{' -> '.join(f'{m:.0f}' for m in s['rss_mb'])} MB; exit {s['exit']}",
              f"good requests' p95: {s['good_p95_ms_alone']:.0f} ms in the first third without its long clips, "
              f"{s['good_p95_ms_first_third']:.0f} ms in the first third's mix "
              f"({s['good_p95_ms_first_third'] / s['good_p95_ms_alone']:.2f}x), {s['good_p95_ms']:.0f} ms over the "
              f"soak; long clips of {s['long_clip_bytes'] / 1e6:.2f} MB"]
    lines += [f"  wrong: {w}" for w in s["wrong_status"][:5]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
