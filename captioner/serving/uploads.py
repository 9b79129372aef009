"""A multipart/form-data request body -> its uploaded files and option fields, with the size limits applied
while the body streams in (a request over a limit is answered 413 before the rest of it is read). Uploads are
only ever bytes: no field names a file on the server."""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = "file"
OPTION_BYTES = 1024  # an option field (beam_size=3) is a few bytes


class FormError(Exception):
    """A request body that cannot be used; `status` is the HTTP status (400 or 413), str() the reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class Upload:
    name: str  # the file name the client gave (or "#3" for the fourth file when it gave none)
    data: bytes


@dataclass
class Form:
    uploads: list[Upload] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)
    name: str = ""
    filename: str | None = None


class _Collector:
    """python-multipart's callbacks: parts gathered one at a time, each checked as its bytes arrive."""

    def __init__(self, options: set[str], max_files: int, max_file_bytes: int):
        self.options, self.max_files, self.max_file_bytes = options, max_files, max_file_bytes
        self.form = Form()
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()

    def callbacks(self) -> dict:
        return {"on_part_begin": self.begin, "on_part_data": self.data, "on_part_end": self.end,
                "on_header_field": lambda d, s, e: self.header_field.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self.header_value.extend(d[s:e]),
                "on_header_end": self.header_end, "on_headers_finished": self.headers_finished}

    def begin(self) -> None:
        self.part = _Part()

    def header_end(self) -> None:
        self.part.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        kind, params = parse_options_header(self.part.headers.get(b"content-disposition"))
        if kind != b"form-data" or b"name" not in params:
            raise FormError(400, "a multipart part without a form-data name")
        self.part.name = params[b"name"].decode("utf-8", "replace")
        if b"filename" in params:
            self.part.filename = params[b"filename"].decode("utf-8", "replace")
        if self.part.name == FILE_FIELD:
            if len(self.form.uploads) >= self.max_files:
                raise FormError(413, f"more than {self.max_files} files in one request (the server's limit)")
        elif self.part.name not in self.options:
            raise FormError(400, f"unknown form field {self.part.name!r}: send each image in a field named "
                                 f"{FILE_FIELD!r}; options are {', '.join(sorted(self.options))}")

    def data(self, data: bytes, start: int, end: int) -> None:
        self.part.data.extend(data[start:end])
        if self.part.name == FILE_FIELD:
            if len(self.part.data) > self.max_file_bytes:
                raise FormError(413, f"file #{len(self.form.uploads) + 1} {self._label()}is over the "
                                     f"{_size(self.max_file_bytes)} limit per file")
        elif len(self.part.data) > OPTION_BYTES:
            raise FormError(400, f"form field {self.part.name!r} is over {OPTION_BYTES} bytes")

    def end(self) -> None:
        if self.part.name == FILE_FIELD:
            name = self.part.filename or f"#{len(self.form.uploads) + 1}"
            self.form.uploads.append(Upload(name, bytes(self.part.data)))
        else:
            self.form.options[self.part.name] = self.part.data.decode("utf-8", "replace").strip()

    def _label(self) -> str:
        return f"({self.part.filename!r}) " if self.part.filename else ""


async def read_form(request, options: set[str], max_files: int, max_file_bytes: int,
                    max_request_bytes: int) -> Form:
    """The request's files (fields named `file`) and option fields; FormError for anything else."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise FormError(400, f"send the images as multipart/form-data, each in a field named {FILE_FIELD!r}")
    collector = _Collector(options, max_files, max_file_bytes)
    parser = MultipartParser(params[b"boundary"], collector.callbacks())
    try:
        async for chunk in limited_body(request, max_request_bytes):
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise FormError(400, f"malformed multipart body ({exc})") from None
    return collector.form


async def limited_body(request, max_request_bytes: int):
    """The request body's chunks as they arrive; FormError 413 as soon as it is known to be over the limit (its
    declared length first, then the bytes received), before the rest is read."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_request_bytes:
        raise FormError(413, f"request body of {_size(int(declared))} is over the {_size(max_request_bytes)} limit")
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_request_bytes:
            raise FormError(413, f"request body is over the {_size(max_request_bytes)} limit")
        yield chunk


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MB" if count >= 1 << 20 else f"{count:,} bytes"
