"""CIDEr-D as a reward: the same numbers as pycocoevalcap's scorer, thousands of captions per second.

pycocoevalcap recomputes every reference's tf-idf vectors each time it scores, and takes its document
frequencies from whatever set it is given. Self-critical training scores K sampled captions per image every
step against fixed references, so here the document frequencies (and log of the number of images, the idf's
numerator) are computed once from the training references and each reference's weighted n-grams, norms and
length are computed once; a caption then costs one pass over its own n-grams per reference. Every detail of
pycocoevalcap's CIDEr-D is kept: n = 1..4, idf log(N) - log(max(1, df)), clipped numerator min(hyp, ref) * ref,
per-n cosine, the Gaussian length penalty (sigma 6) on the difference of the two "lengths" (which that code
counts as bigrams), the mean over n, the mean over references, times 10.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

N = 4
SIGMA = 6.0


def ngram_counts(words: list[str], n: int = N) -> Counter:
    """Counts of every 1..n-gram (tuples of words) of one tokenised caption."""
    return Counter(tuple(words[i:i + k]) for k in range(1, n + 1) for i in range(len(words) - k + 1))


class CiderD:
    """`CiderD(references)`: references[i] are image i's captions as PTB tokens joined by spaces (as
    `evaluation.metrics.tokenized` makes them). `scores(hypotheses, images)` -> (len(hypotheses),) float64,
    hypothesis j scored against image images[j]'s references, with the document frequencies of all of them."""

    def __init__(self, references: list[list[str]]):
        cooked = [[ngram_counts(r.split()) for r in refs] for refs in references]
        df: Counter = Counter()
        for refs in cooked:
            df.update({g for ref in refs for g in ref})
        self.log_images = math.log(float(len(references)))
        self.idf = {g: self.log_images - math.log(max(1.0, count)) for g, count in df.items()}
        self._refs = [[self._vector(ref) for ref in refs] for refs in cooked]

    def _vector(self, counts: Counter) -> tuple[dict, list[float], int]:
        """({n-gram: tf * idf}, per-n norms, "length" = number of bigrams, as pycocoevalcap counts it)."""
        vec, norms, length = {}, [0.0] * N, 0
        for gram, tf in counts.items():
            weight = tf * self.idf.get(gram, self.log_images)  # an n-gram no reference has: df 0 -> log(max(1, 0))
            vec[gram] = weight
            norms[len(gram) - 1] += weight * weight
            if len(gram) == 2:
                length += tf
        return vec, [math.sqrt(x) for x in norms], length

    def score(self, words: list[str], image: int) -> float:
        """One tokenised caption against image `image`'s references."""
        vec, norms, length = self._vector(ngram_counts(words))
        refs = self._refs[image]
        total = 0.0
        for ref_vec, ref_norms, ref_length in refs:
            sims = [0.0] * N
            for gram, weight in vec.items():
                ref_weight = ref_vec.get(gram)
                if ref_weight is not None:
                    sims[len(gram) - 1] += min(weight, ref_weight) * ref_weight
            penalty = math.exp(-((length - ref_length) ** 2) / (2 * SIGMA ** 2))
            for n in range(N):
                if norms[n] != 0 and ref_norms[n] != 0:
                    sims[n] /= norms[n] * ref_norms[n]
                total += sims[n] * penalty
        return total / N / len(refs) * 10.0

    def scores(self, hypotheses: list[str], images) -> np.ndarray:
        """Each hypothesis (space-separated tokens) against its image's references."""
        return np.array([self.score(h.split(), int(i)) for h, i in zip(hypotheses, images)], dtype=np.float64)
