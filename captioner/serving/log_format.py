"""How the server's log lines are written: text for people, or a JSON object per line for log collectors
(`--log-format json`), the request's fields (method, path, status, items, ms, request_id) as their own keys."""

from __future__ import annotations

import json
import logging
import time


class TextFormat(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")


class JsonFormat(logging.Formatter):
    """{"time", "level", "logger", "message", and a request's fields}: one line, whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) +
                 f".{int(record.msecs):03d}Z", "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        entry.update(getattr(record, "request", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False)


def formatter(name: str) -> logging.Formatter:
    """"text" or "json" (checked by the settings)."""
    return JsonFormat() if name == "json" else TextFormat()
