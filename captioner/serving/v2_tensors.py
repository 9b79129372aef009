"""The Open Inference Protocol v2's request and response bodies: a JSON object, and with the binary tensor data
extension (what `tritonclient` sends) the tensors' bytes after it (`Inference-Header-Content-Length` says where
the JSON ends). BYTES elements in binary are a 4-byte little-endian length and the bytes; in JSON, this server
reads a BYTES input's elements as base64 (encoded files are not text) and writes its text outputs as strings."""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass, field

import numpy as np

HEADER_LENGTH = "inference-header-content-length"


class TensorError(Exception):
    """A body that does not follow the protocol; str() is the reason (answered 400)."""


@dataclass
class InferRequest:
    id: str | None
    parameters: dict
    input_name: str
    elements: list[bytes]
    outputs: dict[str, bool] = field(default_factory=dict)  # requested output -> as binary; empty: all, as JSON
    binary_outputs: bool = False  # the request's parameters.binary_data_output


@dataclass
class OutputTensor:
    name: str
    datatype: str  # "BYTES" or "FP32"
    rows: list[list]  # (items, k) values: str for BYTES, float for FP32

    def shape(self) -> list[int]:
        return [len(self.rows), len(self.rows[0]) if self.rows else 0]


def parse_request(body: bytes, header_length: str | None, max_elements: int, max_element_bytes: int) -> InferRequest:
    """The request's one BYTES input (its elements: the uploaded files) and what it asks for."""
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise TensorError(f"Inference-Header-Content-Length {header_length!r} is not a length within the body")
        split = int(header_length)
    else:
        split = len(body)
    try:
        head = json.loads(body[:split])
    except (ValueError, UnicodeDecodeError) as exc:
        raise TensorError(f"the request is not JSON ({exc})") from None
    if not isinstance(head, dict):
        raise TensorError("the request must be a JSON object with 'inputs'")
    inputs = head.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise TensorError("'inputs' must hold exactly one tensor: the encoded files, datatype BYTES")
    tensor = inputs[0]
    if tensor.get("datatype") != "BYTES":
        raise TensorError(f"input {tensor.get('name')!r} must have datatype BYTES, not {tensor.get('datatype')!r}")
    shape = tensor.get("shape")
    if not (isinstance(shape, list) and shape and all(isinstance(d, int) and d >= 0 for d in shape)
            and all(d == 1 for d in shape[1:])):
        raise TensorError(f"input shape must be [N] (or [N, 1]): one element per file, not {shape!r}")
    count = shape[0]
    if not 1 <= count <= max_elements:
        raise TensorError(f"input shape [{count}]: send 1 to {max_elements} files per request")
    parameters = _dict(tensor.get("parameters"), "input parameters")
    if "binary_data_size" in parameters:
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or size < 0 or split + size > len(body):
            raise TensorError(f"binary_data_size {size!r} does not fit the body after the JSON")
        elements = _binary_elements(body[split:split + size], count)
    else:
        elements = _json_elements(tensor.get("data"), count)
    for i, element in enumerate(elements):
        if len(element) > max_element_bytes:
            raise TensorError(f"element {i} is over the {max_element_bytes:,} bytes limit per file")
    request_parameters = _dict(head.get("parameters"), "parameters")
    outputs = {}
    for output in head.get("outputs") or []:
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise TensorError("each of 'outputs' must be an object with a 'name'")
        outputs[output["name"]] = bool(_dict(output.get("parameters"), "output parameters").get("binary_data"))
    rid = head.get("id")
    return InferRequest(rid if isinstance(rid, str) else None, request_parameters, str(tensor.get("name")),
                        elements, outputs, bool(request_parameters.get("binary_data_output")))


def response_body(head: dict, outputs: list[OutputTensor], binary: dict[str, bool]) -> tuple[bytes, int | None]:
    """(body, JSON length when binary data follows it, else None). `binary`: output name -> send as binary."""
    parts, entries = [], []
    for output in outputs:
        entry = {"name": output.name, "datatype": output.datatype, "shape": output.shape()}
        if binary.get(output.name):
            data = _binary_output(output)
            entry["parameters"] = {"binary_data_size": len(data)}
            parts.append(data)
        else:
            entry["data"] = [value for row in output.rows for value in row]
        entries.append(entry)
    text = json.dumps({**head, "outputs": entries}).encode()
    if not parts:
        return text, None
    return text + b"".join(parts), len(text)


def _binary_output(output: OutputTensor) -> bytes:
    values = [value for row in output.rows for value in row]
    if output.datatype == "FP32":
        return np.asarray(values, "<f4").tobytes()
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def _binary_elements(data: bytes, count: int) -> list[bytes]:
    out, at = [], 0
    for i in range(count):
        if at + 4 > len(data):
            raise TensorError(f"the binary data ends before element {i}'s length")
        (length,) = struct.unpack_from("<I", data, at)
        at += 4
        if at + length > len(data):
            raise TensorError(f"element {i} says {length:,} bytes; the binary data ends sooner")
        out.append(data[at:at + length])
        at += length
    if at != len(data):
        raise TensorError(f"{len(data) - at:,} bytes after the {count} elements the shape declares")
    return out


def _json_elements(data, count: int) -> list[bytes]:
    if not isinstance(data, list) or len(data) != count or not all(isinstance(v, str) for v in data):
        raise TensorError(f"'data' must hold {count} base64 strings (or send binary data: binary_data_size)")
    try:
        return [base64.b64decode(v, validate=True) for v in data]
    except binascii.Error:
        raise TensorError("a 'data' element is not base64 (files sent as JSON are base64-encoded)") from None


def _dict(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TensorError(f"{what} must be an object")
    return value
