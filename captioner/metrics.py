"""BLEU-1..4 with nltk, on text normalised by the same `vocab.normalise` as training.

Uniform weights (1/n each, summing to 1), no special tokens in either side: the two classic tutorial bugs.
"""

from __future__ import annotations

import warnings

from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu

from vocab import tokenize

WEIGHTS = [tuple(1.0 / n for _ in range(n)) for n in range(1, 5)]  # (1,), (.5,.5), (1/3,)*3, (.25,)*4


def corpus_bleu_scores(references: list[list[str]], hypotheses: list[str]) -> dict[str, float]:
    """{"bleu1": .., "bleu4": ..} in 0..1; references[i] are the raw captions of image i."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets for {len(hypotheses)} hypotheses")
    if not hypotheses:
        return {f"bleu{n}": 0.0 for n in range(1, 5)}
    refs = [[tokenize(r) for r in refs_i] for refs_i in references]
    hyps = [tokenize(h) for h in hypotheses]
    with warnings.catch_warnings():  # nltk warns when an n-gram order has no match; a 0 score says that already
        warnings.simplefilter("ignore", UserWarning)
        scores = corpus_bleu(refs, hyps, weights=WEIGHTS)
    return {f"bleu{n}": float(s) for n, s in enumerate(scores, start=1)}


def sentence_bleu4(references: list[str], hypothesis: str) -> float:
    """Smoothed per-image BLEU-4 (Chen & Cherry method 1), for reports; never 0 just for a missing 4-gram."""
    return float(sentence_bleu([tokenize(r) for r in references], tokenize(hypothesis), weights=WEIGHTS[3],
                               smoothing_function=SmoothingFunction().method1))
