"""The exported computation as one TensorFlow function: uint8 pixels -> the frozen encoder -> features rounded
to the training cache's dtype (as `captioner caption` rounds them) -> the decoder's search loop -> token ids and
log-probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from captioner.runtime.export_info import FRAME_COUNTS, LOG_PROBS, PIXELS, PROBABILITIES, TOKENS
from captioner.search.searcher import Searcher, SearchSettings


@dataclass(frozen=True)
class ExportGraph:
    """The same computation in two forms.

    `fed` takes the encoder's weights as inputs after the pixels (named `weights` keys, in order), the decoder's
    as constants: tf2onnx converts it without holding VGG16's 0.5 GB of constants in its own graph (which took
    more than 24 GB), and the ONNX writer makes those inputs the file's initializers. `frozen()` makes the
    function with every weight a constant (for the SavedModel and LiteRT: the LiteRT converter leaves resource
    variables uninitialised, and a SavedModel of constants loads anywhere with no Keras object behind it); it is
    made only when asked for (freezing VGG16 takes ~30 s and a few GB)."""

    fed: object  # tf.function(pixels, *weights)
    weights: object  # () -> {input name: numpy array}, in `fed`'s order (copied when asked: 0.5 GB for VGG16)
    frozen: object  # () -> tf.function(pixels)


def classifier_function(encoder_model, classifier, frames: int, feature_dtype: str, input_size: int) -> ExportGraph:
    """The same for an activity classifier: clips (and their frame counts) -> {`probabilities`: (B, classes)}."""
    import tensorflow as tf

    def head(features):
        return {PROBABILITIES: tf.nn.softmax(tf.cast(classifier(features, training=False), tf.float32), axis=-1)}

    return _functions(encoder_model, head, feature_dtype, input_size, frames, sorted([PROBABILITIES]))


def caption_function(encoder_model, decoder, beam_size: int, max_length: int, feature_dtype: str,
                     input_size: int, frames: int = 0) -> ExportGraph:
    """`tf.function`s taking (None, S, S, 3) uint8 `pixels` and returning {`tokens`: (B, K, max_length + 2) int32,
    `log_probs`: (B, K) float32}. A clip model (`frames` N) takes (None, N, S, S, 3) `pixels` and `frame_counts`
    (None,) int32: each clip's real frames come first, and the features of the rest are zeros, as a clip shorter
    than N frames is padded for the decoder (which masks zero frames)."""
    import tensorflow as tf

    searcher = Searcher(decoder, max_length, SearchSettings(beam_size=beam_size, num_captions=beam_size),
                        compiled=False)

    def search(features):
        tokens, log_probs = searcher.traced(features)
        return {TOKENS: tf.cast(tokens, tf.int32), LOG_PROBS: tf.cast(log_probs, tf.float32)}

    return _functions(encoder_model, search, feature_dtype, input_size, frames, sorted([TOKENS, LOG_PROBS]))


def _functions(encoder_model, head, feature_dtype: str, input_size: int, frames: int, names: list[str]):
    """pixels (and frame counts) -> the encoder -> features rounded to `feature_dtype` -> `head(features)`, a
    dict of outputs named `names` (in sorted order), fed and frozen."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from captioner.base.backend import import_keras

    keras = import_keras()
    frame_shape = (input_size, input_size, 3)
    inputs = [tf.TensorSpec((None, frames, *frame_shape) if frames else (None, *frame_shape), tf.uint8, name=PIXELS)]
    if frames:
        inputs.append(tf.TensorSpec((None,), tf.int32, name=FRAME_COUNTS))
    variables = list(encoder_model.weights)
    weight_names = [f"encoder_weight_{i}" for i in range(len(variables))]
    weight_specs = [tf.TensorSpec(v.shape, v.dtype, name=name) for name, v in zip(weight_names, variables)]

    def weights():
        return {name: np.asarray(v) for name, v in zip(weight_names, variables)}

    def encoded(pixels, counts):
        if not frames:
            return tf.cast(encoder_model(pixels, training=False), tf.float32)
        clips = tf.shape(pixels)[0]
        rows = tf.cast(encoder_model(tf.reshape(pixels, (-1, *frame_shape)), training=False), tf.float32)
        rows = tf.reshape(rows, (clips, frames, -1))
        real = tf.range(frames)[None, :] < counts[:, None]  # (B, N)
        return tf.where(real[:, :, None], rows, tf.zeros_like(rows))

    def search(features):
        return head(tf.cast(tf.cast(features, feature_dtype), tf.float32))

    def split(args):  # (pixels, counts or None, weights)
        return (args[0], args[1], args[2:]) if frames else (args[0], None, args[1:])

    @tf.function(input_signature=[*inputs, *weight_specs])
    def fed(*args):
        pixels, counts, values = split(args)
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            features = encoded(pixels, counts)
        return search(features)

    @tf.function(input_signature=inputs)
    def traced(*args):
        pixels, counts, _ = split(args)
        return search(encoded(pixels, counts))

    def frozen():
        constant = convert_variables_to_constants_v2(traced.get_concrete_function())  # values in key order

        @tf.function(input_signature=inputs)
        def with_constants(*args):
            return dict(zip(names, constant(*args)))

        return with_constants

    return ExportGraph(fed, weights, frozen)
