"""The HTTP app over one loaded model: captions (or activity labels) for uploaded files, what the model is, health,
the Open Inference Protocol v2 beside /v1, Prometheus metrics, and a page to try it. Every request gets exactly
one answer: its results, or a status with a one-line reason."""

from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from captioner import __version__
from captioner.api.results import CaptionResult, LabelResult
from captioner.serving.answering import Refused, ServerState, outcomes, within_time
from captioner.serving.inference_protocol import add_inference_protocol
from captioner.serving.local_model import LocalModel
from captioner.serving.metrics import CONTENT_TYPE, ServerMetrics
from captioner.serving.open_api import errors, upload_body
from captioner.serving.request_options import (CAPTION_OPTIONS, LABEL_OPTIONS, OptionError, caption_options,
                                               label_options)
from captioner.serving.request_log import RequestLog
from captioner.serving.settings import ServeSettings
from captioner.serving.uploads import FILE_FIELD, FormError, read_form

LOG = logging.getLogger("captioner.serve")
# The page's own files only: no CDN, no inline script, nothing sent anywhere but this server.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_FILES = {"/": ("index.html", "text/html; charset=utf-8"), "/page.js": ("page.js", "text/javascript"),
              "/page.css": ("page.css", "text/css"), "/favicon.svg": ("favicon.svg", "image/svg+xml")}
UPLOAD_ERRORS = errors(400, 401, 404, 413, 422, 499, 500, 503, 504)


def create_app(model, settings: ServeSettings = ServeSettings(), load_seconds: float | None = None) -> FastAPI:
    """The app for `model`: a `CaptionModel` or `ClassifierModel` from `captioner.load` (served in this process,
    batched by `LocalModel`), or a model side such as `RayModel`. Run it with uvicorn
    (`captioner.serving.server.serve` does), or call it in-process with Starlette's TestClient. `load_seconds`:
    how long the model took to load, for the metrics."""
    metrics = ServerMetrics()
    side = model if hasattr(model, "facts") else LocalModel(model, settings, metrics)
    state = ServerState(side, settings, metrics)
    if load_seconds is not None:
        metrics.load_seconds.set(load_seconds)

    @asynccontextmanager
    async def lifespan(app):
        state.start()
        metrics_server = _metrics_server(metrics, settings) if settings.metrics_port is not None else None
        yield
        if metrics_server is not None:
            metrics_server.shutdown()
        state.stop()  # uvicorn calls this after the requests in flight are answered

    app = FastAPI(title="captioner", version=__version__, lifespan=lifespan,
                  description="Captions (or activity labels) for uploaded images and clips, from one CNN-LSTM model.")
    app.add_middleware(RequestLog, logger=LOG, metrics=metrics)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return JSONResponse({"error": str(exc)}, exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)  # the router's own answers (404, 405) in the same shape as ours
    async def not_routed(request: Request, exc: HTTPException):
        reason = {404: f"no such path: {request.url.path}",
                  405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": reason}, exc.status_code, headers=getattr(exc, "headers", None))

    def authorised(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.api_key.encode()):
            raise Refused(401, "missing or wrong API key: send the header 'Authorization: Bearer KEY'",
                          {"WWW-Authenticate": "Bearer"})

    facts = state.facts
    labels = facts.kind == "labels"
    # Each route is in the schema only for the kind of model that answers it; the other explains itself (404).
    options = label_options(len(facts.classes)) if labels else caption_options(settings.max_beam, facts.fixed_beam)

    @app.post("/v1/captions", dependencies=[Depends(authorised)], openapi_extra=upload_body(options),
              summary="Caption uploaded images (clips, for a clip model)", responses=UPLOAD_ERRORS,
              include_in_schema=not labels)
    async def captions(request: Request):
        return await _answer(state, request, "captions")

    @app.post("/v1/labels", dependencies=[Depends(authorised)], openapi_extra=upload_body(options),
              summary="The most likely activities of uploaded clips (an activity classifier)",
              responses=UPLOAD_ERRORS, include_in_schema=labels)
    async def labels_(request: Request):
        return await _answer(state, request, "labels")

    @app.get("/v1/model", dependencies=[Depends(authorised)], summary="What the model takes and gives",
             responses=errors(401))
    async def model_info():
        return _model_info(state)

    @app.get("/healthz", summary="The server is alive")
    async def healthz():
        return {"alive": True, **state.side.health()}

    @app.get("/readyz", summary="The model is loaded and its search compiled", responses=errors(503))
    async def readyz():
        if state.side.ready.is_set():
            return {"ready": True}
        return JSONResponse({"ready": False, "error": state.side.not_ready}, 503, headers={"Retry-After": "1"})

    if settings.metrics_port is None:
        @app.get("/metrics", dependencies=[Depends(authorised)], response_class=Response,
                 responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
                                  "description": "Prometheus' text format"}, **errors(401)},
                 summary="Prometheus metrics (text format)")
        async def prometheus_metrics():
            return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    add_inference_protocol(app, state, authorised)
    for path, (name, media_type) in PAGE_FILES.items():  # the try-it page's files: in the schema as GETs
        page = _page_file(name, media_type)
        app.add_api_route(path, page, methods=["GET"], response_class=Response, summary=f"The try-it page: {name}",
                          responses={200: {"content": {media_type.split(";")[0]: {"schema": {"type": "string"}}},
                                           "description": name}})
        app.add_api_route(path, page, methods=["HEAD"], include_in_schema=False)
    return app


