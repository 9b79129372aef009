"""`captioner serve` when exposed: the API key, the exposure check, size limits applied while reading, each bad
file's reason, a full queue (503), a slow answer (504), and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pathlib
import signal
import threading
import time

import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")

import httpx  # noqa: E402

import captioner  # noqa: E402
from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings, check_settings  # noqa: E402
from tests.support.live_server import files, running, server_process, slow_multipart, upload  # noqa: E402

KEY = "k" * 24


@pytest.mark.backend_independent
def test_the_api_key_is_required_on_v1_only(model, photos):
    from fastapi.testclient import TestClient

    with TestClient(create_app(model, ServeSettings(api_key=KEY))) as client:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
            response = client.post("/v1/captions", files=upload(photos[0]), headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer KEY" in response.json()["error"]
        assert client.get("/v1/model").status_code == 401
        good = {"Authorization": f"Bearer {KEY}"}
        assert client.post("/v1/captions", files=upload(photos[0]), headers=good).status_code == 200
        assert client.get("/v1/model", headers=good).status_code == 200
        assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200


@pytest.mark.backend_independent
def test_other_machines_are_not_served_without_a_key(run_cli, trained, monkeypatch):
    from captioner.base.errors import UsageError

    monkeypatch.delenv("CAPTIONER_API_KEY", raising=False)
    with pytest.raises(UsageError, match="--host 0.0.0.0 is reachable from other machines: set --api-key"):
        check_settings(ServeSettings(host="0.0.0.0"))
    with pytest.raises(UsageError, match="too short to be a secret"):
        check_settings(ServeSettings(host="0.0.0.0", api_key="short"))
    check_settings(ServeSettings(host="0.0.0.0", api_key=KEY))
    check_settings(ServeSettings(host="0.0.0.0", insecure_no_auth=True))
    check_settings(ServeSettings(host="::1"))
    from captioner.serving.server import serve

    with pytest.raises(UsageError, match="reachable from other machines"):  # the API's one entry point too
        serve(str(trained / "model"), ServeSettings(host="0.0.0.0"), engine="ray")
    for engine in ("local", "ray"):  # checked before either engine starts (Ray is never started here)
        code, out, err = run_cli("serve", "--model", trained / "model", "--host", "0.0.0.0", "--engine", engine)
        assert code == 2 and err.strip().splitlines()[-1].startswith("error: --host 0.0.0.0 is reachable")
        assert "Traceback" not in err


@pytest.mark.backend_independent
def test_size_limits_answer_413_and_form_mistakes_400(model, photos):
    from fastapi.testclient import TestClient

    small = photos[0].read_bytes()
    mb = len(small) / 2 ** 20
    with TestClient(create_app(model, ServeSettings(max_files=10, max_file_mb=1.5 * mb, max_request_mb=2.5 * mb))) \
            as client:
        response = client.post("/v1/captions", files=files(*[(f"{i}.jpg", small) for i in range(3)]))
        assert response.status_code == 413 and "is over the" in response.json()["error"]
        assert response.json()["error"].startswith("request body of ")
    with TestClient(create_app(model, ServeSettings(max_files=3, max_file_mb=1.5 * mb, max_request_mb=10 * mb))) \
            as client:
        big = small + bytes(len(small))
        response = client.post("/v1/captions", files=files(("a.jpg", small), ("big.jpg", big)))
        assert response.status_code == 413
        assert response.json()["error"].startswith("file #2 ('big.jpg') is over the")
        response = client.post("/v1/captions", files=files(*[(f"{i}.jpg", small) for i in range(4)]))
        assert response.status_code == 413 and "more than 3 files" in response.json()["error"]
        response = client.post("/v1/captions", files=files(("a.jpg", small)), data={"pad": "x" * 100})
        assert response.status_code == 400 and response.json()["error"].startswith("unknown form field 'pad'")
        response = client.post("/v1/captions", content=small, headers={"Content-Type": "image/jpeg"})
        assert response.status_code == 400 and "multipart/form-data" in response.json()["error"]
        response = client.post("/v1/captions", files=[("beam_size", (None, b"2"))])  # multipart, no file
        assert response.status_code == 422 and response.json()["error"].startswith("no files")


@pytest.mark.backend_independent
def test_the_body_stops_being_read_at_its_limit():
    from captioner.serving.uploads import FormError, read_form

    class Streaming:  # a client that would send 100 MB in 64 KB chunks
        headers = {"content-type": "multipart/form-data; boundary=B"}
        sent = 0

        async def stream(self):
            yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
            for _ in range(1600):
                self.sent += 1
                yield bytes(65536)

    for limits, reason in [((10, 1 << 20, 1 << 30), "file #1 ('x.jpg') is over the 1.0 MB limit per file"),
                           ((10, 1 << 30, 2 << 20), "request body is over the 2.0 MB limit")]:
        request = Streaming()
        with pytest.raises(FormError, match=reason.replace("(", r"\(").replace(")", r"\)")) as caught:
            asyncio.run(read_form(request, set(), *limits))
        assert caught.value.status == 413 and request.sent <= limits[1] // 65536 + 2 and request.sent <= 40


def _png_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # 81 Mpixels in a few KB
    return out.getvalue()


def _mp4(tmp_path) -> bytes:
    from tests.support.oddclips import frames_of, write_video

    return pathlib.Path(write_video(str(tmp_path / "clip.mp4"), frames_of(6))).read_bytes()


@pytest.mark.backend_independent
def test_each_unreadable_file_gets_its_reason_and_the_others_their_captions(model, photos, tmp_path):
    from fastapi.testclient import TestClient

    good = photos[0].read_bytes()
    with TestClient(create_app(model)) as client:
        response = client.post("/v1/captions", files=files(
            ("good.jpg", good), ("notes.txt", b"hello"), ("bomb.png", _png_bomb()), ("clip.mp4", _mp4(tmp_path)),
            ("empty.jpg", b""), ("cut.jpg", good[:len(good) // 3])))
        assert response.status_code == 200
        results = {r["input"]: r for r in response.json()["results"]}
        assert results["good.jpg"]["caption"] == model.caption([str(photos[0])])[0].text
        assert results["notes.txt"]["error"] == "not an image (unknown format)"
        assert "refused as a possible decompression bomb" in results["bomb.png"]["error"]
        assert results["clip.mp4"]["error"] == "a video clip; this model describes images"
        assert results["empty.jpg"]["error"] == "empty file (0 bytes)"
        assert "error" in results["cut.jpg"] and "\n" not in results["cut.jpg"]["error"]
        # A field naming a file on the server is only ever bytes: nothing is read from that path.
        response = client.post("/v1/captions", data={"file": "/etc/passwd"},
                               files=files(("also.txt", b"/etc/hostname")))
        assert response.status_code == 422 and response.json()["error"] == "none of the 2 files could be read"
        assert [r["error"] for r in response.json()["results"]] == ["not an image (unknown format)"] * 2
        one = client.post("/v1/captions", files=files(("only.txt", b"text")))
        assert one.status_code == 422 and one.json()["error"] == "the file could not be read"
        assert "root:" not in response.text


class _Gate:
    """The model with an encoder that waits while the gate is shut: requests pile up behind it."""

    def __init__(self, model):
        self._model, self.open = model, threading.Event()
        self.open.set()
        inner = model.encoder

        class Encoder:
            input_size = inner.input_size

            def encode(_, batch):
                self.open.wait()
                return inner.encode(batch)

        self.encoder = Encoder()

    def __getattr__(self, name):
        return getattr(self._model, name)


@pytest.mark.backend_independent
def test_a_full_queue_answers_503_and_a_slow_answer_504(model, photos):
    gated = _Gate(model)
    app = create_app(gated, ServeSettings(max_queue=2, max_batch=1, max_wait_ms=0, timeout_s=3))
    with running(app) as url:
        gated.open.clear()
        answers = {}

        def post(name, count):
            answers[name] = httpx.post(url + "/v1/captions", files=upload(*photos[:count]), timeout=30)

        first = threading.Thread(target=post, args=("first", 1))  # taken by the worker, which then waits
        first.start()
        while httpx.get(url + "/healthz").json()["batches"] < 1:
            time.sleep(0.02)
        second = threading.Thread(target=post, args=("second", 2))  # fills the queue
        second.start()
        while httpx.get(url + "/healthz").json()["waiting"] < 2:
            time.sleep(0.02)
        busy = httpx.post(url + "/v1/captions", files=upload(photos[0]), timeout=30)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json()["error"].startswith("busy: 2 items are waiting")
        first.join()
        second.join()
        for name in ("first", "second"):
            assert answers[name].status_code == 504
            assert answers[name].json()["error"].startswith("not answered within 3 s")
        gated.open.set()
        assert httpx.post(url + "/v1/captions", files=upload(photos[1]), timeout=30).status_code == 200
        assert httpx.get(url + "/healthz").json()["waiting"] == 0


@pytest.mark.slow
@pytest.mark.backend_independent
def test_sigterm_answers_the_request_in_flight_then_refuses_new_ones(trained, photos):
    args = ["--model", str(trained / "model"), "--log-format", "json", "--name", "tiny"]
    with server_process(args, dict(os.environ)) as served:
        assert httpx.get(served.url + "/v2/models/tiny/ready").json() == {"name": "tiny", "ready": True}
        headers, body = slow_multipart(photos[0].name, photos[0].read_bytes(), pieces=8, pause=0.3)
        answer = {}
        thread = threading.Thread(target=lambda: answer.update(
            r=httpx.post(served.url + "/v1/captions", content=body, headers=headers, timeout=60)))
        thread.start()
        time.sleep(0.8)  # the request's body is still coming in (2.4 s in all)
        served.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.TransportError):
            httpx.get(served.url + "/healthz", timeout=5)
        thread.join()
        assert answer["r"].status_code == 200
        api = captioner.load(str(trained / "model"), announce=False).caption([str(photos[0])])[0].text
        assert answer["r"].json()["results"][0]["caption"] == api
        assert served.process.wait(timeout=60) == 0
    assert "Traceback" not in served.log
    logged = [json.loads(line) for line in served.log.splitlines() if line.startswith('{"time"')]
    assert {"path": "/v1/captions", "status": 200, "items": 1} in [
        {k: e.get(k) for k in ("path", "status", "items")} for e in logged]  # --log-format json: a line an object
