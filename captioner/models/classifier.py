"""The activity classifier: the CNN-LSTM in its plainest form, TimeDistributed(CNN) -> LSTM -> Dense softmax.

The CNN is the frozen VGG16 whose frame vectors are already in the cache, so the model starts at the frame
vectors: (B, N, 4096) -> the same frame reader as the clip caption model (standardise, LayerNorm, Dropout,
TimeDistributed(Dense), LayerNorm, LSTM or masked mean) -> Dropout -> Dense over the classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from captioner.base.backend import import_keras
from captioner.models.frame_cnn import FrameCnn, check_cnn, cnn_from_json
from captioner.models.frame_reader import FRAME_ENCODERS, FrameReader

keras = import_keras()
ops = keras.ops


@dataclass(frozen=True)
class ClassifierConfig:
    classes: int
    frames: int  # every clip is read as this many frames (fewer ones zero-padded)
    feature_dim: int = 4096
    units: int = 256
    dropout: float = 0.3
    frame_encoder: str = "lstm"  # "lstm" over the frames, "mean" of the frames, or "cnn": own CNN + lstm
    cnn: FrameCnn | None = None  # frame_encoder "cnn": the CNN's sizes (default FrameCnn())

    def __post_init__(self):
        if self.frame_encoder not in FRAME_ENCODERS:
            raise ValueError(f"frame_encoder must be one of {FRAME_ENCODERS}, got {self.frame_encoder!r}")
        if self.classes < 2 or self.frames < 1:
            raise ValueError(f"a classifier needs at least 2 classes and 1 frame, got {self.classes} and {self.frames}")
        check_cnn(self)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "ClassifierConfig":
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown classifier settings {sorted(unknown)}")
        return cls(**{**data, "cnn": cnn_from_json(data.get("cnn"))})


class ActivityClassifier(FrameReader, keras.Model):
    def __init__(self, config: ClassifierConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.image_norm = keras.layers.LayerNormalization(name="image_norm")
        self.image_dropout = keras.layers.Dropout(config.dropout, name="image_dropout")
        self.build_frame_layers(config.feature_dim, config.units, config.frame_encoder, config.cnn)
        self.head_dropout = keras.layers.Dropout(config.dropout, name="head_dropout")
        self.head = keras.layers.Dense(config.classes, name="head")

    def call(self, features, training=False):
        """(B, N, D) frame vectors -> (B, classes) logits (softmax applied by the loss and by `probabilities`)."""
        clip = self.read_frames(ops.cast(features, "float32"), training)
        return self.head(self.head_dropout(clip, training=training))


def build_classifier(config: ClassifierConfig) -> ActivityClassifier:
    model = ActivityClassifier(config)
    model(ops.zeros((1, config.frames, config.feature_dim)))  # create the weights
    return model


def probabilities(model: ActivityClassifier, features, batch_size: int = 256):
    """(B, classes) softmax probabilities, in batches."""
    import numpy as np

    out = [np.asarray(ops.softmax(model(features[i:i + batch_size]), axis=-1))
           for i in range(0, len(features), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.config.classes), "float32")
