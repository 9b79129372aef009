"""A loaded activity classifier: the most likely classes of clips given as paths or frames."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from captioner.api.encoding import check_inputs, encoded
from captioner.api.loaded_model import LoadedModel
from captioner.api.results import LabelResult
from captioner.evaluation.classification import Labeller


class ClassifierModel(LoadedModel):
    """A classifier bundle with its encoder, kept between calls (make it with `captioner.load`)."""

    def __init__(self, bundle, encoder_future, weights: str | None = None):
        super().__init__(bundle, encoder_future, weights)
        self._labellers: dict[int, Labeller] = {}

    @property
    def classes(self) -> list[str]:
        """The class names, in the order of the classifier's outputs."""
        return list(self.bundle.classes)

    def __repr__(self) -> str:
        return f"<ClassifierModel {self.directory!r}: {len(self.classes)} classes, {self.frames} frames per clip>"

    def labeller(self, top_k: int = 1) -> Labeller:
        if top_k not in self._labellers:
            self._labellers[top_k] = Labeller(self.bundle, top_k)
        return self._labellers[top_k]

    def classify(self, inputs: Iterable, top_k: int = 5, batch_size: int = 32) -> list[LabelResult]:
        """One `LabelResult` per clip, in order: `.label`, `.probability`, `.top` (the `top_k` most likely
        (label, probability), capped at the number of classes), or `.error` for a clip that cannot be read.

        Clips: paths of videos or animated GIF/WebP, sequences of frames (PIL images or uint8 (H, W, 3) arrays, or
        a uint8 array (T, H, W, 3)), or bytes of an animated GIF/WebP."""
        return list(self.classify_stream(inputs, top_k, batch_size))

    def classify_stream(self, inputs: Iterable, top_k: int = 5, batch_size: int = 32) -> Iterator[LabelResult]:
        """`classify`, yielding each result as soon as its chunk of up to 256 clips is done."""
        inputs = check_inputs(inputs)
        labeller = self.labeller(top_k)
        for chunk in encoded(inputs, self.encoder, self.frames, batch_size):
            good = [rows for _, rows, reason in chunk if reason is None]
            ranked = iter(labeller.top_of_rows(np.concatenate(good), [len(r) for r in good]) if good else [])
            for name, _, reason in chunk:
                yield LabelResult(name, error=reason) if reason is not None else LabelResult(name, next(ranked))

    def classify_files(self, paths: list[str], out: str, top_k: int = 1, cache: str | None = None,
                       batch_size: int = 32, show_progress: bool = False):
        """Every clip under `paths` (files and folders) exactly once into the JSONL file `out` (atomic), each
        unreadable one with its `"error"`; `cache` reads and adds features there. Returns the `FolderReport`.
        What `captioner classify --out F.jsonl` does."""
        from captioner.api.folders import classify_files

        return classify_files(self, list(paths), out, top_k, cache, batch_size, show_progress)
