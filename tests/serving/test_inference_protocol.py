"""The Open Inference Protocol v2 beside /v1, spoken to by the real Triton client (`tritonclient[http]`): server
and model metadata, health, several images in one infer (answers equal to /v1's), a bad image's reason, the
same key as /v1, and the protocol's JSON form."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")
http = pytest.importorskip("tritonclient.http", reason="the Triton client is not installed "
                                                       "(bash scripts/setup.sh serve)")

import httpx  # noqa: E402
from tritonclient.utils import InferenceServerException  # noqa: E402

from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings  # noqa: E402
from tests.support.fake_model import FakeModel  # noqa: E402
from tests.support.live_server import running, upload  # noqa: E402

KEY = "k" * 24


def _files(*payloads: bytes):
    tensor = http.InferInput("images", [len(payloads)], "BYTES")
    tensor.set_data_from_numpy(np.array(payloads, dtype=np.object_))
    return tensor


@pytest.mark.backend_independent
def test_the_triton_client_gets_metadata_and_the_same_captions_as_v1(model, photos):
    app = create_app(model, ServeSettings(name="flickr-tiny"))
    data = [p.read_bytes() for p in photos[:3]]
    with running(app) as url:
        client = http.InferenceServerClient(url.removeprefix("http://"))
        assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("flickr-tiny")
        assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
        meta = client.get_model_metadata("flickr-tiny")
        assert meta["inputs"] == [{"name": "images", "datatype": "BYTES", "shape": [-1]}]
        assert [(o["name"], o["datatype"]) for o in meta["outputs"]] == [("captions", "BYTES"), ("log_probs", "FP32")]

        result = client.infer("flickr-tiny", [_files(*data)], parameters={"beam_size": 3, "num_captions": 2},
                              outputs=[http.InferRequestedOutput("captions"), http.InferRequestedOutput("log_probs")])
        v1 = httpx.post(url + "/v1/captions?beam_size=3&num_captions=2", files=upload(*photos[:3])).json()
        captions, log_probs = result.as_numpy("captions"), result.as_numpy("log_probs")
        assert captions.shape == (3, 2) and log_probs.dtype == np.float32
        for row, probs, answer in zip(captions, log_probs, v1["results"]):
            assert [c.decode() for c in row] == [c["caption"] for c in answer["captions"]]
            assert probs == pytest.approx([c["log_prob"] for c in answer["captions"]], abs=1e-4)

        with pytest.raises(InferenceServerException) as bad:
            client.infer("flickr-tiny", [_files(data[0], b"GIF89a not really")])
        assert bad.value.status() == "400" and bad.value.message().startswith("images[1]: ")
        with pytest.raises(InferenceServerException, match="no model named 'other'"):
            client.get_model_metadata("other")
        _run_the_serving_pages_example(url, "flickr-tiny", data, captions[:2])


def _run_the_serving_pages_example(url: str, name: str, data: list, captions, tmp=None):
    """docs/serving.md's tritonclient block, run as shown against this server (its address, model name and
    two files swapped in): it prints the captions /v1 gave."""
    import contextlib
    import os
    import pathlib
    import re
    import tempfile

    page = pathlib.Path(__file__).resolve().parents[2] / "docs" / "serving.md"
    (block,) = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    code = block.replace("127.0.0.1:8000", url.removeprefix("http://")).replace("f8k-model", name)
    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        for file, content in zip(("a.jpg", "b.jpg"), data):
            pathlib.Path(folder, file).write_bytes(content)
        here = os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(code, "docs/serving.md", "exec"), {})
        finally:
            os.chdir(here)
    for row in captions:
        for caption in row:
            assert repr(caption) in printed.getvalue()


@pytest.mark.backend_independent
def test_v2_takes_the_same_key_options_and_limits_as_v1(tmp_path):
    photo = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (40, 30), "teal").save(photo, "JPEG")
    jpg = photo.getvalue()
    app = create_app(FakeModel(), ServeSettings(api_key=KEY, max_files=2, max_beam=4))
    with running(app) as url:
        infer = url + "/v2/models/fake-model/infer"
        one = {"name": "images", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(jpg).decode()]}
        body = {"inputs": [one]}
        assert httpx.post(infer, json=body).status_code == 401
        assert httpx.get(url + "/v2/models/fake-model").status_code == 401
        assert httpx.get(url + "/v2/health/ready").status_code == 200  # health needs no key, as /readyz
        auth = {"Authorization": f"Bearer {KEY}"}
        answer = httpx.post(infer, json={**body, "id": "r-7", "parameters": {"num_captions": 2}}, headers=auth).json()
        assert answer["id"] == "r-7" and answer["model_name"] == "fake-model"
        assert answer["outputs"][0] == {"name": "captions", "datatype": "BYTES", "shape": [1, 2],
                                        "data": ["1 frames 0", "1 frames 1"]}
        assert answer["outputs"][1]["data"] == [-1.0, -2.0]

        def refused(change: dict, status: int = 400) -> str:
            response = httpx.post(infer, json={**body, **change}, headers=auth)
            assert response.status_code == status, response.text
            return response.json()["error"]

        assert refused({"parameters": {"beam_size": 9}}) == "beam_size must be from 1 to 4, not 9"
        three = [{**one, "shape": [3], "data": one["data"] * 3}]
        assert refused({"inputs": three}) == "input shape [3]: send 1 to 2 files per request"
        assert refused({"inputs": [{**one, "name": "clips"}]}) == \
            "the input is named 'images', not 'clips'"
        assert refused({"outputs": [{"name": "words"}]}) == \
            "no output named 'words': the outputs are captions, log_probs"
        assert refused({"inputs": [{**one, "data": ["%%%"]}]}).startswith("a 'data' element is not base64")
        assert httpx.post(infer, content=b"{", headers=auth).json()["error"].startswith("the request is not JSON")
