"""`captioner.export` / `captioner export`: a caption bundle, its encoder and its search as one exported file."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from captioner.base.errors import UsageError
from captioner.exporting.formats import FORMATS, check_out_path, describe, write_litert, write_onnx, write_saved_model
from captioner.runtime.export_info import CLASSIFIER, PRECISIONS, SEARCHES, ExportInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportReport:
    out: str
    info: ExportInfo
    size: str  # e.g. "12.3 MB"
    seconds: float

    def summary(self) -> str:
        what = (f"classes ({len(self.info.classes)})" if self.info.kind == CLASSIFIER else
                f"captions, {self.info.describe_search()} search inside")
        return f"{self.out}: {self.info.takes} -> {what}, {self.info.precision}, {self.size} ({self.seconds:.1f} s)"


def export(model: str, format: str, out: str, search: str = "beam", beam_size: int = 3, max_length: int | None = None,
           precision: str = "float32", weights: str | None = None) -> ExportReport:
    """Write the caption bundle `model` with its encoder and search (greedy, or beam of `beam_size`), or an
    activity classifier with its encoder, as one graph: `format` "onnx" (a .onnx file), "litert" (a .tflite
    file and its .tflite.json record) or "saved_model" (a folder). The graph takes (B, 224, 224, 3) uint8 RGB
    pixels (a clip model: (B, N, 224, 224, 3) frames and (B,) frame counts) and returns each input's beams'
    token ids and log-probabilities (a classifier: its class probabilities); the vocabulary (the classes) and
    the input recipe travel with it. `max_length` caps the words (default: the bundle's); `weights`
    as for `captioner.load`. Needs Keras' TensorFlow backend and tf2onnx for ONNX
    (`pip install 'captioner[export]'`)."""
    started = time.perf_counter()
    _check_request(format, out, search, beam_size, max_length, precision)
    from captioner.base.backend import import_keras

    backend = import_keras().config.backend()
    if backend != "tensorflow":
        raise UsageError(f"export traces the model with TensorFlow; run it with KERAS_BACKEND=tensorflow "
                         f"(not {backend})")
    from captioner.models.bundle_info import read_bundle_info

    bundle_info = read_bundle_info(model)
    if bundle_info.model_config.frame_encoder == "cnn" and bundle_info.model_config.frames:
        raise UsageError(f"{model}: a model with its own frame CNN (--frame-encoder cnn); export writes models on "
                         "VGG16 features (caption models of images or clips, activity classifiers)")
    if bundle_info.is_classifier:
        info, graph = _classifier_graph(bundle_info, weights, precision)
    else:
        info, graph = _caption_graph(bundle_info, weights, search, beam_size, max_length, precision)
    log.debug("%s: tracing done, writing %s", model, format)
    if format == "onnx":
        write_onnx(graph.fed, graph.weights(), info, out, precision == "float16")
    elif format == "litert":
        write_litert(graph.frozen(), info, out, precision == "float16")
    else:
        write_saved_model(graph.frozen(), info, out)
    return ExportReport(out, info, describe(out), time.perf_counter() - started)


def _caption_graph(bundle_info, weights, search: str, beam_size: int, max_length: int | None, precision: str):
    from captioner import __version__
    from captioner.exporting.graph import caption_function
    from captioner.models.bundle import load_bundle

    bundle = load_bundle(bundle_info)
    encoder = _encoder(bundle.encoder, weights)
    beam = 1 if search == "greedy" else beam_size
    length = max_length or bundle.config.max_length
    info = ExportInfo(search, beam, length, precision, bundle.frames, encoder.input_size,
                      tuple(bundle.vocab.tokens), bundle.encoder, bundle.feature_dtype, bundle.directory, __version__)
    return info, caption_function(encoder.model, bundle.decoder, beam, length, bundle.feature_dtype,
                                  encoder.input_size, bundle.frames)


def _classifier_graph(bundle_info, weights, precision: str):
    from captioner import __version__
    from captioner.exporting.graph import classifier_function
    from captioner.models.classifier_bundle import load_classifier_bundle

    bundle = load_classifier_bundle(bundle_info)
    encoder = _encoder(bundle.encoder, weights)
    info = ExportInfo("", 0, 0, precision, bundle.frames, encoder.input_size, (), bundle.encoder,
                      bundle.feature_dtype, bundle.directory, __version__, kind=CLASSIFIER,
                      classes=tuple(bundle.classes))
    return info, classifier_function(encoder.model, bundle.model, bundle.frames, bundle.feature_dtype,
                                     encoder.input_size)


def _encoder(spec, weights):
    from captioner.features.features_for import encoder_for
    from captioner.features.notices import note_if_random

    encoder = encoder_for(spec, weights)
    note_if_random(spec)
    return encoder


def _check_request(format: str, out: str, search: str, beam_size: int, max_length: int | None, precision: str) -> None:
    if format not in FORMATS:
        raise UsageError(f"format {format!r}: give one of {', '.join(FORMATS)}")
    if search not in SEARCHES:
        raise UsageError(f"search {search!r}: give greedy or beam")
    if precision not in PRECISIONS:
        raise UsageError(f"precision {precision!r}: give float32 or float16")
    if search == "beam" and beam_size < 2:
        raise UsageError(f"--beam-size {beam_size}: a beam search needs 2 or more; --search greedy is beam 1")
    if max_length is not None and max_length < 1:
        raise UsageError(f"--max-length {max_length}: give 1 or more words")
    if precision == "float16" and format == "saved_model":
        raise UsageError("--precision float16 is for onnx and litert (their weights stored in half the size); a "
                         "SavedModel export is float32")
    check_out_path(format, out)
