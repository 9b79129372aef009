"""The CNN a clip model trains itself (`--frame-encoder cnn`): LRCN's other form, learning from the LSTM's error.

Every layer is wrapped in its own `TimeDistributed`, as the Keras recipe writes it, so the model summary lists
them all: `blocks` x (Conv2D 3x3 relu, MaxPooling2D 2x2), Flatten, Dense relu. It reads (B, N, S, S, 3) frames,
standardised by the frame reader (minus the training frames' mean frame), and gives (B, N, dense) frame vectors
to the rest of the frame reader (LayerNorm, Dropout, TimeDistributed(Dense), LSTM), all trained together.
"""

from __future__ import annotations

from captioner.base.backend import import_keras
from captioner.models.model_configs import FrameCnn

keras = import_keras()


def frame_cnn(spec: FrameCnn) -> "keras.Sequential":
    """The layer stack, (B, N, S, S, 3) -> (B, N, dense); its weights are created on first call."""
    td = keras.layers.TimeDistributed
    layers = []
    for block in range(1, spec.blocks + 1):
        layers += [td(keras.layers.Conv2D(spec.filters, 3, padding="same", activation="relu"), name=f"frame_conv{block}"),
                   td(keras.layers.MaxPooling2D(2), name=f"frame_pool{block}")]
    layers += [td(keras.layers.Flatten(), name="frame_flatten"),
               td(keras.layers.Dense(spec.dense, activation="relu"), name="frame_dense")]
    return keras.Sequential(layers, name="frame_cnn")
