"""Prometheus metrics, scraped during a small load and read with prometheus-client's own parser: requests by
route and status, items answered and failed by reason, the queue's depth, batch sizes, seconds per stage, load
and compile seconds; behind the key when one is set, or on a port of their own."""

from __future__ import annotations

import io
import threading

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")

import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings  # noqa: E402
from tests.support.fake_model import FakeModel  # noqa: E402
from tests.support.live_server import files, free_port, running  # noqa: E402

KEY = "m" * 24
AUTH = {"Authorization": f"Bearer {KEY}"}


def _jpeg(colour: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 36), colour).save(out, "JPEG")
    return out.getvalue()


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of a scrape."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.backend_independent
def test_a_scrape_during_a_small_load_counts_what_the_server_did():
    app = create_app(FakeModel(encode_seconds=0.01), ServeSettings(api_key=KEY, max_batch=4), load_seconds=2.5)
    good, bad = _jpeg("red"), b"not an image"
    with running(app) as url:
        scrapes = []

        def client(n: int):
            with httpx.Client(timeout=30, headers=AUTH) as http:
                for i in range(n):
                    http.post(url + "/v1/captions", files=files(("a.jpg", good), ("b.jpg", good), ("c.bin", bad)))

        threads = [threading.Thread(target=client, args=(5,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):  # scraped while the load runs: every scrape parses
            scrapes.append(samples(httpx.get(url + "/metrics", headers=AUTH).text))
        for thread in threads:
            thread.join()
        assert httpx.get(url + "/metrics").status_code == 401  # behind the key, as /v1 is
        httpx.post(url + "/v1/labels", headers=AUTH, files=files(("a.jpg", good)))  # 404: a caption model
        final = samples(httpx.get(url + "/metrics", headers=AUTH).text)
    assert scrapes
    route = (("method", "POST"), ("route", "/v1/captions"), ("status", "200"))
    assert final[("captioner_requests_total", route)] == 20
    assert final[("captioner_requests_total", (("method", "GET"), ("route", "/metrics"), ("status", "401")))] == 1
    assert final[("captioner_requests_total", (("method", "POST"), ("route", "/v1/labels"), ("status", "404")))] == 1
    assert final[("captioner_items_answered_total", ())] == 40
    assert final[("captioner_items_failed_total", (("reason", "unreadable"),))] == 20
    assert final[("captioner_items_failed_total", (("reason", "work_limit"),))] == 0
    assert final[("captioner_batch_size_sum", ())] == 40  # every item answered was in one model call
    assert 10 <= final[("captioner_batch_size_count", ())] <= 40  # batched across requests, at most 4 a call
    assert final[("captioner_batch_size_bucket", (("le", "4.0"),))] == final[("captioner_batch_size_count", ())]
    assert final[("captioner_stage_seconds_count", (("stage", "decode"),))] == 60  # each upload decoded once
    encode = final[("captioner_stage_seconds_count", (("stage", "encode"),))]
    assert encode == final[("captioner_stage_seconds_count", (("stage", "search"),))] >= 10
    assert final[("captioner_stage_seconds_sum", (("stage", "encode"),))] >= 0.01 * encode  # 10 ms a call
    assert final[("captioner_request_seconds_count", (("route", "/v1/captions"),))] == 20
    assert final[("captioner_queue_depth", ())] == 0
    assert final[("captioner_model_load_seconds", ())] == 2.5
    assert final[("captioner_compile_seconds", ())] > 0
    counts = [s[("captioner_requests_total", route)] for s in scrapes if ("captioner_requests_total", route) in s]
    assert counts == sorted(counts)  # a counter only grows


@pytest.mark.backend_independent
def test_metrics_on_their_own_port_need_no_key_and_leave_the_api_port():
    port = free_port()
    app = create_app(FakeModel(), ServeSettings(api_key=KEY, metrics_port=port))
    with running(app) as url:
        httpx.post(url + "/v1/captions", headers=AUTH, files=files(("a.jpg", _jpeg("blue"))))
        scrape = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert scrape.status_code == 200
        assert samples(scrape.text)[("captioner_items_answered_total", ())] == 1
        assert httpx.get(url + "/metrics", headers=AUTH).status_code == 404
