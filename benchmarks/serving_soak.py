"""The serving benchmark's soak: a seeded mix of requests of every kind, each with the answer it must get, sent at
a fixed concurrency; what came back (wrong statuses, requests without an answer, good photos uncaptioned, the
good requests' latencies). Run by `python -m benchmarks serving`."""

from __future__ import annotations

import asyncio
import os
import pathlib
import random
import time

import httpx
import numpy as np

KEY = "bench-serve-key-0123456789"


KINDS = ("good", "broken", "oversized", "unauthorised", "no_file", "long_clip")


def soak_requests(photos: list[pathlib.Path], count: int, seed: int, long_clip: bytes = b"",
                  long_share: float = 0.0) -> list[dict]:
    """A seeded mix: what each request sends and the answer it must get (a share `long_share` of them replaced
    by a request with `long_clip`)."""
    rng = random.Random(seed)
    good = [(p.name, p.read_bytes()) for p in photos]
    out = []
    for i in range(count):
        kind = rng.choices(["good", "broken", "oversized", "unauthorised", "no_file"], [55, 15, 10, 12, 8])[0]
        if rng.random() < long_share:
            kind = "long_clip"
        headers = {"Authorization": f"Bearer {KEY}"}
        if kind == "good":
            chosen = rng.sample(good, rng.randint(1, 3))
            if rng.random() < 0.3:  # a good request may carry a broken file too: 200 with a per-file error
                chosen.append(("notes.txt", b"not an image"))
            out.append({"kind": kind, "files": chosen, "headers": headers, "status": 200,
                        "captioned": sum(name != "notes.txt" for name, _ in chosen)})
        elif kind == "broken":
            name, data = rng.choice(good)
            out.append({"kind": kind, "files": [(name, data[:len(data) // 4]), ("x.bin", os.urandom(2048))],
                        "headers": headers, "status": 422})
        elif kind == "oversized":
            out.append({"kind": kind, "files": [("huge.jpg", b"\xff\xd8" + bytes(3 << 20))], "headers": headers,
                        "status": 413})
        elif kind == "long_clip":  # an image model: the clip is refused by its first bytes, before any decoding
            out.append({"kind": kind, "files": [("long.mkv", long_clip)], "headers": headers, "status": 422})
        elif kind == "unauthorised":
            out.append({"kind": kind, "files": [rng.choice(good)],
                        "headers": rng.choice([{}, {"Authorization": "Bearer wrong"}]), "status": 401})
        else:
            out.append({"kind": kind, "files": [], "headers": headers, "status": 422})
    return out


async def soak(url: str, plan: list[dict], concurrency: int) -> dict:
    answers: list = [None] * len(plan)
    queue = list(range(len(plan)))

    seconds: list = [None] * len(plan)

    async def worker(client):
        while queue:
            i = queue.pop()
            spec = plan[i]
            parts = [("file", f) for f in spec["files"]] or [("beam_size", (None, b"3"))]
            start = time.perf_counter()
            try:
                answers[i] = await client.post("/v1/captions", files=parts, headers=spec["headers"])
            except httpx.TransportError as exc:
                answers[i] = exc
            seconds[i] = time.perf_counter() - start

    async with httpx.AsyncClient(base_url=url, timeout=300, limits=httpx.Limits(max_connections=concurrency)) as c:
        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(concurrency)))
        wall = time.perf_counter() - start
    wrong, transport, uncaptioned = [], 0, 0
    for spec, answer in zip(plan, answers):
        if isinstance(answer, Exception):
            transport += 1
            continue
        if answer.status_code != spec["status"]:
            wrong.append((spec["kind"], answer.status_code, answer.text[:120]))
        if spec["kind"] == "good" and answer.status_code == 200:
            results = answer.json()["results"]
            uncaptioned += spec["captioned"] - sum(bool(r.get("caption")) for r in results)
    kinds = {k: sum(s["kind"] == k for s in plan) for k in KINDS}
    good_seconds = [t for spec, t in zip(plan, seconds) if spec["kind"] == "good"]
    return {"requests": len(plan), "kinds": kinds, "seconds": wall, "wrong_status": wrong,
            "good_seconds": good_seconds,
            "transport_errors": transport, "good_photos": sum(s.get("captioned", 0) for s in plan),
            "uncaptioned_good_photos": uncaptioned}


def p95_ms(seconds: list[float]) -> float:
    return float(np.percentile(seconds, 95) * 1000)
