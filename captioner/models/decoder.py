"""The LSTM caption decoder, conditioned on one cached image vector or on a clip's frame vectors.

Two classic designs, chosen by `DecoderConfig.design`:
- "inject" (Show and Tell): the image vector sets the LSTM's initial state (h0, c0).
- "merge" (the popular tutorial): the LSTM reads words only; its output is added to the image vector
  before the word classifier.
A clip model (`frames` > 0) first reads its (N, 4096) frame vectors: TimeDistributed projection, then an LSTM over
the frames (zero frames, i.e. short clips' padding, masked) whose final state stands in for the image vector (the
S2VT idea); or, with `frame_encoder="mean"`, the masked mean of the projected frames (the mean-pool baseline).
Training is teacher-forced on whole captions at once; `initial_state` + `step` run one LSTM step at a time for
search, so generation never re-runs a prefix.
"""

from __future__ import annotations


from captioner.base.backend import import_keras
from captioner.models.frame_reader import FrameReader
from captioner.models.model_configs import DecoderConfig

keras = import_keras()
ops = keras.ops


class CaptionDecoder(FrameReader, keras.Model):
    def __init__(self, config: DecoderConfig, **kwargs):
        super().__init__(config, **kwargs)
        c = config
        if c.frames:
            self.build_frame_layers(c.feature_dim, c.units, c.frame_encoder, c.cnn)
        if c.design == "inject":
            self.init_h = keras.layers.Dense(c.units, activation="tanh", name="init_h")
            self.init_c = keras.layers.Dense(c.units, name="init_c")
        else:
            self.image_proj = keras.layers.Dense(c.units, activation="relu", name="image_proj")
            self.merge_dense = keras.layers.Dense(c.units, activation="relu", name="merge_dense")
        self.embedding = keras.layers.Embedding(c.vocab_size, c.embed_dim, mask_zero=True, name="embedding")
        self.embed_dropout = keras.layers.Dropout(c.dropout, name="embed_dropout")
        # Unrolled: captions are short (tens of steps), and on CPU the unrolled graph trains ~1.5x faster.
        self.lstm = keras.layers.LSTM(c.units, return_sequences=True, unroll=True, name="lstm")
        self.out_dropout = keras.layers.Dropout(c.dropout, name="out_dropout")
        self.classifier = keras.layers.Dense(c.vocab_size, name="classifier")

    def _image(self, features, training=False):
        """The conditioning vector: (B, D) image vectors, or (B, N, D) clip frames read into (B, U)."""
        features = ops.cast(features, "float32")
        if not self.config.frames:
            return self.image_dropout(self.image_norm(features), training=training)  # (B, D)
        return self.read_frames(features, training)  # (B, U)

    def call(self, inputs, training=False):
        """inputs = (features (B, D), tokens (B, T)) -> logits (B, T, V) for the token after each position. A model
        with its own CNN also takes features (K, N, D) with tokens (K*C, T): C captions of each clip, in order."""
        features, tokens = inputs
        image = self._image(features, training)
        if self.config.frame_encoder == "cnn":  # C captions per clip (`ClipCaptionBatches`): C copies of each
            image = ops.repeat(image, ops.shape(tokens)[0] // ops.shape(image)[0], axis=0)
        words = self.embed_dropout(self.embedding(tokens), training=training)  # (B, T, E)
        mask = self.embedding.compute_mask(tokens)
        if self.config.design == "inject":
            h = self.lstm(words, mask=mask, initial_state=[self.init_h(image), self.init_c(image)], training=training)
            h = self.out_dropout(h, training=training)  # (B, T, U)
        else:
            h = self.out_dropout(self.lstm(words, mask=mask, training=training), training=training)
            h = self.merge_dense(h + self.image_proj(image)[:, None, :])  # (B, T, U)
        return self.classifier(h)  # (B, T, V)

    # --- one step at a time, for search -----------------------------------------------------------

    def initial_state(self, features):
        """(h, c, image) for a batch of image vectors; `image` is the merge input (zeros for inject)."""
        image = self._image(features)
        if self.config.design == "inject":
            return self.init_h(image), self.init_c(image), ops.zeros((ops.shape(image)[0], 1))
        zeros = ops.zeros((ops.shape(image)[0], self.config.units))
        return zeros, zeros, self.image_proj(image)

    @property
    def vocab_size(self) -> int:
        return self.config.vocab_size

    def search_tables(self, logit_bias):
        """What a search step with frozen weights reads, computed once from the weights (see `inference_step`).

        - Each token's input-side LSTM gates: x W + b depends only on the token, so it is precomputed for the whole
          vocabulary (V, 4U) and looked up; each step then costs one (B, U) x (U, 4U) product instead of two.
        - The classifier with its bias plus `logit_bias` ((V',) with V' >= V) as one more row, (U + 1, V'): the
          logits come out of the matrix product whole, with no pass of their own adding biases. Columns past V
          have a zero kernel, so their logits are exactly `logit_bias` there (a search pads its vocabulary so).
        - Every other weight a step reads (the recurrent kernel; merge's dense layer), so that a compiled search
          holds no weights of its own: JAX bakes the weights a function reads into its compiled code, and
          self-critical training samples from weights that change every step.
        """
        cell = self.lstm.cell
        token_gates = ops.matmul(self.embedding.embeddings, cell.kernel) + cell.bias  # (V, 4U)
        kernel = self.classifier.kernel
        extra = ops.shape(logit_bias)[0] - ops.shape(kernel)[1]
        if extra:
            kernel = ops.concatenate([kernel, ops.zeros((ops.shape(kernel)[0], extra), kernel.dtype)], axis=1)
        bias = ops.pad(self.classifier.bias, [[0, extra]]) + logit_bias
        merge = (ops.convert_to_tensor(self.merge_dense.kernel), ops.convert_to_tensor(self.merge_dense.bias)) \
            if self.config.design == "merge" else ()
        return (token_gates, ops.concatenate([kernel, bias[None, :]], axis=0),
                ops.convert_to_tensor(cell.recurrent_kernel), *merge)

    def inference_step(self, tables):
        """A `step` for frozen weights reading `search_tables`: same numbers as `step` (plus the logit bias)."""
        token_gates, classifier, recurrent, *merge = tables  # recurrent (U, 4U)

        def step(tokens, state):
            h, c, image = state
            z = ops.take(token_gates, ops.cast(tokens, "int32"), axis=0) + ops.matmul(h, recurrent)  # (B, 4U)
            i, f, g, o = ops.split(z, 4, axis=-1)  # Keras LSTMCell gate order
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            out = ops.relu(ops.matmul(h + image, merge[0]) + merge[1]) if merge else h
            out = ops.concatenate([out, ops.ones_like(out[:, :1])], axis=1)  # the bias row's input
            return ops.matmul(out, classifier), (h, c, image)

        return step

    def step(self, tokens, state):
        """tokens (B,) int -> logits (B, V) for the next token, and the new state."""
        h, c, image = state
        x = ops.take(self.embedding.embeddings, ops.cast(tokens, "int32"), axis=0)  # (B, E); no mask here
        out, (h, c) = self.lstm.cell(x, [h, c])
        if self.config.design == "merge":
            out = self.merge_dense(out + image)
        return self.classifier(out), (h, c, image)


def build_decoder(config: DecoderConfig) -> CaptionDecoder:
    """A decoder with its weights created (so that weights can be loaded into it)."""
    import numpy as np

    decoder = CaptionDecoder(config)
    decoder((np.ones((1, *config.input_shape), "float32"), np.ones((1, 2), "int32")))
    return decoder
