"""`captioner serve --model FILE.onnx`: the same app (batching, options, /v1/model) over an exported model run
by ONNX Runtime; the search is the file's, so a request asking for another is refused with the reason."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")

import httpx  # noqa: E402

from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings  # noqa: E402
from tests.support.live_server import running, upload  # noqa: E402

pytestmark = pytest.mark.backend_independent  # the export is traced by TensorFlow; serving it uses no Keras


@pytest.fixture(scope="module")
def exported_model(trained, tmp_path_factory):
    import captioner

    path = tmp_path_factory.mktemp("served") / "model.onnx"
    captioner.export(str(trained / "model"), "onnx", str(path), "beam", 3)
    return captioner.load(str(path), announce=False)


def test_parallel_requests_get_the_exported_models_captions(exported_model, model, photos):
    paths = photos[:12]
    expected = {p.name: r for p, r in zip(paths, exported_model.caption([str(p) for p in paths]))}
    bundle = model.caption([str(p) for p in paths], beam_size=3)
    assert [r.caption for r in expected.values()] == [r.caption for r in bundle]
    requests = [[p] for p in paths[:8]] + [paths[8:10], paths[10:12]]

    async def all_at_once(url):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            return await asyncio.gather(*(client.post("/v1/captions", files=upload(*r)) for r in requests))

    with running(create_app(exported_model, ServeSettings(max_batch=8, max_wait_ms=300))) as url:
        responses = asyncio.run(all_at_once(url))
        stats = httpx.get(url + "/healthz").json()
        about = httpx.get(url + "/v1/model").json()
    for sent, response in zip(requests, responses):
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["beam_size"] == 3 and "RANDOM weights" in answer["note"]
        for result in answer["results"]:
            assert result["caption"] == expected[result["input"]].text
            assert result["log_prob"] == pytest.approx(expected[result["input"]].log_prob, abs=1e-4)
    assert stats["items"] == 12 and stats["largest_batch"] > 1
    assert about["vocabulary"] == len(exported_model.exported.vocab) and about["takes"] == "images"


def test_another_search_is_refused_and_the_files_own_options_work(exported_model, photos):
    from fastapi.testclient import TestClient

    with TestClient(create_app(exported_model)) as client:
        refused = client.post("/v1/captions?beam_size=5", files=upload(photos[0]))
        assert refused.status_code == 400
        assert "beam_size must be 3: the model's search is inside its exported file" in refused.text
        two = client.post("/v1/captions?num_captions=2&length_penalty=0.5", files=upload(photos[0])).json()
        want = exported_model.caption([str(photos[0])], num_captions=2, length_penalty=0.5)[0]
        assert [c["caption"] for c in two["results"][0]["captions"]] == [c.text for c in want.captions]
        bad = client.post("/v1/captions", files=[("file", ("x.jpg", b"not an image"))]).json()
        assert bad["results"][0] == {"input": "x.jpg", "error": "not an image (unknown format)"}
