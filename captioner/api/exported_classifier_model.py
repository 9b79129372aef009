"""An activity classifier written by `captioner export` (.onnx, .tflite), loaded by `captioner.load` in place of a
classifier bundle: the same `classify`, `classify_stream` and `classify_files`, run by ONNX Runtime or LiteRT
without Keras or TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from captioner.api.classifier_model import ClassifierModel
from captioner.api.exported_caption_model import PixelPassThrough, Ready, refuse_feature_cache
from captioner.evaluation.classification import Labeller
from captioner.features.encoder_spec import EncoderSpec
from captioner.runtime.exported_model import ExportedModel


@dataclass(frozen=True)
class ExportedClassifierBundle:
    """What the classifier's users read of a model: here, of the exported file."""

    directory: str  # the exported file
    encoder: EncoderSpec
    classes: tuple[str, ...]
    frames: int
    feature_dtype: str
    training: dict = field(default_factory=dict)


class ExportedLabeller(Labeller):
    """A `Labeller` whose probabilities come from the exported file (frames in, the encoder inside it)."""

    def __init__(self, exported: ExportedModel, bundle: ExportedClassifierBundle, top_k: int = 1):
        super().__init__(bundle, top_k)
        self.exported = exported

    def top_of_rows(self, rows: np.ndarray, counts: list[int]) -> list[list[tuple[str, float]]]:
        return self.ranked(self.exported.probabilities(np.asarray(rows, dtype=np.uint8), counts))


class ExportedClassifierModel(ClassifierModel):
    """`captioner.load("classifier.onnx")`: a `ClassifierModel` whose encoder and classifier are the file's.
    Refuses `cache` in `classify_files` (it reads pixels, not features)."""

    def __init__(self, path):
        """`path`: the exported file, or its `ExportedModel` already opened."""
        self.exported = path if isinstance(path, ExportedModel) else ExportedModel(path)
        info = self.exported.info
        bundle = ExportedClassifierBundle(self.exported.path, info.encoder, info.classes, info.frames,
                                          info.feature_dtype)
        super().__init__(bundle, Ready(PixelPassThrough(info.input_size)), None)

    def __repr__(self) -> str:
        return (f"<ExportedClassifierModel {self.directory!r}: {len(self.classes)} classes, {self.frames} frames per "
                f"clip, {self.exported.runtime}>")

    @property
    def runtime(self) -> str:
        return self.exported.runtime

    def labeller(self, top_k: int = 1) -> ExportedLabeller:
        if top_k not in self._labellers:
            self._labellers[top_k] = ExportedLabeller(self.exported, self.bundle, top_k)
        return self._labellers[top_k]

    def classify_files(self, paths: list[str], out: str, top_k: int = 1, cache: str | None = None,
                       batch_size: int = 32, show_progress: bool = False):
        refuse_feature_cache(self.directory, cache)
        return super().classify_files(paths, out, top_k, None, batch_size, show_progress)
