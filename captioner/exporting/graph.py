"""The exported computation as one TensorFlow function: uint8 pixels -> the frozen encoder -> features rounded
to the training cache's dtype (as `captioner caption` rounds them) -> the decoder's search loop -> token ids and
log-probabilities. Every weight is a constant of the graph."""

from __future__ import annotations

from dataclasses import dataclass

from captioner.runtime.export_info import LOG_PROBS, PIXELS, TOKENS
from captioner.search.searcher import Searcher, SearchSettings


@dataclass(frozen=True)
class CaptionGraph:
    """The same computation twice: `traced` reads the model's variables (tf2onnx freezes them itself); `frozen`
    holds them as constants (for the SavedModel and LiteRT: the LiteRT converter leaves resource variables
    uninitialised, and a SavedModel of constants loads anywhere with no Keras object behind it)."""

    traced: object  # tf.function
    frozen: object  # tf.function


def caption_function(encoder_model, decoder, beam_size: int, max_length: int, feature_dtype: str,
                     input_size: int) -> CaptionGraph:
    """`tf.function`s with one input signature, (None, S, S, 3) uint8 `pixels`, returning
    {`tokens`: (B, K, max_length + 2) int32, `log_probs`: (B, K) float32}."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    searcher = Searcher(decoder, max_length, SearchSettings(beam_size=beam_size, num_captions=beam_size),
                        compiled=False)
    signature = [tf.TensorSpec((None, input_size, input_size, 3), tf.uint8, name=PIXELS)]

    @tf.function(input_signature=signature)
    def traced(pixels):
        features = tf.cast(encoder_model(pixels, training=False), tf.float32)
        features = tf.cast(tf.cast(features, feature_dtype), tf.float32)
        tokens, log_probs = searcher.traced(features)
        return {TOKENS: tf.cast(tokens, tf.int32), LOG_PROBS: tf.cast(log_probs, tf.float32)}

    frozen = convert_variables_to_constants_v2(traced.get_concrete_function())
    names = sorted([TOKENS, LOG_PROBS])  # a frozen function returns its dict's values in key order

    @tf.function(input_signature=signature)
    def caption(pixels):
        return dict(zip(names, frozen(pixels)))

    return CaptionGraph(traced, caption)
