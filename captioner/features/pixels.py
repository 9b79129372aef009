"""Frames as pixels, for a model that trains its own CNN (`--frame-encoder cnn`): the "encoder" only resizes.

Each sampled frame is squashed to S x S RGB with the images' resize and stored as one uint8 row of S*S*3 values
in a cache like the feature cache (crash-safe shards, resumable, memory-mapped), in the subfolder
`pixels-SxS` of the `--cache` directory, so one `--cache` serves a VGG16 model and a CNN model of the same
clips. The recipe below stands where a VGG16 fingerprint stands, in the cache and in the bundle; the model
standardises the pixels itself (with statistics of its training frames, stored with its weights), as the recipe
records.
"""

from __future__ import annotations

import os

import numpy as np

ARCHITECTURE = "frames-as-pixels"
DEFAULT_FRAME_SIZE = 64


def pixel_fingerprint(frame_size: int = DEFAULT_FRAME_SIZE) -> dict:
    """The input recipe of a model with its own CNN: no weights, just how frames become its inputs."""
    if not 8 <= frame_size <= 256:
        from captioner.base.errors import UsageError

        raise UsageError(f"frame size {frame_size}: give 8 to 256 pixels")
    return {
        "architecture": ARCHITECTURE,
        "layer": "pixels",
        "dim": frame_size * frame_size * 3,
        "weights": "none",
        "weights_id": "trained with the model (its own CNN)",
        "preprocessing": {"input_size": frame_size, "resize": "squash-bilinear", "channel_order": "RGB",
                          "values": "uint8 0-255",
                          "scaling": "in the model: minus its training frames' mean frame, over their spread"},
        "precision": "fp32",
    }


def is_pixels(fingerprint: dict) -> bool:
    return fingerprint.get("architecture") == ARCHITECTURE


def frame_size_of(fingerprint: dict) -> int:
    return int(fingerprint["preprocessing"]["input_size"])


def cache_directory(directory: str, fingerprint: dict | None) -> str:
    """Where `fingerprint`'s rows live under a --cache directory: the directory itself for VGG16 features."""
    if fingerprint is not None and is_pixels(fingerprint):
        size = frame_size_of(fingerprint)
        name = f"pixels-{size}x{size}"
        if os.path.basename(os.path.normpath(directory)) != name:  # given the folder itself: stay there
            return os.path.join(directory, name)
    return directory


def describe_pixels(fingerprint: dict) -> str:
    size = frame_size_of(fingerprint)
    return f"no pretrained encoder: frames as {size}x{size} RGB pixels, read by the model's own CNN"


class PixelEncoder:
    """Stands in for `Encoder` where the model has its own CNN: (N, S, S, 3) uint8 -> (N, S*S*3) uint8 rows."""

    def __init__(self, frame_size: int = DEFAULT_FRAME_SIZE):
        self.fingerprint = pixel_fingerprint(frame_size)
        self.input_size = frame_size

    def encode(self, batch) -> np.ndarray:
        if not isinstance(batch, np.ndarray):  # a device tensor (GPU decoding)
            from captioner.base.backend import import_keras

            batch = import_keras().ops.convert_to_numpy(batch)
        batch = np.asarray(batch, dtype=np.uint8)
        return batch.reshape(len(batch), -1)
