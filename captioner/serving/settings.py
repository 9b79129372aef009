"""What a server is allowed to do: where it listens, who may call it, and how much one request may ask of it."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, replace

from captioner.base.errors import UsageError
from captioner.inputs.decode_budget import DecodeLimits

API_KEY_VARIABLE = "CAPTIONER_API_KEY"
MB = 1 << 20
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None  # bearer token the /v1 endpoints require; None: no authentication
    insecure_no_auth: bool = False  # allow a non-loopback address without an API key
    max_batch: int = 32  # items (images or clips) per encoder batch and search call, across requests
    max_wait_ms: float = 10.0  # the longest a batch waits for items already on their way (being decoded)
    max_queue: int = 256  # items waiting for the model; a request that does not fit gets 503
    max_files: int = 64  # files per request
    max_file_mb: float = 20.0  # per uploaded file
    max_request_mb: float = 100.0  # per request body
    timeout_s: float = 60.0  # per request, from its arrival to its answer
    decode_threads: int = 2  # threads decoding uploaded images (Pillow and PyAV release the GIL)
    clip_decode_threads: int = 2  # clips decoding at once (taking turns), apart from the images (they keep flowing)
    max_frames_decoded: int = 3600  # frames decoded per clip (a minute at 60 fps; models sample 8 to 32 of them)
    max_clip_seconds: float = 60.0  # media seconds decoded per clip
    max_request_megapixels: float = 2000.0  # pixels decoded per request, every frame and image counted
    max_beam: int = 8  # largest beam_size a request may ask for (each new setting compiles a search)
    name: str | None = None  # the model's name in the inference protocol (/v2/models/NAME); None: the file's
    metrics_port: int | None = None  # serve /metrics on this port (no key), not on the API's
    log_format: str = "text"  # the request log: "text" or "json" (a JSON object per line, for log collectors)

    @property
    def decode_limits(self) -> DecodeLimits:
        return DecodeLimits(self.max_frames_decoded, self.max_clip_seconds,
                            int(self.max_request_megapixels * 1_000_000))

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_mb * MB)


def with_key_from_environment(settings: ServeSettings) -> ServeSettings:
    """`settings` with the API key from $CAPTIONER_API_KEY when none was given (a key on a command line is seen
    by every user of the machine; the environment is not)."""
    if settings.api_key or not os.environ.get(API_KEY_VARIABLE):
        return settings
    return replace(settings, api_key=os.environ[API_KEY_VARIABLE])


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_settings(settings: ServeSettings) -> None:
    """Refuse settings that would expose the model to the network without authentication, or make no sense."""
    if not is_loopback(settings.host) and not settings.api_key and not settings.insecure_no_auth:
        raise UsageError(f"--host {settings.host} is reachable from other machines: set --api-key (or "
                         f"${API_KEY_VARIABLE}), or pass --insecure-no-auth to serve it to anyone")
    for name in ("max_batch", "max_queue", "max_files", "decode_threads", "clip_decode_threads", "max_beam",
                 "max_frames_decoded"):
        if getattr(settings, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("max_file_mb", "max_request_mb", "timeout_s", "max_clip_seconds", "max_request_megapixels"):
        if not getattr(settings, name) > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be above 0")
    if settings.max_wait_ms < 0:
        raise UsageError("--max-wait-ms must be 0 or more")
    if settings.log_format not in ("text", "json"):
        raise UsageError(f"--log-format {settings.log_format}: choose 'text' or 'json'")
    if settings.name is not None and not MODEL_NAME.fullmatch(settings.name):
        raise UsageError(f"--name {settings.name!r}: use letters, digits, '.', '_' and '-' (it is part of a URL)")
    if settings.metrics_port is not None and settings.metrics_port == settings.port:
        raise UsageError("--metrics-port must differ from --port")
    if settings.api_key is not None and len(settings.api_key) < 16:
        raise UsageError("--api-key is too short to be a secret: use at least 16 characters "
                         "(e.g. python -c 'import secrets; print(secrets.token_urlsafe())')")
