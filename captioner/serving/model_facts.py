"""What the app needs to know about the model it serves, read from a loaded model or — for a Ray ingress that
holds no model — from the bundle's files alone (no Keras)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from captioner.features.encoder_spec import EncoderSpec
from captioner.models.bundle_info import read_bundle_info
from captioner.models.classifier_bundle import read_classes
from captioner.serving.request_options import caption_key, label_key


@dataclass(frozen=True)
class ModelFacts:
    directory: str
    kind: str  # "captions" or "labels"
    frames: int  # 0: images; N: clips read as N frames
    encoder: EncoderSpec  # what the model was trained on
    classes: list | None  # an activity classifier's classes
    vocabulary: int | None  # a caption model's vocabulary size
    training: dict  # the training summary's plain values
    fixed_beam: int | None = None  # an exported model: the beam size of the search inside it (1: greedy)
    exported: bool = False  # a file from `captioner export`: nothing to compile, so no shapes to warm

    @property
    def input_size(self) -> int:
        return self.encoder.input_size

    @property
    def random_encoder(self) -> bool:
        return self.encoder.is_random

    @property
    def note(self) -> str | None:
        """What every answer says when the encoder has random weights."""
        return f"encoder uses {self.encoder.describe()}" if self.random_encoder else None

    def key(self, options: dict, max_beam: int):
        """A request's options -> the model call's key: top_k for labels, (beam_size, num_captions,
        length_penalty) for captions (OptionError for a bad value)."""
        if self.kind == "labels":
            return label_key(options, len(self.classes))
        return caption_key(options, max_beam, self.fixed_beam)

    def default_key(self, max_beam: int):
        return self.key({}, max_beam)


# Where the model was trained from: the server shows the files' names, never the paths of the machine it ran on
PATHS = ("captions", "init", "labels", "images")


def _plain(training: dict) -> dict:
    plain = {k: v for k, v in training.items() if isinstance(v, (str, int, float, bool))}
    return {k: os.path.basename(v.rstrip("/\\")) if k in PATHS and isinstance(v, str) else v
            for k, v in plain.items()}


def facts_of_model(model) -> ModelFacts:
    """From a `CaptionModel` or `ClassifierModel` (`captioner.load`), or an exported model."""
    bundle = model.bundle
    classes = list(bundle.classes) if hasattr(bundle, "classes") else None
    return ModelFacts(model.directory, "labels" if classes is not None else "captions", model.frames,
                      bundle.encoder, classes, None if classes is not None else len(bundle.vocab),
                      _plain(model.training), getattr(bundle, "fixed_beam", None), hasattr(model, "exported"))


def facts_of_bundle(directory: str) -> ModelFacts:
    """From the bundle's config.json (and labels.json for a classifier); the bundle is checked in full where the
    model is loaded."""
    info = read_bundle_info(directory)
    training = _plain(info.training)
    if info.is_classifier:
        return ModelFacts(directory, "labels", info.frames, info.encoder, read_classes(info), None, training)
    return ModelFacts(directory, "captions", info.frames, info.encoder, None, info.model_config.vocab_size,
                      training)
