"""The HTTP app over one loaded model: captions (or activity labels) for uploaded files, what the model is, health,
and a page to try it. Every request gets exactly one answer: its results, or a status with a one-line reason."""

from __future__ import annotations

import asyncio
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from captioner import __version__
from captioner.api.results import CaptionResult, LabelResult
from captioner.serving.batcher import QueueFull
from captioner.serving.decoding import decode_upload
from captioner.serving.local_model import LocalModel
from captioner.serving.request_options import CAPTION_OPTIONS, LABEL_OPTIONS, OptionError
from captioner.serving.request_log import RequestLog
from captioner.serving.settings import ServeSettings
from captioner.serving.uploads import FILE_FIELD, FormError, read_form

LOG = logging.getLogger("captioner.serve")
# The page's own files only: no CDN, no inline script, nothing sent anywhere but this server.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
PAGE_FILES = {"/": ("index.html", "text/html; charset=utf-8"), "/page.js": ("page.js", "text/javascript"),
              "/page.css": ("page.css", "text/css"), "/favicon.svg": ("favicon.svg", "image/svg+xml")}


class Refused(Exception):
    """A request answered with `status` and {"error": reason}."""

    def __init__(self, status: int, reason: str, headers: dict | None = None):
        super().__init__(reason)
        self.status, self.headers = status, headers or {}


class ServerState:
    """The model side (in this process, or replicas elsewhere), the upload decoders, the settings."""

    def __init__(self, side, settings: ServeSettings):
        self.side, self.facts, self.settings = side, side.facts, settings
        self.decoders = ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="captioner-decode")

    def start(self) -> None:
        self.side.start()

    def stop(self) -> None:
        self.side.stop()
        self.decoders.shutdown()


def create_app(model, settings: ServeSettings = ServeSettings()) -> FastAPI:
    """The app for `model`: a `CaptionModel` or `ClassifierModel` from `captioner.load` (served in this process,
    batched by `LocalModel`), or a model side such as `RayModel`. Run it with uvicorn
    (`captioner.serving.server.serve` does), or call it in-process with Starlette's TestClient."""
    state = ServerState(model if hasattr(model, "facts") else LocalModel(model, settings), settings)

    @asynccontextmanager
    async def lifespan(app):
        state.start()
        yield
        state.stop()  # uvicorn calls this after the requests in flight are answered

    app = FastAPI(title="captioner", version=__version__, lifespan=lifespan,
                  description="Captions (or activity labels) for uploaded images and clips, from one CNN-LSTM model.")
    app.add_middleware(RequestLog, logger=LOG)

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

    @app.post("/v1/captions", dependencies=[Depends(authorised)], openapi_extra=_upload_body(CAPTION_OPTIONS),
              summary="Caption uploaded images (clips, for a clip model)")
    async def captions(request: Request):
        return await _answer(state, request, "captions")

    @app.post("/v1/labels", dependencies=[Depends(authorised)], openapi_extra=_upload_body(LABEL_OPTIONS),
              summary="The most likely activities of uploaded clips (an activity classifier)")
    async def labels(request: Request):
        return await _answer(state, request, "labels")

    @app.get("/v1/model", dependencies=[Depends(authorised)], summary="What the model takes and gives")
    async def model_info():
        return _model_info(state)

    @app.get("/healthz", summary="The server is alive")
    async def healthz():
        return {"alive": True, **state.side.health()}

    @app.get("/readyz", summary="The model is loaded and its search compiled")
    async def readyz():
        if state.side.ready.is_set():
            return {"ready": True}
        return JSONResponse({"ready": False, "error": state.side.not_ready}, 503, headers={"Retry-After": "1"})

    for path, (name, media_type) in PAGE_FILES.items():
        app.add_api_route(path, _page_file(name, media_type), methods=["GET", "HEAD"],
                          include_in_schema=False)
    return app


