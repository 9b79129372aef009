"""What the OpenAPI schema (/openapi.json, /docs) says beyond FastAPI's own reading of the routes: the multipart
bodies (the app parses them as they stream, so FastAPI does not see them), the search options, the inference
protocol's JSON body, and every error answer with its status and shape ({"error": reason})."""

from __future__ import annotations

from captioner.serving.uploads import FILE_FIELD

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
WHY = {400: "a malformed request or an option out of range", 401: "missing or wrong API key",
       404: "no such model, or the other kind of model (captions, labels)",
       413: "over a size limit (file, request, files per request, the queue)",
       422: "no file could be read (each file's reason is in its result)",
       499: "the client closed the connection before its answer", 500: "the model failed",
       503: "busy (the queue is full) or not ready yet; retry after Retry-After",
       504: "not answered within --timeout-s"}


def errors(*statuses: int) -> dict:
    """FastAPI's `responses` for these error statuses, each {"error": reason}."""
    return {status: {"description": WHY[status], "content": {"application/json": {"schema": ERROR}}}
            for status in statuses}


def upload_body(options: dict[str, dict]) -> dict:
    """The multipart body: one or more files in fields named `file`, and the search options as fields (they may
    also come in the query string, where the form's win)."""
    properties = {FILE_FIELD: {"type": "array", "minItems": 1,
                               "items": {"type": "string", "format": "binary"},
                               "description": "the images (clips, for a clip model): one field per file"}}
    properties.update(options)
    return {"parameters": [{"name": name, "in": "query", "required": False, "schema": schema}
                           for name, schema in options.items()],
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": {"type": "object", "required": [FILE_FIELD], "properties": properties,
                           "additionalProperties": False},
                "encoding": {FILE_FIELD: {"contentType": "application/octet-stream"}}}}}}


def v2_infer_body(input_name: str, max_files: int, outputs: list[str]) -> dict:
    """The inference request in its JSON form (BYTES elements base64-encoded). With the binary tensor data
    extension (tritonclient's default) the same JSON comes first and the files' bytes after it, the JSON's
    length in the Inference-Header-Content-Length header."""
    tensor = {"type": "object", "required": ["name", "datatype", "shape", "data"], "additionalProperties": False,
              "properties": {"name": {"type": "string", "enum": [input_name]},
                             "datatype": {"type": "string", "enum": ["BYTES"]},
                             "shape": {"type": "array", "minItems": 1, "maxItems": 1,
                                       "items": {"type": "integer", "minimum": 1, "maximum": max_files},
                                       "description": "[N]: one element per file"},
                             "data": {"type": "array", "minItems": 1, "maxItems": max_files,
                                      "items": {"type": "string", "format": "byte"},
                                      "description": "the N files, each base64-encoded"},
                             "parameters": {"type": "object"}}}
    output = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "enum": outputs},
        "parameters": {"type": "object", "properties": {"binary_data": {"type": "boolean"}}}}}
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["inputs"], "properties": {
            "id": {"type": "string"}, "parameters": {"type": "object", "description": "the search options"},
            "inputs": {"type": "array", "minItems": 1, "maxItems": 1, "items": tensor},
            "outputs": {"type": "array", "items": output}}}}}}}