def _metrics_server(metrics: ServerMetrics, settings: ServeSettings):
    """/metrics on its own port (prometheus-client's server, in a thread): for a scraper inside the network,
    without the API's key."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(settings.metrics_port, settings.host, registry=metrics.registry)
    LOG.info("metrics on http://%s:%d/metrics", settings.host, settings.metrics_port)
    return server


async def _answer(state: ServerState, request: Request, kind: str):
    if kind != state.facts.kind:
        other = "/v1/labels" if state.facts.kind == "labels" else "/v1/captions"
        what = "recognises activities in clips" if state.facts.kind == "labels" else "writes captions"
        raise Refused(404, f"this server's model {what}: POST {other}")
    return await within_time(state, request, _results(state, request, kind))


async def _results(state: ServerState, request: Request, kind: str):
    settings = state.settings
    names = CAPTION_OPTIONS if kind == "captions" else LABEL_OPTIONS
    unknown = sorted(set(request.query_params) - names)
    if unknown:
        raise Refused(400, f"unknown option {unknown[0]!r}: options are {', '.join(sorted(names))}")
    try:
        form = await read_form(request, names, settings.max_files, settings.max_file_bytes,
                               settings.max_request_bytes)
    except FormError as exc:
        raise Refused(exc.status, str(exc)) from None
    request.state.items = len(form.uploads)
    facts = state.facts
    twice = sorted(set(request.query_params) & set(form.options))
    if twice:
        raise Refused(400, f"{twice[0]} is given twice: send each option once, in the query or in the form")
    options = {**request.query_params, **form.options}
    try:
        key = facts.key(options, settings.max_beam)
    except OptionError as exc:
        raise Refused(400, str(exc)) from None
    if not form.uploads:
        raise Refused(422, f"no files: send each {'clip' if facts.frames else 'image'} in a multipart field "
                           f"named {FILE_FIELD!r}")
    fates = await outcomes(state, request, [u.data for u in form.uploads], key)
    results = [{"input": upload.name, "error": fate.reason} if fate.reason is not None else
               _render(kind, upload.name, fate.answer) for upload, fate in zip(form.uploads, fates)]
    body = {"results": results, **_settings_of(kind, key)}
    if facts.note:
        body["note"] = facts.note
    if all(fate.reason is not None for fate in fates):
        body["error"] = "the file could not be read" if len(results) == 1 else \
            f"none of the {len(results)} files could be read"
        return JSONResponse(body, 422)
    return body


def _render(kind: str, name: str, answer) -> dict:
    """One upload's result in the one schema (`captioner.api.results`)."""
    if kind == "labels":
        return LabelResult(name, list(answer)).to_json()
    return CaptionResult(name, list(answer)).to_json()


def _settings_of(kind: str, key) -> dict:
    if kind == "labels":
        return {"top_k": key}
    beam, num, penalty = key
    return {"beam_size": beam, "num_captions": num, "length_penalty": penalty}


def _model_info(state: ServerState) -> dict:
    facts, settings = state.facts, state.settings
    info = {"kind": facts.kind, "takes": "clips" if facts.frames else "images", "frames": facts.frames,
            "encoder": {"description": facts.encoder.describe(), "random_weights": facts.random_encoder,
                        "fingerprint": facts.encoder.to_json()},
            "training": facts.training,
            "limits": {"max_files": settings.max_files, "max_file_mb": settings.max_file_mb,
                       "max_request_mb": settings.max_request_mb, "timeout_s": settings.timeout_s,
                       "max_beam": settings.max_beam, "max_batch": settings.max_batch},
            "version": __version__}
    if facts.kind == "labels":
        info["classes"] = facts.classes
    else:
        info["vocabulary"] = facts.vocabulary
    return info


def _page_file(name: str, media_type: str):
    content = resources.files("captioner.serving").joinpath("page", name).read_bytes()
    headers = {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-cache"}

    async def page():
        return Response(content, media_type=media_type, headers=headers)

    return page
