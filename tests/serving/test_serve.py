"""`captioner serve`: the HTTP app over a loaded model — batching across requests (answers equal to the API's),
search options, the request log, what /v1/model says, activity labels for clips, and the page in a browser.
Authentication, limits, bad input, busy and slow answers and SIGTERM: tests/serving/test_serve_safety.py."""

from __future__ import annotations

import asyncio
import json
import pathlib
import re
import time

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")

import httpx  # noqa: E402

from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings  # noqa: E402
from tests.support.live_server import running, upload  # noqa: E402

KEY = "k" * 24


def test_parallel_requests_each_get_their_own_captions_equal_to_the_api(model, photos):
    paths = photos[:16]
    expected = {p.name: r for p, r in zip(paths, model.caption([str(p) for p in paths]))}
    assert len({round(r.log_prob, 4) for r in expected.values()}) == 16  # a crossed result would show
    requests = [[p] for p in paths[:12]] + [paths[12:14], paths[14:16]]

    async def all_at_once(url):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            return await asyncio.gather(*(client.post("/v1/captions", files=upload(*r)) for r in requests))

    with running(create_app(model, ServeSettings(max_batch=8, max_wait_ms=300))) as url:
        responses = asyncio.run(all_at_once(url))
        stats = httpx.get(url + "/healthz").json()
    for sent, response in zip(requests, responses):
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["input"] for r in results] == [p.name for p in sent]
        for result in results:
            assert result["caption"] == expected[result["input"]].text
            assert result["log_prob"] == pytest.approx(expected[result["input"]].log_prob, abs=1e-4)
    assert stats["items"] == 16
    assert stats["largest_batch"] > 1 and stats["batches"] < 16  # batched across requests


@pytest.mark.backend_independent
def test_options_choose_the_search_and_bad_values_get_a_reason(model, photos):
    from fastapi.testclient import TestClient

    with TestClient(create_app(model)) as client:
        answer = client.post("/v1/captions?beam_size=2&num_captions=2", files=upload(photos[0])).json()
        best = model.caption([str(photos[0])], beam_size=2, num_captions=2)[0]
        assert [c["caption"] for c in answer["results"][0]["captions"]] == [c.text for c in best.captions]
        assert answer["beam_size"] == 2 and "RANDOM weights" in answer["note"]
        form = client.post("/v1/captions", files=upload(photos[0]), data={"beam_size": "1"}).json()
        assert form["beam_size"] == 1  # an option may also be a form field
        for query, reason in [("beam_size=0", "beam_size must be from 1 to 8, not 0"),
                              ("beam_size=99", "beam_size must be from 1 to 8, not 99"),
                              ("beam_size=x", "beam_size must be a whole number, not 'x'"),
                              ("beam_size=2&num_captions=3", "num_captions must be from 1 to 2, not 3"),
                              ("length_penalty=0.25", "length_penalty must be a multiple of 0.1 from 0 to 2"),
                              ("length_penalty=nan", "length_penalty must be a multiple of 0.1 from 0 to 2"),
                              ("colour=red", "unknown option 'colour'")]:
            response = client.post(f"/v1/captions?{query}", files=upload(photos[0]))
            assert response.status_code == 400 and response.json()["error"].startswith(reason), query


@pytest.mark.backend_independent
def test_one_log_line_per_request_without_content_with_its_request_id(model, photos, caplog):
    from fastapi.testclient import TestClient

    from captioner.serving.log_format import JsonFormat

    with TestClient(create_app(model, ServeSettings(api_key=KEY))) as client:
        with caplog.at_level("INFO", logger="captioner.serve"):
            posted = client.post("/v1/captions?beam_size=1", files=upload(*photos[:2]),
                                 headers={"Authorization": f"Bearer {KEY}", "X-Request-ID": "upstream-42"})
            made = client.get("/v1/model", headers={"X-Request-ID": "not a token; has spaces"})
    records = [r for r in caplog.records if r.name == "captioner.serve"
               and not r.getMessage().startswith(("ready in ", "warm in "))]  # the warm-up's lines may land meanwhile
    lines = [r.getMessage() for r in records]
    assert len(lines) == 2
    assert posted.headers["x-request-id"] == "upstream-42"  # the client's ID, back and in the log
    assert re.fullmatch(r"POST /v1/captions 200 items=2 \d+ ms id=upstream-42", lines[0])
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])  # not a plain token: a new one
    assert lines[1].startswith("GET /v1/model 401 items=0 ")
    assert lines[1].endswith(f" id={made.headers['x-request-id']}")
    assert not any(KEY in line or "beam_size" in line for line in lines)
    entry = json.loads(JsonFormat().format(records[0]))  # --log-format json: the same fields, one object a line
    assert {k: entry[k] for k in ("level", "logger", "method", "path", "status", "items", "request_id")} == {
        "level": "info", "logger": "captioner.serve", "method": "POST", "path": "/v1/captions", "status": 200,
        "items": 2, "request_id": "upstream-42"}
    assert isinstance(entry["ms"], int) and entry["time"].endswith("Z")


