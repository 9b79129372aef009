"""Whole captions as token matrices, served in shuffled batches straight from the memory-mapped cache."""

from __future__ import annotations

import math

import numpy as np

from captioner.base.backend import import_keras
from captioner.features.clip_features import gather_rows
from vocab import Vocabulary, tokenize

keras = import_keras()


def caption_pairs(captions: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Flatten {image: [captions]} into parallel lists (image key per caption, caption)."""
    keys, texts = [], []
    for key, caps in captions.items():
        keys.extend([key] * len(caps))
        texts.extend(caps)
    return keys, texts


def encode_captions(vocab: Vocabulary, texts: list[str], max_length: int) -> tuple[np.ndarray, int]:
    """(N, max_length + 2) int32 `<start> words <end> <pad>...`, and how many captions were truncated."""
    out = np.zeros((len(texts), max_length + 2), dtype=np.int32)
    truncated = 0
    for i, text in enumerate(texts):
        ids = vocab.encode(text, max_length=max_length)
        truncated += len(tokenize(text)) > max_length
        out[i, : len(ids)] = ids
    return out, truncated


class ShuffledBatches(keras.utils.PyDataset):
    """Batches of `count` samples in an order reshuffled every epoch from (seed, epoch), so a resumed run sees
    the same batches as an uninterrupted one; seed None keeps the order (validation)."""

    def __init__(self, count: int, batch_size: int, seed: int | None = None, epoch: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.count, self.batch_size, self.seed = count, batch_size, seed
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        n = self.count
        self.order = np.arange(n) if self.seed is None else np.random.default_rng([self.seed, epoch]).permutation(n)

    def __len__(self) -> int:
        return math.ceil(self.count / self.batch_size)

    def chosen(self, index: int) -> np.ndarray:
        """The sample indices of batch `index`, sorted (reads from a memory map go forward)."""
        return np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])

    def on_epoch_end(self) -> None:
        if self.seed is not None:
            self.set_epoch(self.epoch + 1)


class CaptionBatches(ShuffledBatches):
    """((features (B, D) or (B, N, D) float32, tokens_in (B, L-1)), targets (B, L-1)), one caption per sample.

    `rows` index the memory-mapped cache: (n,) for images, (n, N) for clips (-1 = padding, a zero frame).
    """

    def __init__(self, features: np.ndarray, rows: np.ndarray, tokens: np.ndarray, batch_size: int,
                 seed: int | None = None, epoch: int = 0):
        # Two threads prepare the next batches while the current one trains: the step never waits on Python.
        super().__init__(len(tokens), batch_size, seed, epoch, workers=2, use_multiprocessing=False, max_queue_size=8)
        self.features, self.rows, self.tokens = features, rows, tokens

    def __getitem__(self, index: int):
        chosen = self.chosen(index)
        features = gather_rows(self.features, self.rows[chosen])  # (B, D) or (B, N, D)
        tokens = self.tokens[chosen]  # (B, L)
        return (features, tokens[:, :-1]), tokens[:, 1:]
