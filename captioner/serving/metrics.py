"""The server's Prometheus metrics (prometheus-client), in a registry of the app's own: requests by route and
status, items answered and failed by reason, the queue's depth, batch sizes, seconds per stage, and the model's
load and compile seconds. Served at /metrics (or on --metrics-port) in Prometheus' text format."""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Why an item (an uploaded image or clip) got no answer: a small fixed set, so the label stays bounded.
FAILURES = ("unreadable", "work_limit", "stopped", "busy", "timeout", "client_gone", "model_error")
STAGES = ("decode", "encode", "search")
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServerMetrics:
    """One server's metrics; the app, the model side and the request log record into it."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("captioner_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.request_seconds = Histogram("captioner_request_seconds", "Seconds from a request's arrival to its "
                                         "answer, by route", ["route"], buckets=SECONDS, registry=r)
        self.items_answered = Counter("captioner_items_answered", "Items (images or clips) captioned or labelled",
                                      registry=r)
        self.items_failed = Counter("captioner_items_failed", "Items that got no caption or label, by reason",
                                    ["reason"], registry=r)
        self.queue_depth = Gauge("captioner_queue_depth", "Items waiting for the model", registry=r)
        self.batch_size = Histogram("captioner_batch_size", "Items per model call (across requests)",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=r)
        self.stage_seconds = Histogram("captioner_stage_seconds", "Seconds per stage: decode (one upload), encode "
                                       "and search (one batch)", ["stage"], buckets=SECONDS, registry=r)
        self.load_seconds = Gauge("captioner_model_load_seconds", "Seconds the model took to load", registry=r)
        self.compile_seconds = Gauge("captioner_compile_seconds", "Seconds until the first search was compiled "
                                     "and ready (the server's warm-up for one item)", registry=r)
        for reason in FAILURES:  # every series exists from the start: a rate over a missing series is no rate
            self.items_failed.labels(reason)
        for stage in STAGES:
            self.stage_seconds.labels(stage)

    def watch_queue(self, waiting: Callable[[], int]) -> None:
        self.queue_depth.set_function(waiting)

    def failed(self, reason: str, count: int = 1) -> None:
        if count:
            self.items_failed.labels(reason).inc(count)

    def stage(self, name: str, seconds: float) -> None:
        self.stage_seconds.labels(name).observe(seconds)

    def batch(self, size: int) -> None:
        self.batch_size.observe(size)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
