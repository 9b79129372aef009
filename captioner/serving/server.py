"""`captioner serve` and `captioner.serve`: the app on uvicorn, until SIGINT or SIGTERM. On either, uvicorn stops
accepting connections, answers the requests in flight (up to the request timeout), then the batcher finishes and
the process exits 0."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from captioner.serving.settings import ServeSettings, check_settings, with_key_from_environment


def serve(model, settings: ServeSettings = ServeSettings(), weights: str | None = None) -> None:
    """Serve `model` (a bundle directory or a model from `captioner.load`) over HTTP with `settings`. Refuses
    (UsageError) a non-loopback host without an API key unless `settings.insecure_no_auth`."""
    from captioner.api.loading import load
    from captioner.base.errors import UsageError

    try:
        import uvicorn

        from captioner.serving.app import create_app
    except ImportError as exc:
        raise UsageError(f"serving needs the [serve] extra ({exc.name} is not installed): "
                         "pip install 'captioner[serve]'") from None

    settings = with_key_from_environment(settings)
    check_settings(settings)
    if isinstance(model, (str, os.PathLike)):
        model = load(os.fspath(model), weights)
    _log_to_stderr()
    app = create_app(model, settings)
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


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    for name in ("captioner.serve", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
