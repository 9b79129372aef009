"""One log line per request: method, path, status, items, milliseconds. Never the query, a header or content."""

from __future__ import annotations

import time


class RequestLog:
    """ASGI middleware; the endpoint records its number of items in `request.state.items`."""

    def __init__(self, app, logger):
        self.app, self.logger = app, logger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            items = scope.get("state", {}).get("items", 0)
            self.logger.info("%s %s %d items=%d %.0f ms", scope["method"], scope["path"], status, items,
                             (time.perf_counter() - start) * 1000)
