"""Where batch jobs run: the same three settings as the commands' --engine, --ray-address and --workers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineOptions:
    """Where `caption_folder` and `extract` run: `EngineOptions("ray", ray_address="head:6379", workers=4)`
    runs the encoder (and search) in Ray Data actors, the driver still being the only writer."""

    engine: str = "local"  # "local" (threads/processes here) or "ray" (Ray Data; the driver writes the outputs)
    ray_address: str | None = None  # a cluster's head, host:port; None starts a local Ray
    workers: int | None = None  # Ray actors; None = one per GPU, or a few on CPUs
    decode: str = "auto"  # where JPEGs are decoded: auto, cpu, gpu (gpu only with the local engine)
