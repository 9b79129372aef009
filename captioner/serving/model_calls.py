"""What the batcher's worker does with a batch: encode every item's pixels, then one search (or one classifier
call) for all of them — the same steps as `CaptionModel.caption` / `ClassifierModel.classify`."""

from __future__ import annotations

import numpy as np

from captioner.features.clip_features import stack_clips

# Rows per encoder call: a batch of 32 clips of 8 frames is 256 VGG16 inputs, too many activations at once.
ENCODE_ROWS = 32


def encoded_batch(encoder, pixels: list[np.ndarray], frames: int) -> np.ndarray:
    """[(k_i, S, S, 3) uint8] -> (B, D) image vectors, or (B, frames, D) clip frames zero-padded."""
    rows = np.concatenate(pixels)
    features = np.concatenate([encoder.encode(rows[i:i + ENCODE_ROWS]) for i in range(0, len(rows), ENCODE_ROWS)])
    return stack_clips(features, [len(p) for p in pixels], frames)


def caption_runner(model):
    """run((beam_size, num_captions, length_penalty), pixels) -> [list of Caption, best first] per item."""
    def run(key, pixels):
        return model.captioner(*key)(encoded_batch(model.encoder, pixels, model.frames))

    return run


def label_runner(model):
    """run(top_k, pixels) -> [[(label, probability)], most likely first] per clip."""
    def run(top_k, pixels):
        return model.labeller(top_k).top(encoded_batch(model.encoder, pixels, model.frames))

    return run
