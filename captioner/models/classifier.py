"""The activity classifier: the CNN-LSTM in its plainest form, TimeDistributed(CNN) -> LSTM -> Dense softmax.

The CNN is the frozen VGG16 whose frame vectors are already in the cache, so the model starts at the frame
vectors: (B, N, 4096) -> the same frame reader as the clip caption model (standardise, LayerNorm, Dropout,
TimeDistributed(Dense), LayerNorm, LSTM or masked mean) -> Dropout -> Dense over the classes.
"""

from __future__ import annotations


from captioner.base.backend import import_keras
from captioner.models.frame_reader import FrameReader
from captioner.models.model_configs import ClassifierConfig

keras = import_keras()
ops = keras.ops


class ActivityClassifier(FrameReader, keras.Model):
    def __init__(self, config: ClassifierConfig, **kwargs):
        super().__init__(config, **kwargs)
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
