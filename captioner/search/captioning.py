"""The one path from image vectors to caption text, shared by caption, caption-folder, evaluate, train and demo."""

from __future__ import annotations

import numpy as np

from captioner.features.clip_features import stack_clips
from captioner.search.caption import Caption
from captioner.search.searcher import Searcher, SearchSettings
from vocab import Vocabulary

__all__ = ["Caption", "Captioner", "describe_search"]


class Captioner:
    """A decoder + vocabulary + compiled search; call it on (B, 4096) image vectors or (B, N, 4096) clip frames."""

    def __init__(self, decoder, vocab: Vocabulary, beam_size: int = 1, num_captions: int = 1,
                 length_penalty: float = 0.0, batch_size: int = 256, feature_dtype: str = "float32",
                 compiled: bool = True, live_weights: bool = False):
        self.vocab = vocab
        self.frames = decoder.config.frames  # 0 for an image model
        # Fresh features are rounded to the training cache's dtype, so that `caption` on an image gives
        # exactly the caption `evaluate` gives from the cache.
        self.feature_dtype = feature_dtype
        self.settings = SearchSettings(beam_size, num_captions, length_penalty, batch_size)
        self.searcher = Searcher(decoder, decoder.config.max_length, self.settings, compiled, live_weights)

    def __call__(self, features: np.ndarray, scores: bool = True) -> list[list[Caption]]:
        features = np.asarray(features).astype(self.feature_dtype).astype(np.float32)
        return [[Caption(self.vocab.decode(tokens), log_prob) for tokens, log_prob in ranked]
                for ranked in self.searcher(features, scores)]

    def of_rows(self, rows: np.ndarray, counts: list[int]) -> list[list[Caption]]:
        """The captions of encoder output rows: one per image, or `counts[i]` frames of clip i in order."""
        return self(stack_clips(rows, counts, self.frames))

    def records_of_rows(self, rows: np.ndarray, counts: list[int]) -> list[dict]:
        """caption-folder's record of each input, from its encoder output rows (see `of_rows`)."""
        return self.records(stack_clips(rows, counts, self.frames))

    def best(self, features: np.ndarray) -> list[str]:
        """The best caption of each image (no log-probabilities: the fast path)."""
        return [ranked[0].text for ranked in self(features, scores=False)]

    def records(self, features: np.ndarray) -> list[dict]:
        """caption-folder's record of each image."""
        return [{"caption": text} for text in self.best(features)]


def describe_search(beam_size: int) -> str:
    return "greedy" if beam_size == 1 else f"beam {beam_size}"
