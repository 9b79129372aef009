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


def free_port() -> int:
    import socket as sockets

    with sockets.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """A `captioner serve` process: `process`, `url`, and `log` (its output) once the block has ended."""

    def __init__(self, process, url: str):
        self.process, self.url, self.log = process, url, ""


@contextlib.contextmanager
def server_process(args: list[str], env: dict, timeout: float = 120):
    """`python -m captioner serve ARGS --port P` as a process, yielded once its /readyz answers 200; killed at the
    end of the block if it is still running."""
    import subprocess
    import sys

    port = free_port()
    served = Served(subprocess.Popen([sys.executable, "-m", "captioner", "serve", *args, "--port", str(port)],
                                     env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True), f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert served.process.poll() is None and time.monotonic() < deadline, "the server did not become ready"
            try:
                if httpx.get(served.url + "/readyz", timeout=10).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
        served.log = served.process.communicate()[0]


def slow_multipart(name: str, data: bytes, pieces: int, pause: float):
    """(headers, body generator): one file in a field named `file`, sent in `pieces` with `pause` s between, so
    that the request is still coming in while a test does something to the server."""
    boundary = "slowboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            yield body[start:start + step]
            time.sleep(pause)

    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, chunks()


def upload(*paths) -> list:
    """httpx's `files=` for image files on disk."""
    return files(*[(p.name, p.read_bytes()) for p in paths])
