"""What travels with an exported model: the vocabulary, the input recipe, the search settings, the encoder it
was trained on. Written as JSON into the ONNX file's metadata (key `captioner`), beside a LiteRT file
(`model.tflite.json`) and into a SavedModel folder (`captioner.json`); read back and checked before the model
is run. Standard library only (and the stdlib-only spec and error modules)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from captioner.base.errors import UsageError
from captioner.features.encoder_spec import EncoderSpec, SpecError, spec_from_json

FORMAT = "captioner-export"
VERSION = 1
METADATA_KEY = "captioner"  # the ONNX metadata_props key
SIDECAR_SUFFIX = ".json"  # model.tflite -> model.tflite.json
SAVED_MODEL_FILE = "captioner.json"  # inside a SavedModel folder
SEARCHES = ("greedy", "beam")
PRECISIONS = ("float32", "float16")
# The graph's input and outputs, by name in every format
PIXELS, FRAME_COUNTS = "pixels", "frame_counts"
TOKENS, LOG_PROBS, PROBABILITIES = "tokens", "log_probs", "probabilities"
CAPTION, CLASSIFIER = "caption", "classifier"
OUTPUTS = {CAPTION: (TOKENS, LOG_PROBS), CLASSIFIER: (PROBABILITIES,)}


class ExportError(UsageError):
    """An exported model that cannot be used; str() names the file and what is wrong."""


@dataclass(frozen=True)
class ExportInfo:
    """An exported model's record. The graph takes `pixels` uint8 RGB, each image squashed (bilinear) to
    `input_size` square: (B, S, S, 3) for an image model, (B, frames, S, S, 3) with `frame_counts` (B,) int32
    (the real frames of each clip, the rest zeros) for a clip model. A caption model returns `tokens`
    (B, K, max_length + 2) int32 (`<start>` words `<end>` `<pad>`..., K = 1 for greedy, beam_size for beam, best
    first) and `log_probs` (B, K) float32; an activity classifier (`kind` "classifier": no search, no
    vocabulary) returns `probabilities` (B, classes) float32."""

    search: str  # "greedy" or "beam"
    beam_size: int  # 1 for greedy
    max_length: int  # words at most
    precision: str  # "float32" or "float16"
    frames: int  # 0: images; N: clips read as N frames
    input_size: int  # S
    vocabulary: tuple[str, ...]  # tokens in id order
    encoder: EncoderSpec  # the encoder the decoder was trained on (inside the graph)
    feature_dtype: str  # the training cache's dtype: fresh features are rounded to it inside the graph
    source: str  # the bundle it was exported from
    captioner_version: str
    kind: str = CAPTION  # or CLASSIFIER
    classes: tuple[str, ...] = ()  # a classifier's class names, in the order of its outputs

    @property
    def takes(self) -> str:
        return f"clips of {self.frames} frames" if self.frames else "images"

    @property
    def outputs(self) -> tuple[str, ...]:
        return OUTPUTS[self.kind]

    def describe_search(self) -> str:
        if self.kind == CLASSIFIER:
            return f"{len(self.classes)} classes"
        return "greedy" if self.search == "greedy" else f"beam {self.beam_size}"

    def to_json(self) -> dict:
        head = {"format": FORMAT, "version": VERSION, "kind": self.kind}
        if self.kind == CAPTION:
            head.update(search=self.search, beam_size=self.beam_size, max_length=self.max_length)
        body = {"precision": self.precision, "frames": self.frames,
                "input": {"name": PIXELS, "dtype": "uint8", "colour": "RGB", "size": self.input_size,
                          "resize": "squash-bilinear"},
                "outputs": list(self.outputs)}
        body.update({"vocabulary": list(self.vocabulary)} if self.kind == CAPTION else {"classes": list(self.classes)})
        return {**head, **body, "encoder": self.encoder.to_json(), "feature_dtype": self.feature_dtype,
                "source": self.source, "captioner_version": self.captioner_version}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)


def info_from_text(text: str | None, where: str) -> ExportInfo:
    """The record of an exported model from its JSON text; `where` (the file, and where in it) names it in
    every error."""
    if text is None:
        raise ExportError(f"{where}: no captioner metadata; export the model with `captioner export`")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExportError(f"{where}: captioner metadata is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExportError(f"{where}: not a captioner export (format {_got(data, 'format')})")
    if data.get("version") != VERSION:
        raise ExportError(f"{where}: export format version {_got(data, 'version')}; this captioner reads version "
                          f"{VERSION}: export the model again with this captioner")
    kind = data.get("kind")
    if kind not in OUTPUTS:
        raise ExportError(f"{where}: an exported {_got(data, 'kind')} model; caption models and classifiers are run")
    try:
        common = dict(precision=str(data["precision"]), frames=int(data["frames"]),
                      input_size=int(data["input"]["size"]), encoder=spec_from_json(data["encoder"]),
                      feature_dtype=str(data["feature_dtype"]), source=str(data.get("source", "")),
                      captioner_version=str(data.get("captioner_version", "")), kind=kind)
        if kind == CLASSIFIER:
            info = ExportInfo("", 0, 0, vocabulary=(), classes=tuple(str(c) for c in data["classes"]), **common)
        else:
            info = ExportInfo(str(data["search"]), int(data["beam_size"]), int(data["max_length"]),
                              vocabulary=tuple(str(t) for t in data["vocabulary"]), **common)
    except (KeyError, TypeError, ValueError, SpecError) as exc:
        raise ExportError(f"{where}: captioner metadata is incomplete ({type(exc).__name__}: {exc})") from None
    if kind == CLASSIFIER:
        if info.precision not in PRECISIONS or not info.classes or not info.frames:
            raise ExportError(f"{where}: captioner metadata of a classifier without classes or frames")
        return info
    if info.search not in SEARCHES or info.precision not in PRECISIONS or info.beam_size < 1 \
            or (info.search == "greedy") != (info.beam_size == 1):
        raise ExportError(f"{where}: captioner metadata has an unknown search or precision "
                          f"({info.search} {info.beam_size}, {info.precision})")
    return info


def _got(data, key: str) -> str:
    return repr(data.get(key)) if isinstance(data, dict) else f"of a JSON {type(data).__name__}"
