"""The classifier bundle: the caption bundle's rules (plain files, hashes in config.json written last, no code),
with the class names in place of the vocabulary and the class head in place of the caption decoder.

    config.json             format captioner.model, version 3, "classifier" (ClassifierConfig), encoder
                            fingerprint (or, with its own CNN, the pixel recipe), training summary, sha256 of the
                            two files below
    labels.json             {"format": "captioner.labels", "version": 1, "classes": [...]}
    classifier.weights.h5   the classifier's weights (Keras weights-only HDF5)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from captioner.base.atomic import atomic_path, write_json
from captioner.base.hashing import file_sha256
from captioner.features.encoder import with_defaults
from captioner.models.bundle import CONFIG, FORMAT, VERSION, BundleError, check_files, read_config

LABELS, WEIGHTS = "labels.json", "classifier.weights.h5"


@dataclass
class ClassifierBundle:
    directory: str
    model: object  # captioner.models.classifier.ActivityClassifier
    classes: list[str]
    config: object  # ClassifierConfig
    encoder: dict
    training: dict

    @property
    def frames(self) -> int:
        return self.config.frames

    @property
    def feature_dtype(self) -> str:
        return self.training.get("feature_dtype", "float32")


def save_classifier_bundle(directory: str, model, classes: list[str], encoder: dict, training: dict) -> None:
    from captioner.models.classifier import build_classifier

    os.makedirs(directory, exist_ok=True)
    config_path = os.path.join(directory, CONFIG)
    if os.path.exists(config_path):
        os.unlink(config_path)  # until the new config lands, the directory is "unfinished"
    write_json(os.path.join(directory, LABELS), {"format": "captioner.labels", "version": 1, "classes": classes})
    plain = build_classifier(model.config)  # the layer weights only, no optimizer state
    plain.set_weights(model.get_weights())
    with atomic_path(os.path.join(directory, WEIGHTS), suffix=".weights.h5") as tmp:
        plain.save_weights(tmp)
    write_json(config_path, {"format": FORMAT, "version": VERSION, "classifier": model.config.to_json(),
                             "encoder": encoder, "training": training,
                             "sha256": {n: file_sha256(os.path.join(directory, n)) for n in (LABELS, WEIGHTS)}})


def is_classifier(directory: str) -> bool:
    """True when the bundle in `directory` is a classifier (for commands that take either kind)."""
    return "classifier" in read_config(directory)


def load_classifier_bundle(directory: str) -> ClassifierBundle:
    from captioner.models.classifier import ClassifierConfig, build_classifier

    config = read_config(directory)
    if "classifier" not in config:
        raise BundleError(f"{directory}: a caption model, not an activity classifier; use `caption`, or "
                          "`evaluate --captions`")
    check_files(directory, config, (LABELS, WEIGHTS))
    try:
        with open(os.path.join(directory, LABELS), encoding="utf-8") as f:
            classes = json.load(f)["classes"]
        model_config = ClassifierConfig.from_json(config["classifier"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{directory}: {exc}") from None
    if not isinstance(classes, list) or len(classes) != model_config.classes:
        raise BundleError(f"{os.path.join(directory, LABELS)}: expected {model_config.classes} class names")
    model = build_classifier(model_config)
    try:
        model.load_weights(os.path.join(directory, WEIGHTS))
    except Exception as exc:  # h5py/Keras raise many types; the user needs the file and the reason
        raise BundleError(f"{os.path.join(directory, WEIGHTS)}: cannot load weights "
                          f"({str(exc).splitlines()[0][:200]})") from None
    return ClassifierBundle(directory, model, classes, model_config, with_defaults(config["encoder"]), config.get("training", {}))
