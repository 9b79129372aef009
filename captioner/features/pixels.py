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

from captioner.features.encoder_spec import EncoderSpec, PixelSpec

DEFAULT_FRAME_SIZE = 64


def pixel_fingerprint(frame_size: int = DEFAULT_FRAME_SIZE) -> PixelSpec:
    """The input recipe of a model with its own CNN: no weights, just how frames become its inputs."""
    if not 8 <= frame_size <= 256:
        from captioner.base.errors import UsageError

        raise UsageError(f"frame size {frame_size}: give 8 to 256 pixels")
    return PixelSpec.of_size(frame_size)


def cache_directory(directory: str, spec: EncoderSpec | None) -> str:
    """Where `spec`'s rows live under a --cache directory: the directory itself for VGG16 features."""
    if isinstance(spec, PixelSpec):
        size = spec.frame_size
        name = f"pixels-{size}x{size}"
        if os.path.basename(os.path.normpath(directory)) != name:  # given the folder itself: stay there
            return os.path.join(directory, name)
    return directory


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
