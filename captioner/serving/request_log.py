"""One log line per request — method, path, status, items, milliseconds and its request ID, never the query, a
header or content — and its count in the metrics. The request ID is the client's `X-Request-ID` when it is a
plain token, else a new one; the answer carries it back in the same header."""

from __future__ import annotations

import re
import time
import uuid

REQUEST_ID = "x-request-id"
TOKEN = re.compile(rb"[A-Za-z0-9._:-]{1,128}")  # what may go into a log line as it came


def request_id(headers: list) -> str:
    """The client's X-Request-ID when it is a plain token of up to 128 characters, else a fresh one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID.encode() and TOKEN.fullmatch(value.strip()):
            return value.strip().decode()
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware; the endpoint records its number of items in `request.state.items`."""

    def __init__(self, app, logger, metrics=None):
        self.app, self.logger, self.metrics = app, logger, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers
        rid = request_id(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = rid

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (REQUEST_ID.encode(), rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - start
            items = scope.get("state", {}).get("items", 0)
            fields = {"method": scope["method"], "path": scope["path"], "status": status, "items": items,
                      "ms": round(seconds * 1000), "request_id": rid}
            self.logger.info("%s %s %d items=%d %.0f ms id=%s", scope["method"], scope["path"], status, items,
                             seconds * 1000, rid, extra={"request": fields})
            if self.metrics is not None:
                route = scope.get("route")
                self.metrics.request(getattr(route, "path", "unrouted"), scope["method"], status, seconds)
