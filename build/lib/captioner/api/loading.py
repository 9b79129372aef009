"""`captioner.load`: a bundle directory -> a ready model, its encoder built alongside."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from captioner.features.encoder import with_defaults
from captioner.features.features_for import encoder_for
from captioner.features.notices import note_if_random
from captioner.models.bundle import read_config, read_encoder


def load(directory: str, weights: str | None = None, compile_search: bool = True, build_encoder: bool = True,
         expect: str | None = None, announce: bool = True):
    """Load a model bundle written by `captioner train`: a `CaptionModel` (image or clip captions) or a
    `ClassifierModel` (activity classes), whichever the bundle holds.

    The encoder is the one the model was trained on, rebuilt from the bundle's fingerprint; `weights` is only
    needed when that was a local weights file (it is checked against the fingerprint). `compile_search=False`
    runs searches eagerly (no compile, seconds sooner, slower per image: for a handful of images in a one-off
    process). `build_encoder=False` builds the encoder on first use instead of now (for callers that may
    find every feature in a cache). `expect` "caption" or "classifier" refuses the other kind (BundleError
    saying which command fits). Raises `BundleError` (a `CaptionerError`) for a missing, half-written or
    tampered bundle.
    A random encoder is named on stderr (`note: encoder uses RANDOM weights ...`) unless `announce=False`."""
    config = read_config(directory)
    classifier = "classifier" in config
    if expect == "caption" and classifier:
        read_encoder(directory)  # raises: "an activity classifier, not a caption model; use `classify`..."
    if expect == "classifier" and not classifier:
        from captioner.models.classifier_bundle import load_classifier_bundle

        load_classifier_bundle(directory)  # raises: "a caption model, not an activity classifier; ..."
    # The encoder's weights are numpy arrays until Keras builds it: it overlaps loading the decoder.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-encoder")
    try:
        fingerprint = with_defaults(config["encoder"]) if classifier else read_encoder(directory)
        encoder = pool.submit(encoder_for, fingerprint, weights) if build_encoder else _Later(fingerprint, weights)
        if classifier:
            from captioner.api.classifier_model import ClassifierModel
            from captioner.models.classifier_bundle import load_classifier_bundle

            bundle = load_classifier_bundle(directory)
            model = ClassifierModel(bundle, encoder, weights)
        else:
            from captioner.api.caption_model import CaptionModel
            from captioner.models.bundle import load_bundle

            bundle = load_bundle(directory)
            model = CaptionModel(bundle, encoder, weights, compile_search)
    finally:
        pool.shutdown(wait=False)
    if announce:
        note_if_random(bundle.encoder)
    return model


class _Later:
    """A future-like encoder that is built when first asked for."""

    def __init__(self, fingerprint: dict, weights: str | None):
        self.fingerprint, self.weights, self._encoder = fingerprint, weights, None

    def result(self):
        if self._encoder is None:
            self._encoder = encoder_for(self.fingerprint, self.weights)
        return self._encoder
