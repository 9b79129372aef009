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


class ClipCaptionBatches(ShuffledBatches):
    """((features (K, N, D), tokens_in (K*C, L-1)), targets (K*C, L-1)): K clips a step, each with C of its
    captions, so that a model with its own CNN runs it once per clip, not once per caption (the decoder repeats
    each clip's vector for its C captions). An epoch is every clip once; a clip with more than C captions gives a
    different C each epoch (from seed and epoch, so a resumed run sees the same), one with fewer repeats them.
    Without a seed (validation) each clip gives its first C captions.
    """

    def __init__(self, features: np.ndarray, rows: np.ndarray, tokens: list[np.ndarray], clips_per_batch: int,
                 captions_per_clip: int, seed: int | None = None, epoch: int = 0):
        self.captions_per_clip = captions_per_clip
        super().__init__(len(tokens), clips_per_batch, seed, epoch, workers=2, use_multiprocessing=False,
                         max_queue_size=8)
        self.features, self.rows, self.tokens = features, rows, tokens

    def __getitem__(self, index: int):
        chosen = self.chosen(index)
        c = self.captions_per_clip
        picked = []
        for clip in chosen:
            own = self.tokens[clip]
            if self.seed is None:
                picks = np.arange(c) % len(own)
            else:
                rng = np.random.default_rng([self.seed, self.epoch, int(clip)])
                picks = rng.choice(len(own), c, replace=len(own) < c)
            picked.append(own[picks])
        tokens = np.concatenate(picked)  # (K*C, L): clip k's captions at rows k*C .. k*C + C - 1
        return (gather_rows(self.features, self.rows[chosen]), tokens[:, :-1]), tokens[:, 1:]
