"""A model bundle's config.json, read once into a `BundleInfo`: what kind of model the bundle holds, its model
settings, the encoder it was trained on, its training summary and the hashes of its other files.

`captioner.load`, the two bundle loaders and the server's model facts all start from it, so a bundle's config is
parsed once per load, and a bundle of the wrong kind is refused from its info, before anything is built.
No Keras here: a Ray ingress reads the facts of the model it routes to without it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from captioner.base.errors import UsageError
from captioner.base.jsonfile import read_versioned
from captioner.features.encoder_spec import EncoderSpec, SpecError, spec_from_json
from captioner.models.model_configs import ClassifierConfig, DecoderConfig

FORMAT = "captioner.model"
# 2 added clip models (decoder "frames", "frame_encoder"); 3 models with their own CNN ("cnn", an "encoder" that
# is a pixel recipe). Older bundles still load: what they lack has its old meaning by default.
VERSION = 3
OLDER_VERSIONS = (1, 2)
CONFIG = "config.json"
CAPTION, CLASSIFIER = "caption", "classifier"
# The files beside config.json, by kind: config.json holds their sha256.
FILES = {CAPTION: ("vocab.json", "decoder.weights.h5"), CLASSIFIER: ("labels.json", "classifier.weights.h5")}
# What to use instead, when a command is given the other kind of bundle.
WRONG_KIND = {
    CAPTION: "an activity classifier, not a caption model; use `classify`, or `evaluate --labels`",
    CLASSIFIER: "a caption model, not an activity classifier; use `caption`, or `evaluate --captions`",
}


class BundleError(UsageError):
    """A model bundle that cannot be used; the message names the directory or file."""


@dataclass(frozen=True)
class BundleInfo:
    directory: str
    kind: str  # CAPTION or CLASSIFIER
    version: int
    model_config: DecoderConfig | ClassifierConfig  # the "decoder" or "classifier" section
    encoder: EncoderSpec  # what the model's inputs came from
    training: dict  # the training summary
    sha256: dict  # file name -> hash, for FILES[kind]

    @property
    def is_classifier(self) -> bool:
        return self.kind == CLASSIFIER

    @property
    def files(self) -> tuple[str, str]:
        return FILES[self.kind]

    @property
    def frames(self) -> int:
        """0 for an image model; N for a clip model (each clip read as N frames)."""
        return self.model_config.frames

    def path(self, name: str) -> str:
        return os.path.join(self.directory, name)

    def expect(self, kind: str | None) -> BundleInfo:
        """This info, or a BundleError saying which command fits when the bundle holds the other kind."""
        if kind is not None and kind != self.kind:
            raise BundleError(f"{self.directory}: {WRONG_KIND[kind]}")
        return self


def read_bundle_info(directory: str) -> BundleInfo:
    """config.json of the bundle in `directory`, checked and typed; a BundleError names what is wrong."""
    path = os.path.join(directory, CONFIG)
    if not os.path.isdir(directory):
        raise BundleError(f"{directory}: no such model directory")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(directory, "cache.json")):
            raise BundleError(f"{directory}: a feature cache, not a model bundle (it holds cache.json): give it as "
                              "--cache, and the folder train wrote as --model")
        hint = " (training unfinished? run train again with --resume)" if os.path.isdir(
            os.path.join(directory, "checkpoints")) else ""
        raise BundleError(f"{directory}: not a model bundle: no {CONFIG}{hint}")
    config = read_versioned(path, FORMAT, VERSION, BundleError, "model config", OLDER_VERSIONS)
    kind = CLASSIFIER if "classifier" in config else CAPTION
    section = "classifier" if kind == CLASSIFIER else "decoder"
    for key in (section, "encoder", "sha256"):
        if not isinstance(config.get(key), dict):
            raise BundleError(f"{path}: missing {key!r}")
    try:
        encoder = spec_from_json(config["encoder"])
    except SpecError as exc:
        raise BundleError(f"{path}: {exc}") from None
    try:
        model_config = (ClassifierConfig if kind == CLASSIFIER else DecoderConfig).from_json(config[section])
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{directory}: {exc}") from None
    training = config.get("training", {})
    return BundleInfo(directory, kind, int(config["version"]), model_config, encoder,
                      training if isinstance(training, dict) else {}, config["sha256"])


def bundle_config(model_config: DecoderConfig | ClassifierConfig, encoder: EncoderSpec, training: dict,
                  sha256: dict) -> dict:
    """config.json's contents for a new bundle (the inverse of `read_bundle_info`)."""
    section = "classifier" if isinstance(model_config, ClassifierConfig) else "decoder"
    return {"format": FORMAT, "version": VERSION, section: model_config.to_json(), "encoder": encoder.to_json(),
            "training": training, "sha256": sha256}
