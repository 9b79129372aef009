"""The Open Inference Protocol v2 (KServe, Triton, Seldon; `tritonclient[http]` speaks it) beside /v1: server
and model metadata, liveness and readiness, and `infer` with the same batching, limits and key as /v1. The input
is one BYTES tensor of encoded files (images, or clips for a clip model); the outputs are the captions (BYTES)
and their log-probabilities (FP32), or an activity classifier's labels and probabilities, each (files, k)."""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response

from captioner import __version__
from captioner.serving.answering import Refused, ServerState, outcomes, within_time
from captioner.serving.open_api import errors, v2_infer_body
from captioner.serving.request_options import CAPTION_OPTIONS, LABEL_OPTIONS, OptionError
from captioner.serving.uploads import FormError, limited_body
from captioner.serving.v2_tensors import HEADER_LENGTH, OutputTensor, TensorError, parse_request, response_body

VERSION = "1"
INFER_ANSWER = {"description": "The outputs as JSON, or (outputs asked for as binary_data) the JSON and then their "
                               "bytes, its length in the Inference-Header-Content-Length header",
                "content": {"application/json": {"schema": {"type": "object", "required": ["model_name", "outputs"]}},
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}


def model_name(settings, directory: str) -> str:
    """--name, else the bundle folder's (or exported file's) name, made a URL token."""
    if settings.name:
        return settings.name
    base = re.sub(r"\.(onnx|tflite)$", "", directory.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1])
    return re.sub(r"[^A-Za-z0-9._-]", "-", base).strip(".-") or "model"


def add_inference_protocol(app: FastAPI, state: ServerState, authorised) -> None:
    facts = state.facts
    name = model_name(state.settings, facts.directory)
    input_name = "clips" if facts.frames else "images"
    outputs = ["labels", "probabilities"] if facts.kind == "labels" else ["captions", "log_probs"]

    # the schema names this server's one model; another name is answered 404 with this server's (not 422)
    def model_name_param():
        return Path(json_schema_extra={"enum": [name]})

    def the_model(model: str) -> None:
        if model != name:
            raise Refused(404, f"no model named {model!r}: this server serves {name!r}")

    @app.get("/v2", summary="The server's metadata (inference protocol v2)", tags=["v2"])
    async def server_metadata():
        return {"name": "captioner", "version": __version__, "extensions": ["binary_tensor_data"]}

    @app.get("/v2/health/live", summary="The server is alive", tags=["v2"])
    async def live():
        return {"live": True}

    @app.get("/v2/health/ready", summary="The model is ready", tags=["v2"], responses=errors(503))
    async def ready():
        return _readiness(state, {})

    @app.get("/v2/models/{model}", dependencies=[Depends(authorised)], tags=["v2"],
             summary="The model's inputs and outputs", responses=errors(401, 404))
    async def metadata(model: str = model_name_param()):
        the_model(model)
        tensor_k = [-1, -1]
        return {"name": name, "versions": [VERSION], "platform": f"captioner-{facts.kind}",
                "inputs": [{"name": input_name, "datatype": "BYTES", "shape": [-1]}],
                "outputs": [{"name": outputs[0], "datatype": "BYTES", "shape": tensor_k},
                            {"name": outputs[1], "datatype": "FP32", "shape": tensor_k}]}

    @app.get("/v2/models/{model}/ready", tags=["v2"], summary="The model is ready", responses=errors(404, 503))
    async def model_ready(model: str = model_name_param()):
        the_model(model)
        return _readiness(state, {"name": name})

    @app.post("/v2/models/{model}/infer", dependencies=[Depends(authorised)], tags=["v2"],
              summary="Captions (or labels) for a BYTES tensor of encoded files",
              openapi_extra=v2_infer_body(input_name, state.settings.max_files, outputs),
              responses={200: INFER_ANSWER, **errors(400, 401, 404, 413, 499, 500, 503, 504)})
    async def infer(request: Request, model: str = model_name_param()):
        the_model(model)
        return await within_time(state, request, _infer(state, request, name, input_name, outputs))


def _readiness(state: ServerState, head: dict):
    if state.side.ready.is_set():
        return {**head, "ready": True}
    return JSONResponse({**head, "ready": False, "error": state.side.not_ready}, 503, headers={"Retry-After": "1"})


async def _infer(state: ServerState, request: Request, name: str, input_name: str, names: list[str]):
    settings, facts = state.settings, state.facts
    try:
        body = b"".join([chunk async for chunk in limited_body(request, settings.max_request_bytes)])
    except FormError as exc:
        raise Refused(exc.status, str(exc)) from None
    try:
        infer = parse_request(body, request.headers.get(HEADER_LENGTH), settings.max_files, settings.max_file_bytes)
    except TensorError as exc:
        raise Refused(400, str(exc)) from None
    if infer.input_name != input_name:
        raise Refused(400, f"the input is named {input_name!r}, not {infer.input_name!r}")
    unknown = sorted(set(infer.outputs) - set(names))
    if unknown:
        raise Refused(400, f"no output named {unknown[0]!r}: the outputs are {', '.join(names)}")
    request.state.items = len(infer.elements)
    option_names = LABEL_OPTIONS if facts.kind == "labels" else CAPTION_OPTIONS  # the search options; others ignored
    options = {k: str(v) for k, v in infer.parameters.items() if k in option_names}
    try:
        key = facts.key(options, settings.max_beam)
    except OptionError as exc:
        raise Refused(400, str(exc)) from None
    fates = await outcomes(state, request, infer.elements, key)
    bad = [(i, fate.reason) for i, fate in enumerate(fates) if fate.reason is not None]
    if bad:
        i, reason = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise Refused(400, f"{input_name}[{i}]: {reason}{more}")
    tensors = _tensors(facts.kind, names, [fate.answer for fate in fates])
    wanted = infer.outputs or {n: infer.binary_outputs for n in names}
    head = {"model_name": name, "model_version": VERSION, "id": infer.id or request.state.request_id}
    if facts.note:
        head["parameters"] = {"note": facts.note}
    data, json_length = response_body(head, [t for t in tensors if t.name in wanted], wanted)
    if json_length is None:
        return Response(data, media_type="application/json")
    return Response(data, media_type="application/octet-stream", headers={"Inference-Header-Content-Length":
                                                                           str(json_length)})


def _tensors(kind: str, names: list[str], answers: list) -> list[OutputTensor]:
    if kind == "labels":
        return [OutputTensor(names[0], "BYTES", [[label for label, _ in a] for a in answers]),
                OutputTensor(names[1], "FP32", [[float(p) for _, p in a] for a in answers])]
    return [OutputTensor(names[0], "BYTES", [[c.text for c in a] for a in answers]),
            OutputTensor(names[1], "FP32", [[float(c.log_prob) for c in a] for a in answers])]
