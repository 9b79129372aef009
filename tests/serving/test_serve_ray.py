"""`captioner serve --engine ray`: the same app on a local Ray Serve, the model in two replicas batched by Ray
Serve; the same answers as the API, the same API key, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import pytest

from tests.support.live_server import files, server_process


pytestmark = [pytest.mark.slow, pytest.mark.backend_independent,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # Ray Serve's pydantic fields
KEY = "ray-serve-test-key-0123456789"


def test_serve_on_ray_answers_like_the_api_and_stops_on_sigterm(trained, synthetic):
    try:
        import ray.serve  # noqa: F401 - Ray Serve's own dependencies come with the [ray-serve] extra
    except ImportError:
        pytest.skip("Ray Serve is not installed (bash scripts/setup.sh ray-serve)")
    import captioner

    with server_process(["--engine", "ray", "--replicas", "2", "--max-batch", "8", "--model", str(trained / "model")],
                        {**os.environ, "CAPTIONER_API_KEY": KEY}, timeout=300) as served:
        url = served.url
        photos = sorted((synthetic / "Images").glob("*.jpg"))[:6]
        expected = captioner.load(str(trained / "model"), announce=False).caption([str(p) for p in photos])

        async def all_at_once():
            async with httpx.AsyncClient(base_url=url, timeout=120,
                                         headers={"Authorization": f"Bearer {KEY}"}) as client:
                return await asyncio.gather(*(client.post("/v1/captions", files=files((p.name, p.read_bytes())))
                                              for p in photos))

        for response, want in zip(asyncio.run(all_at_once()), expected):
            assert response.status_code == 200, response.text
            result, = response.json()["results"]
            assert result["caption"] == want.text
            assert result["log_prob"] == pytest.approx(want.log_prob, abs=1e-4)
        refused = httpx.post(url + "/v1/captions", files=files(("a.jpg", photos[0].read_bytes())), timeout=60)
        assert refused.status_code == 401
        assert httpx.get(url + "/healthz", timeout=30).json() == {"alive": True, "engine": "ray"}
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=120) == 0
    assert "with 2 model replica(s)" in served.log and "Traceback" not in served.log
