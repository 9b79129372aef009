"""Choosing a search's best captions: numpy only, shared by the Searcher and the runtime without Keras (an
exported model returns every beam; the ranking is done where its captions are read)."""

from __future__ import annotations

import numpy as np

from captioner.search.search_ids import END, PAD


def best_captions(beams, log_probs, num_captions: int, length_penalty: float) -> list[tuple[np.ndarray, float]]:
    """The `num_captions` best of one image's beams ((K, L) token ids, (K,) log-probabilities), best first, ranked
    by log-probability / (words + 1) ** `length_penalty` (0: the log-probability itself); ties keep beam order."""
    lengths = np.array([words(s) + 1 for s in beams], dtype=np.float64)
    keys = log_probs / lengths ** length_penalty if length_penalty else log_probs
    order = np.argsort(-keys, kind="stable")[:num_captions]
    return [(beams[i], float(log_probs[i])) for i in order]


def words(tokens) -> int:
    """The words of a searched caption (`<start>` words `<end>` `<pad>`...)."""
    n = 0
    for t in tokens[1:]:
        if t in (END, PAD):
            break
        n += 1
    return n
