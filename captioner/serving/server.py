"""`captioner serve` and `captioner.serve`: the app on uvicorn, until SIGINT or SIGTERM. On either, uvicorn stops
accepting connections, answers the requests in flight (up to the request timeout), then the batcher finishes and
the process exits 0."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from captioner.serving.settings import ServeSettings, check_settings, with_key_from_environment


def serve(model, settings: ServeSettings = ServeSettings(), weights: str | None = None, engine: str = "local",
          replicas: int = 1, ray_address: str | None = None) -> None:
    """Serve `model` (a bundle directory or a model from `captioner.load`) over HTTP with `settings`, in this
    process (`engine` "local") or on Ray Serve ("ray": `replicas` model replicas, a local Ray or the cluster at
    `ray_address`; the model must then be a bundle directory). Refuses (UsageError) a non-loopback host without
    an API key unless `settings.insecure_no_auth`, whichever the engine."""
    from captioner.api.loading import load
    from captioner.base.errors import UsageError

    settings = with_key_from_environment(settings)
    check_settings(settings)
    if engine == "ray":
        from captioner.serving.ray_model import serve_on_ray

        if not isinstance(model, (str, os.PathLike)) or not os.path.isdir(model):
            raise UsageError("engine 'ray' loads the model in its replicas: pass the bundle directory")
        return serve_on_ray(os.fspath(model), settings, replicas, ray_address, weights)
    if engine != "local":
        raise UsageError(f"engine {engine!r}: choose 'local' or 'ray'")
    if replicas != 1 or ray_address:
        raise UsageError("--replicas and --ray-address are for --engine ray")

    try:
        import uvicorn

        from captioner.serving.app import create_app
    except ImportError as exc:
        raise UsageError(f"serving needs the [serve] extra ({exc.name} is not installed): "
                         "pip install 'captioner[serve]'") from None

    load_seconds = None
    if isinstance(model, (str, os.PathLike)):
        started = time.monotonic()
        model = load(os.fspath(model), weights)
        load_seconds = time.monotonic() - started
    _log_to_stderr(settings.log_format)
    app = create_app(model, settings, load_seconds)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                            lifespan="on", timeout_graceful_shutdown=int(settings.timeout_s) + 1)
    auth = "API key required" if settings.api_key else "no API key"
    logging.getLogger("captioner.serve").info("serving %s on http://%s:%d (%s; try it at /, API docs at /docs)",
                                              model.directory, settings.host, settings.port, auth)
    # uvicorn re-raises the signal that stopped it once it has shut down; for SIGTERM that is the end of a clean
    # stop, so it is caught here and the process exits 0 (SIGINT still ends in KeyboardInterrupt, status 130).
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda number, frame: None)
    uvicorn.Server(config).run()


def _log_to_stderr(log_format: str) -> None:
    from captioner.serving.log_format import formatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    for name in ("captioner.serve", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