@pytest.mark.backend_independent
def test_model_page_says_what_the_model_is(model):
    from fastapi.testclient import TestClient

    with TestClient(create_app(model)) as client:
        info = client.get("/v1/model").json()
        assert info["kind"] == "captions" and info["takes"] == "images" and info["frames"] == 0
        assert info["encoder"]["random_weights"] is True and "RANDOM weights" in info["encoder"]["description"]
        assert info["vocabulary"] == len(model.bundle.vocab)
        assert info["training"]["train_images"] == model.training["train_images"]
        assert info["training"]["captions"] == "captions.token.txt"  # its name, not the training machine's path
        assert "/" not in json.dumps(info["training"])
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.get("/readyz").json() == {"ready": True}
        page = client.get("/")
        assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'")
        assert "<script src=\"/page.js\"" in page.text and "http" not in page.text.split("<body>")[0]
        schema = client.get("/openapi.json").json()
        assert "multipart/form-data" in schema["paths"]["/v1/captions"]["post"]["requestBody"]["content"]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """16 drawn clips in 4 classes and a classifier on 2 frames (as tests/commands/test_activity.py trains it)."""
    import captioner
    from captioner.cli import main
    from captioner.drawn.activities import write_activity_set

    work = tmp_path_factory.mktemp("served-activity")
    root = write_activity_set(str(work / "clips"), num_clips=16, seed=0)
    assert main(["train", "--labels", root, "--cache", str(work / "cache"), "--out", str(work / "model"),
                 "--weights", "random-tiny", "--frames", "2", "--epochs", "2", "--units", "16", "--quiet"]) == 0
    clips = pathlib.Path(root)
    return captioner.load(str(work / "model"), announce=False), sorted(clips.rglob("*.mp4"))[:2] + \
        sorted(clips.rglob("*.gif"))[:1]


@pytest.mark.slow
def test_labels_for_clips_from_a_classifier(classifier, photos):
    from fastapi.testclient import TestClient

    model, clips = classifier
    expected = model.classify([str(c) for c in clips], top_k=2)  # two MP4s (PyAV), a GIF (Pillow)
    with TestClient(create_app(model)) as client:
        response = client.post("/v1/labels?top_k=2", files=upload(*clips, photos[0]))
        assert response.status_code == 200
        results = response.json()["results"]
        for result, want in zip(results, expected):
            assert [t["label"] for t in result["top"]] == [label for label, _ in want.top]
            assert result["probability"] == pytest.approx(want.probability, abs=1e-5)
        assert results[3]["error"] == "an image; this model describes clips"
        assert client.post("/v1/captions", files=upload(clips[0])).json()["error"] == \
            "this server's model recognises activities in clips: POST /v1/labels"
        assert client.get("/v1/model").json()["classes"] == model.classes


@pytest.mark.slow
@pytest.mark.backend_independent
def test_the_page_captions_a_picked_photo_in_a_browser(model, photos):
    from tests.support.browser import console_errors, start_browser
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with running(create_app(model)) as url:
        driver = start_browser()
        try:
            driver.get(url + "/")
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: "RANDOM weights" in d.find_element(By.ID, "model").text)
            driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in photos[:2]))
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li .caption")) == 2)
            shown = {li.find_element(By.CLASS_NAME, "file").text: li.find_element(By.CLASS_NAME, "caption").text
                     for li in driver.find_elements(By.CSS_SELECTOR, "#results li")}
            expected = model.caption([str(p) for p in photos[:2]])
            assert shown == {p.name: r.text for p, r in zip(photos[:2], expected)}
            images = driver.find_elements(By.CSS_SELECTOR, "#results li img")
            assert len(images) == 2 and all(driver.execute_script("return arguments[0].naturalWidth", i) > 0
                                            for i in images)
            assert console_errors(driver) == []
        finally:
            driver.quit()


# Under each backend: requests are answered while the warm-up compiles in another thread, which JAX allows only
# one call at a time (a compiled call may donate buffers another reads).
def test_the_server_is_ready_after_one_item_compiles_and_answers_while_the_larger_batches_compile(model, photos,
                                                                                                   caplog):
    from fastapi.testclient import TestClient

    with caplog.at_level("INFO", logger="captioner.serve"):
        with TestClient(create_app(model, ServeSettings(max_batch=4))) as client:
            deadline = time.monotonic() + 60
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            answer = client.post("/v1/captions", files=upload(*photos[:3]))  # a batch of 3 (4) while warming
            assert answer.status_code == 200 and all(r["caption"] for r in answer.json()["results"])
            deadline = time.monotonic() + 120  # the larger batches compile after it is ready, while it answers
            while not any(r.getMessage().startswith("warm in ") for r in caplog.records):
                assert time.monotonic() < deadline
                time.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("ready in ", "warm in "))]
    assert len(lines) == 2
    assert re.fullmatch(r"ready in \d+\.\d s: encoder built, the default search compiled for one item; batches "
                        r"of 2 to 4 compile now", lines[0])
    assert re.fullmatch(r"warm in \d+\.\d s: the default search compiled for batches of 1 to 4", lines[1])


@pytest.mark.backend_independent
def test_every_server_answer_has_the_same_shape_and_names(model, photos):
    from fastapi.testclient import TestClient

    with TestClient(create_app(model)) as client:
        body = client.post("/v1/captions", files=[("file", ("a.jpg", photos[0].read_bytes())),
                                                  ("file", ("b.jpg", b"not a picture"))]).json()
        assert set(body["results"][0]) == {"input", "caption", "log_prob", "captions"} and body["results"][0]["input"] == "a.jpg"
        assert set(body["results"][1]) == {"input", "error"}
        for response, reason in ((client.get("/v2/nothing"), "no such path: /v2/nothing"),
                                 (client.get("/v1/captions"), "GET is not allowed on /v1/captions"),
                                 (client.post("/v1/labels", files=[("file", ("a.jpg", b"x"))]), None)):
            assert response.status_code in (404, 405) and set(response.json()) == {"error"}, response.text
            assert reason is None or response.json()["error"] == reason