async def _answer(state: ServerState, request: Request, kind: str):
    if kind != state.facts.kind:
        other = "/v1/labels" if state.facts.kind == "labels" else "/v1/captions"
        what = "recognises activities in clips" if state.facts.kind == "labels" else "writes captions"
        raise Refused(404, f"this server's model {what}: POST {other}")
    try:
        return await asyncio.wait_for(_results(state, request, kind), state.settings.timeout_s)
    except asyncio.TimeoutError:
        raise Refused(504, f"not answered within {state.settings.timeout_s:g} s (--timeout-s); try fewer files "
                           "or later") from None


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
    options = {**request.query_params, **form.options}
    try:
        key = facts.key(options, settings.max_beam)
    except OptionError as exc:
        raise Refused(400, str(exc)) from None
    if not form.uploads:
        raise Refused(422, f"no files: send each {'clip' if facts.frames else 'image'} in a multipart field "
                           f"named {FILE_FIELD!r}")
    _check_room(state, len(form.uploads))
    decoded, futures = await _decoded_and_queued(state, form.uploads, key)
    answers = iter([])
    if futures:
        try:
            answers = iter(await state.side.answers(futures))
        except QueueFull as exc:  # Ray Serve's queue limit, met by a call
            raise _busy(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the model failed on this batch: say so, once
            raise Refused(500, f"the model failed: {type(exc).__name__}: {exc}") from None
    results = [{"input": upload.name, "error": reason} if reason is not None else
               _render(kind, upload.name, next(answers)) for upload, (_, reason) in zip(form.uploads, decoded)]
    body = {"results": results, **_settings_of(kind, key)}
    if facts.note:
        body["note"] = facts.note
    if not futures:
        body["error"] = "the file could not be read" if len(results) == 1 else \
            f"none of the {len(results)} files could be read"
        return JSONResponse(body, 422)
    return body


async def _decoded_and_queued(state: ServerState, uploads: list, key) -> tuple[list, list]:
    """Decode the uploads in the thread pool and queue the good ones; the model side knows they are coming
    meanwhile, so a batch waits (up to --max-wait-ms) for them, and only for them."""
    loop = asyncio.get_running_loop()
    side = state.side
    side.expect(len(uploads))
    queued = False
    try:
        decoded = await asyncio.gather(*(loop.run_in_executor(state.decoders, decode_upload, u.data,
                                                              state.facts.frames, state.facts.input_size)
                                         for u in uploads))
        good = [pixels for pixels, reason in decoded if reason is None]
        if not good:
            return decoded, []
        try:
            futures = side.submit(key, good, announced=len(uploads))
        except QueueFull as exc:
            raise _busy(str(exc)) from None
        queued = True
        return decoded, futures
    finally:
        if not queued:
            side.forget(len(uploads))


def _check_room(state: ServerState, count: int) -> None:
    """Refuse early what the queue cannot take (a side without a queue of its own, Ray's, has max_queue None)."""
    limit = state.side.max_queue
    if limit is None:
        return
    if count > limit:
        raise Refused(413, f"{count} files is more than the server's queue holds ({limit})")
    if state.side.waiting + count > limit:
        raise _busy(f"{state.side.waiting} items are waiting (the queue holds {limit})")


def _busy(reason: str) -> Refused:
    return Refused(503, f"busy: {reason}; retry later", {"Retry-After": "1"})


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


def _upload_body(options: set[str]) -> dict:
    """The request body as OpenAPI describes it (the body is parsed by `read_form`, not by FastAPI)."""
    properties = {FILE_FIELD: {"type": "array", "items": {"type": "string", "format": "binary"}}}
    properties.update({name: {"type": "number" if name == "length_penalty" else "integer"} for name in options})
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": [FILE_FIELD], "properties": properties}}}}}


def _page_file(name: str, media_type: str):
    content = resources.files("captioner.serving").joinpath("page", name).read_bytes()
    headers = {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-cache"}

    async def page():
        return Response(content, media_type=media_type, headers=headers)

    return page
