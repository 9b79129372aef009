"""Schemathesis against the running server's own schema (/openapi.json): generated requests for every route,
with every check (server errors, schema conformance of answers, undocumented status codes, schema-valid requests
refused, invalid ones accepted), a bounded number of examples and a fixed seed."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (bash scripts/setup.sh serve)")
schemathesis = pytest.importorskip("schemathesis", reason="Schemathesis is not installed "
                                                          "(bash scripts/setup.sh serve)")

from captioner.serving.app import create_app  # noqa: E402
from captioner.serving.settings import ServeSettings  # noqa: E402
from tests.support.fake_model import FakeModel  # noqa: E402
from tests.support.live_server import running  # noqa: E402

EXAMPLES = 25


def _photo() -> bytes:
    """A small JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "olive").save(out, "JPEG")
    return out.getvalue()


def _clip() -> bytes:
    """A small animated GIF (3 frames): a clip."""
    out = io.BytesIO()
    frames = [Image.new("RGB", (24, 24), colour) for colour in ("red", "green", "blue")]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def valid_content(context, case, make=_photo):
    """What a schema cannot say, made true of the requests it calls valid: a file is an image (the schema says
    "binary"), an option is given once (query or form), num_captions is at most beam_size (each is checked
    alone). Invalid requests are left alone."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if isinstance(case.body, dict) and isinstance(case.body.get("file"), list):
        case.body["file"] = [make() for _ in case.body["file"]]
    if isinstance(case.body, dict) and isinstance(case.body.get("inputs"), list):  # /v2 infer: N files of N
        tensor = case.body["inputs"][0]
        tensor["data"] = [base64.b64encode(make()).decode()] * len(tensor["data"])
        tensor["shape"] = [len(tensor["data"])]
        case.body["parameters"] = {}  # the search options, each checked alone, are /v1's
    places = [p for p in (case.query, case.body) if isinstance(p, dict)]
    if len(places) == 2:  # an option goes once, in the query or the form: the query keeps it
        for name in set(places[0]) & set(places[1]):
            del places[1][name]
    merged = {k: v for place in places for k, v in place.items()}
    beam, num = merged.get("beam_size", 3), merged.get("num_captions", 1)
    if isinstance(beam, int) and isinstance(num, int) and num > beam:
        for place in places:
            if "num_captions" in place:
                place["num_captions"] = beam
    return case


def _fuzz(app, make) -> list[str]:
    """Every finding, as text, on each route in both modes: schema-valid requests (made valid in content by
    `valid_content`, files from `make`) and schema-violating ones."""
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis.errors import Unsatisfiable

    from schemathesis.config import SchemathesisConfig
    from schemathesis.generation.modes import GenerationMode

    config = SchemathesisConfig.from_dict({"generation": {"max-examples": EXAMPLES,
                                                          "mode": "all"}})
    failures, ran = [], []
    with running(app) as url:
        schema = schemathesis.openapi.from_url(url + "/openapi.json", config=config)

        def map_case(context, case):
            return valid_content(context, case, make)

        schema.hook(map_case)
        operations = [(result.ok(), mode) for result in schema.get_all_operations()
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        for operation, mode in operations:

            @seed(7)
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(mode))
            def run(case):
                ran.append(operation.label)
                case.call_and_validate()

            try:
                run()
            except Unsatisfiable:  # a route with no parameters and no body has no schema-violating request
                assert mode == GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # noqa: BLE001 - every route's findings are collected, then reported together
                failures.append(f"{operation.label}: {exc}")
    assert ran
    return failures


@pytest.mark.backend_independent
@pytest.mark.parametrize("model, make", [
    (FakeModel(), _photo),
    (FakeModel(frames=2, classes=["dancing", "juggling", "running"], directory="models/activities.onnx"), _clip),
], ids=["image-captions", "clip-labels"])
def test_every_route_answers_as_its_schema_says(model, make):
    failures = _fuzz(create_app(model, ServeSettings(timeout_s=10, api_key=None)), make)
    assert not failures, "\n\n".join(failures)
