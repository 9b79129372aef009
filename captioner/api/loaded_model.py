"""What a caption model and a classifier loaded by `captioner.load` share: the bundle and its encoder."""

from __future__ import annotations


class LoadedModel:
    def __init__(self, bundle, encoder_future, weights: str | None = None):
        self.bundle = bundle
        self.weights = weights  # the --weights it was loaded with (None: as the bundle's fingerprint says)
        self._encoder_future = encoder_future

    @property
    def encoder(self):
        """The bundle's `Encoder` (VGG16 fc2 as trained on), built in a thread started by `load` (or on first use)."""
        return self._encoder_future.result()

    @property
    def encoder_spec(self):
        """What the model's inputs came from (`EncoderSpec`, or `PixelSpec` for a model with its own CNN), without
        building the encoder: `.describe()`, `.is_random`, `.input_size`, `.to_json()` (the bundle's record)."""
        return self.bundle.encoder

    @property
    def frames(self) -> int:
        """0 for an image model; N for a clip model or classifier (clips are read as N sampled frames)."""
        return self.bundle.frames

    @property
    def directory(self) -> str:
        return self.bundle.directory

    @property
    def training(self) -> dict:
        """The bundle's training summary: epochs, losses, validation scores, settings, per-epoch history."""
        return self.bundle.training
