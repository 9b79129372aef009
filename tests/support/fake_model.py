"""A stand-in for a loaded model, for the serving tests that are about the server and not the model: it has a
`CaptionModel`'s (or `ClassifierModel`'s) shape — bundle facts, an encoder of 32-pixel inputs, a captioner or a
labeller — and answers at once, each caption saying how many frames its item had."""

from __future__ import annotations

import time
import numpy as np

from captioner.features.encoder_spec import EncoderSpec, InputRecipe
from captioner.search.caption import Caption

SIZE = 32


class _Bundle:
    def __init__(self, encoder: EncoderSpec, classes: list | None):
        self.encoder, self.vocab = encoder, [f"w{i}" for i in range(10)]
        if classes is not None:  # a classifier's bundle has classes; a caption model's has none
            self.classes = classes


class _Encoder:
    input_size = SIZE

    def __init__(self, seconds: float):
        self.seconds = seconds

    def encode(self, rows: np.ndarray) -> np.ndarray:
        time.sleep(self.seconds)
        return rows.reshape(len(rows), -1)[:, :8].astype(np.float32)


class _Search:
    def __init__(self, num: int):
        self.num = num

    def of_rows(self, rows, counts):
        return [[Caption(f"{c} frames {k}", -float(c + k)) for k in range(self.num)] for c in counts]


class _Labels:
    def __init__(self, classes: list, k: int):
        self.classes, self.k = classes, k

    def top_of_rows(self, rows, counts):
        return [[(label, 1 / (i + 2)) for i, label in enumerate(self.classes[:self.k])] for _ in counts]


class FakeModel:
    """frames 0: an image model; N: clips of N frames. `classes`: an activity classifier. `encode_seconds`: each
    encoder call's time."""

    def __init__(self, frames: int = 0, classes: list | None = None, encode_seconds: float = 0.0,
                 directory: str = "models/fake-model"):
        spec = EncoderSpec("VGG16-tiny", "fc2", 8, "random", "seed=0 glorot", InputRecipe(SIZE, "bilinear", "RGB"))
        self.bundle = _Bundle(spec, classes)
        self.directory, self.frames, self.training = directory, frames, {"epochs": 1}
        self.encoder = _Encoder(encode_seconds)
        self.classes = classes
        if classes is not None:
            self.labeller = lambda k: _Labels(classes, k)

    def captioner(self, beam: int, num: int, penalty: float):
        return _Search(num)
