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
from captioner.features.encoder_spec import EncoderSpec
from captioner.models.bundle import check_files
from captioner.models.bundle_info import (CLASSIFIER, CONFIG, FILES, BundleError, BundleInfo, bundle_config,
                                          read_bundle_info)

LABELS, WEIGHTS = FILES[CLASSIFIER]


@dataclass
class ClassifierBundle:
    directory: str
    model: object  # captioner.models.classifier.ActivityClassifier
    classes: list[str]
    config: object  # ClassifierConfig
    encoder: EncoderSpec
    training: dict

    @property
    def frames(self) -> int:
        return self.config.frames

    @property
    def feature_dtype(self) -> str:
        return self.training.get("feature_dtype", "float32")


def save_classifier_bundle(directory: str, model, classes: list[str], encoder: EncoderSpec, training: dict) -> None:
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
    write_json(config_path, bundle_config(model.config, encoder, training,
                                          {n: file_sha256(os.path.join(directory, n)) for n in (LABELS, WEIGHTS)}))


def read_classes(info: BundleInfo) -> list[str]:
    """The class names in labels.json, as many as the classifier's config says."""
    path = info.path(LABELS)
    try:
        with open(path, encoding="utf-8") as f:
            classes = json.load(f)["classes"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{path}: {exc}") from None
    if not isinstance(classes, list) or len(classes) != info.model_config.classes:
        raise BundleError(f"{path}: expected {info.model_config.classes} class names")
    return classes


def load_classifier_bundle(directory: str | BundleInfo) -> ClassifierBundle:
    from captioner.models.classifier import build_classifier

    info = (directory if isinstance(directory, BundleInfo) else read_bundle_info(directory)).expect(CLASSIFIER)
    check_files(info)
    model_config = info.model_config
    classes = read_classes(info)
    model = build_classifier(model_config)
    try:
        model.load_weights(info.path(WEIGHTS))
    except Exception as exc:  # h5py/Keras raise many types; the user needs the file and the reason
        raise BundleError(f"{info.path(WEIGHTS)}: cannot load weights "
                          f"({str(exc).splitlines()[0][:200]})") from None
    return ClassifierBundle(info.directory, model, classes, model_config, info.encoder, info.training)
