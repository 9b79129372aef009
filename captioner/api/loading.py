"""`captioner.load`: a bundle directory -> a ready model, its encoder built alongside."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from captioner.features.encoder_spec import EncoderSpec
from captioner.features.features_for import encoder_for
from captioner.features.notices import note_if_random
from captioner.models.bundle_info import read_bundle_info
from captioner.runtime.sessions import is_exported

log = logging.getLogger(__name__)


def load(directory: str, weights: str | None = None, compile_search: bool = True, build_encoder: bool = True,
         expect: str | None = None, announce: bool = True):
    """Load a model bundle written by `captioner train`: a `CaptionModel` (image or clip captions) or a
    `ClassifierModel` (activity classes), whichever the bundle holds; or a file written by `captioner export`
    (.onnx, .tflite): an `ExportedCaptionModel`, run by ONNX Runtime or LiteRT without Keras or TensorFlow.

    The encoder is the one the model was trained on, rebuilt from the bundle's fingerprint; `weights` is only
    needed when that was a local weights file (it is checked against the fingerprint). `compile_search=False`
    runs searches eagerly (no compile, seconds sooner, slower per image: for a handful of images in a one-off
    process). `build_encoder=False` builds the encoder on first use instead of now (for callers that may
    find every feature in a cache). `expect` "caption" or "classifier" refuses the other kind (BundleError
    saying which command fits). Raises `BundleError` (a `CaptionerError`) for a missing, half-written or
    tampered bundle.
    A random encoder is named on stderr (`note: encoder uses RANDOM weights ...`) unless `announce=False`."""
    started = time.perf_counter()
    if is_exported(directory):  # a file from `captioner export`: run by ONNX Runtime or LiteRT, no Keras
        return _load_exported(directory, expect, announce)
    info = read_bundle_info(directory).expect(expect)  # the other kind: "... not a caption model; use `classify`"
    log.debug("%s: a %s model, encoder %s", directory, info.kind, info.encoder.describe())
    # The encoder's weights are numpy arrays until Keras builds it: it overlaps loading the decoder.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-encoder")
    try:
        spec = info.encoder
        encoder = pool.submit(encoder_for, spec, weights) if build_encoder else _Later(spec, weights)
        if info.is_classifier:
            from captioner.api.classifier_model import ClassifierModel
            from captioner.models.classifier_bundle import load_classifier_bundle

            bundle = load_classifier_bundle(info)
            model = ClassifierModel(bundle, encoder, weights)
        else:
            from captioner.api.caption_model import CaptionModel
            from captioner.models.bundle import load_bundle

            bundle = load_bundle(info)
            model = CaptionModel(bundle, encoder, weights, compile_search)
    finally:
        pool.shutdown(wait=False)
    log.debug("%s loaded in %.2f s (the encoder %s)", directory, time.perf_counter() - started,
              "built alongside" if build_encoder else "built on first use")
    if announce:
        note_if_random(bundle.encoder)
    return model


def _load_exported(path, expect: str | None, announce: bool):
    from captioner.models.bundle_info import WRONG_KIND, BundleError
    from captioner.runtime.exported_model import ExportedModel

    exported = ExportedModel(path)
    if expect is not None and expect != exported.info.kind:
        raise BundleError(f"{path}: {WRONG_KIND[expect]}")
    if exported.info.kind == "classifier":
        from captioner.api.exported_classifier_model import ExportedClassifierModel

        model = ExportedClassifierModel(exported)
    else:
        from captioner.api.exported_caption_model import ExportedCaptionModel

        model = ExportedCaptionModel(exported)
    if announce:
        note_if_random(model.encoder_spec)
    return model


class _Later:
    """A future-like encoder that is built when first asked for."""

    def __init__(self, spec: EncoderSpec, weights: str | None):
        self.spec, self.weights, self._encoder = spec, weights, None

    def result(self):
        if self._encoder is None:
            self._encoder = encoder_for(self.spec, self.weights)
        return self._encoder
