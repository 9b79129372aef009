"""Reading a clip's (N, D) frame vectors into one (U,) vector: shared by the caption decoder and the activity
classifier (the CNN-LSTM's sequence half), so both read frames the same way.

Frames share most of their fc2 vector (whatever every clip shows: the background, the framing). Unless that
common part is taken out first, a clip model settles on ignoring its input (it was stuck at the loss of knowing
nothing). So frames are standardised with the training frames' per-dimension mean and spread
(`set_frame_statistics`), stored with the weights; then LayerNorm, Dropout, TimeDistributed(Dense), LayerNorm,
and an LSTM over the frames (zero frames, i.e. short clips' padding, masked) or their masked mean.

With `frame_encoder="cnn"` the rows are frames as pixels (S*S*3 uint8 values, `features.pixels`): standardised
the same way (the mean frame taken out: a CNN trained on raw drawn frames settled on ignoring them, as the models
on raw fc2 vectors did), then the model's own CNN (`frame_cnn`) makes each frame's vector; then the same
LayerNorm, Dropout, TimeDistributed(Dense), LayerNorm and LSTM, trained together with the CNN. An all-black
frame reads as padding there (it carries nothing a CNN could see).
"""

from __future__ import annotations

import numpy as np

from captioner.base.backend import import_keras

keras = import_keras()
ops = keras.ops



class FrameReader:
    """A mixin for a keras.Model with `image_norm` and `image_dropout` layers (the layer names are the weights'
    names in saved bundles, so they stay as they are)."""

    def __init__(self, config, **kwargs):
        """Keeps `config` (a DecoderConfig or ClassifierConfig) and makes `image_norm` and `image_dropout`, the
        first layers an input vector (or each frame's) meets: LayerNorm makes ImageNet and random-encoder
        features equally easy to use."""
        super().__init__(**kwargs)
        self.config = config
        self.image_norm = keras.layers.LayerNormalization(name="image_norm")
        self.image_dropout = keras.layers.Dropout(config.dropout, name="image_dropout")

    def build_frame_layers(self, feature_dim: int, units: int, frame_encoder: str, cnn=None) -> None:
        self.frame_encoder_kind = frame_encoder
        self._build_standardisation(feature_dim)
        if frame_encoder == "cnn":
            from captioner.models.frame_cnn import frame_cnn

            self.frame_size = cnn.frame_size
            self.frame_cnn = frame_cnn(cnn)
        self.frame_proj = keras.layers.TimeDistributed(keras.layers.Dense(units), name="frame_proj")
        self.frame_norm = keras.layers.LayerNormalization(name="frame_norm")  # keeps the LSTM's gates unsaturated
        if frame_encoder in ("lstm", "cnn"):
            self.frame_lstm = keras.layers.LSTM(units, unroll=True, name="frame_lstm")

    def _build_standardisation(self, feature_dim: int) -> None:
        self.frame_mean = self.add_weight(shape=(feature_dim,), initializer="zeros", trainable=False,
                                          name="frame_mean")
        self.frame_scale = self.add_weight(shape=(feature_dim,), initializer="ones", trainable=False,
                                           name="frame_scale")

    def read_frames(self, features, training=False):
        """(B, N, D) frame vectors, zero rows for missing frames -> (B, U)."""
        mask = ops.any(ops.not_equal(features, 0.0), axis=-1)  # (B, N): padding frames are all zero
        x = (features - self.frame_mean) / self.frame_scale
        x = ops.where(mask[:, :, None], x, 0.0)
        if self.frame_encoder_kind == "cnn":
            shape = ops.shape(x)
            x = self.frame_cnn(ops.reshape(x, (shape[0], shape[1], self.frame_size, self.frame_size, 3)),
                               training=training)  # (B, N, dense)
        x = self.image_dropout(self.image_norm(x), training=training)  # (B, N, D)
        x = self.frame_norm(self.frame_proj(x))  # (B, N, U)
        if self.frame_encoder_kind != "mean":
            return self.frame_lstm(x, mask=mask, training=training)  # (B, U): state after the last real frame
        weights = ops.cast(mask, "float32")[:, :, None]
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)  # (B, U)

    @property
    def statistics_sample(self) -> int:
        """How many training frames `set_frame_statistics` wants: fewer pixel rows (12,288 values each)."""
        return 2_000 if self.frame_encoder_kind == "cnn" else 20_000

    def set_frame_statistics(self, frames) -> None:
        """Standardise clip frames with these (n, D) training frame vectors (a sample is enough). Pixels for the
        model's own CNN: minus the mean frame, over the spread of all values (a pixel that hardly ever changes
        must not be blown up), so the CNN sees what differs from the usual background."""
        frames = np.asarray(frames, dtype=np.float64)
        self.frame_mean.assign(frames.mean(axis=0).astype("float32"))
        spread = np.full(frames.shape[1], frames.std()) if self.frame_encoder_kind == "cnn" else frames.std(axis=0)
        self.frame_scale.assign((spread + 1e-3).astype("float32"))
