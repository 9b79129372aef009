"""The CNN a clip model trains itself (`--frame-encoder cnn`): LRCN's other form, learning from the LSTM's error.

Every layer is wrapped in its own `TimeDistributed`, as the Keras recipe writes it, so the model summary lists
them all: `blocks` x (Conv2D 3x3 relu, MaxPooling2D 2x2), Flatten, Dense relu. It reads (B, N, S, S, 3) frames,
standardised by the frame reader (minus the training frames' mean frame), and gives (B, N, dense) frame vectors
to the rest of the frame reader (LayerNorm, Dropout, TimeDistributed(Dense), LSTM), all trained together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from captioner.base.backend import import_keras

keras = import_keras()


@dataclass(frozen=True)
class FrameCnn:
    frame_size: int = 64  # frames are squashed to frame_size x frame_size RGB
    filters: int = 16  # Conv2D filters in each block
    blocks: int = 3  # Conv2D + MaxPooling2D blocks; each halves the side
    dense: int = 64  # the Dense after Flatten: the size of one frame's vector

    def __post_init__(self):
        if min(self.filters, self.blocks, self.dense) < 1 or self.frame_size >> self.blocks < 1:
            raise ValueError(f"a frame CNN needs filters, blocks and dense of at least 1 and a frame size of at least "
                             f"2^blocks, got {asdict(self)}")

    @property
    def input_dim(self) -> int:
        """The length of one frame's cached row: S*S*3 uint8 values."""
        return self.frame_size * self.frame_size * 3

    def to_json(self) -> dict:
        return asdict(self)


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


def cnn_from_json(data) -> FrameCnn | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) - set(FrameCnn.__dataclass_fields__):
        raise ValueError(f"unknown frame CNN settings {data!r}")
    return FrameCnn(**data)


def check_cnn(config) -> None:
    """A model config's `cnn` against its `frame_encoder` and `feature_dim`: the default CNN where "cnn" names
    none, and the pixel row length as the input size."""
    if config.frame_encoder != "cnn":
        if config.cnn is not None:
            raise ValueError(f"cnn settings are for frame_encoder cnn, not {config.frame_encoder!r}")
        return
    if config.cnn is None:
        object.__setattr__(config, "cnn", FrameCnn())  # a frozen dataclass settling its own default
    if config.feature_dim != config.cnn.input_dim:
        raise ValueError(f"a {config.cnn.frame_size}x{config.cnn.frame_size} frame CNN reads rows of "
                         f"{config.cnn.input_dim} pixel values, not {config.feature_dim}")
