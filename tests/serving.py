"""A real uvicorn server in a background thread on a free loopback port, for the serving tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx


@contextlib.contextmanager
def running(app, ready: bool = True):
    """Serve `app` (captioner.serving.app.create_app) until the block ends; yields its base URL. With `ready`,
    waits for /readyz (the encoder built and the default search compiled)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        while ready and httpx.get(url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes]]]:
    """httpx's multipart `files=` for (name, content) pairs, each in a field named `file`."""
    return [("file", (name, data)) for name, data in items]
