"""The decoder's per-token loss: cross-entropy on the next word, padding (token 0) left out, optionally with
label smoothing (Szegedy et al. 2016): the target puts 1 - s on the reference word and s spread evenly over the
vocabulary, which keeps the model from betting everything on one phrasing of a caption."""

from __future__ import annotations

from captioner.base.backend import import_keras

keras = import_keras()
ops = keras.ops


class SmoothedTokenLoss(keras.losses.Loss):
    """Label-smoothed cross-entropy from logits, averaged over the real (non-padding) target tokens.

    Each token's loss comes divided by the batch's count of real targets and Keras sums them ("sum"
    reduction): Keras' own average would divide by the decoder's output mask, which comes from the input
    tokens and so also counts the step that reads <end>.
    """

    def __init__(self, smoothing: float, name: str = "smoothed_token_loss", **kwargs):
        super().__init__(name=name, reduction="sum", **kwargs)
        self.smoothing = float(smoothing)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_p = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        reference = -ops.squeeze(ops.take_along_axis(log_p, y_true[..., None], axis=-1), axis=-1)
        spread = -ops.mean(log_p, axis=-1)
        real = ops.cast(ops.not_equal(y_true, 0), "float32")
        loss = ((1.0 - self.smoothing) * reference + self.smoothing * spread) * real
        return loss / ops.maximum(ops.sum(real), 1.0)

    def get_config(self):
        config = super().get_config()
        config.pop("reduction", None)
        return {**config, "smoothing": self.smoothing}


def token_loss(label_smoothing: float = 0.0):
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label smoothing must be in [0, 1), got {label_smoothing}")
    if label_smoothing == 0.0:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    return SmoothedTokenLoss(label_smoothing)
