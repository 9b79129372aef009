"""An exported file opened with its runtime: ONNX Runtime for `.onnx`, LiteRT for `.tflite`. Each gives the
model's record (`ExportInfo`) and `run(pixels[, counts])` -> its outputs; neither imports Keras or TensorFlow."""

from __future__ import annotations

import logging
import os

import numpy as np

from captioner.base.errors import UsageError
from captioner.base.hashing import file_sha256
from captioner.runtime.export_info import (FRAME_COUNTS, METADATA_KEY, PIXELS, SIDECAR_SUFFIX, ExportError,
                                           ExportInfo, info_from_text)

log = logging.getLogger(__name__)

RUNTIMES = {".onnx": "onnx", ".tflite": "litert"}


def is_exported(path: str) -> bool:
    """Whether `path` names an exported model file (by its extension) rather than a bundle directory."""
    return os.path.splitext(str(path))[1].lower() in RUNTIMES and not os.path.isdir(path)


def open_exported(path: str):
    """The session for `path`: `OnnxSession` or `LiteRtSession` by its extension."""
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such file")
    runtime = RUNTIMES.get(os.path.splitext(path)[1].lower())
    if runtime == "onnx":
        return OnnxSession(path)
    if runtime == "litert":
        return LiteRtSession(path)
    raise ExportError(f"{path}: not an exported model (.onnx or .tflite)")


class OnnxSession:
    """An exported `.onnx` file under ONNX Runtime (CPU, or CUDA where the onnxruntime-gpu wheel finds one)."""

    runtime = "onnx"

    def __init__(self, path: str, providers: list[str] | None = None):
        try:
            import onnxruntime
        except ImportError:
            raise UsageError(f"{path}: running an ONNX model needs ONNX Runtime: pip install "
                             "'captioner[onnx]'") from None
        self.path = path
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its notes on graph rewrites are not the user's concern
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=providers or _providers(onnxruntime))
        except Exception as exc:  # onnxruntime raises its own types for unreadable and invalid files
            raise ExportError(f"{path}: not a model ONNX Runtime can load ({_first_line(exc)})") from None
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.info: ExportInfo = info_from_text(metadata.get(METADATA_KEY), f"{path} (metadata '{METADATA_KEY}')")
        log.debug("%s: ONNX Runtime on %s", path, ", ".join(self.session.get_providers()))

    def run(self, pixels: np.ndarray, counts: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """The record's outputs, in its order (tokens, log_probs; or probabilities)."""
        return tuple(self.session.run(list(self.info.outputs), _feed(pixels, counts)))


def _feed(pixels: np.ndarray, counts: np.ndarray | None) -> dict:
    """The graph's inputs: the pixels, and a clip model's frame counts."""
    feed = {PIXELS: np.ascontiguousarray(pixels, dtype=np.uint8)}
    if counts is not None:
        feed[FRAME_COUNTS] = np.ascontiguousarray(counts, dtype=np.int32)
    return feed


def _providers(onnxruntime) -> list[str]:
    available = onnxruntime.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]


class LiteRtSession:
    """An exported `.tflite` file under LiteRT's interpreter; its record is the sidecar `FILE.tflite.json`, which
    holds the file's sha256 (a sidecar of another file is refused)."""

    runtime = "litert"

    def __init__(self, path: str):
        sidecar = path + SIDECAR_SUFFIX
        try:
            with open(sidecar, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise ExportError(f"{sidecar}: missing; a LiteRT export is the .tflite file and this JSON file beside "
                              "it (`captioner export` writes both)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"{sidecar}: cannot read ({_first_line(exc)})") from None
        self.info = info_from_text(text, sidecar)
        recorded = _sidecar_hash(text)
        if recorded != file_sha256(path):
            raise ExportError(f"{sidecar}: describes another file (its sha256 does not match {path}); export again")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise UsageError(f"{path}: running a LiteRT model needs LiteRT: pip install 'captioner[litert]'") from None
        self.path = path
        try:
            interpreter = Interpreter(model_path=path, num_threads=os.cpu_count())
            self.runner = interpreter.get_signature_runner("serving_default")
        except Exception as exc:  # the interpreter raises ValueError or RuntimeError for a bad file
            raise ExportError(f"{path}: not a model LiteRT can load ({_first_line(exc)})") from None

    def run(self, pixels: np.ndarray, counts: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """The record's outputs, in its order (tokens, log_probs; or probabilities)."""
        out = self.runner(**_feed(pixels, counts))
        return tuple(out[name] for name in self.info.outputs)


def _sidecar_hash(text: str) -> str | None:
    import json

    return json.loads(text).get("model_sha256")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
