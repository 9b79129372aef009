"""How sure a difference between two systems scored on the same items is: the paired standard error of a mean
score, and the paired bootstrap for corpus metrics that are not a mean over items (BLEU: clipped n-gram counts
pooled over the corpus).

Both compare systems on the same items, so what the items share (hard images, easy ones) cancels out: the
standard error of the difference is far smaller than either system's own. `base` is the system compared with;
a positive difference means `other` scored higher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class PairedDifference:
    base: float  # the base system's score on all items
    other: float  # the other system's score on the same items
    standard_error: float  # of other - base
    items: int

    @property
    def difference(self) -> float:
        return self.other - self.base

    @property
    def relative(self) -> float:
        """The difference as a share of the base score (+0.061 for 6.1% higher)."""
        return self.difference / self.base

    @property
    def relative_standard_error(self) -> float:
        return self.standard_error / abs(self.base)

    def percent(self) -> str:
        """"+6.1% ± 1.6%": the relative difference and its standard error."""
        return f"{self.relative:+.1%} ± {self.relative_standard_error:.1%}"

    def absolute(self, digits: int = 4) -> str:
        """"+0.0116 ± 0.0080": the difference and its standard error."""
        return f"{self.difference:+.{digits}f} ± {self.standard_error:.{digits}f}"


def paired_mean_difference(base: Sequence[float], other: Sequence[float]) -> PairedDifference:
    """Mean scores per item (CIDEr-D, METEOR or sentence BLEU of each caption) of two systems on the same items,
    in the same order: the difference of the means and its standard error, sd(other - base) / sqrt(n)."""
    a, b = np.asarray(base, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores need one score per item for both systems, got {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ValueError("a standard error needs at least two items")
    diff = b - a
    return PairedDifference(float(a.mean()), float(b.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff))), len(a))


def paired_bootstrap(base: Callable[[np.ndarray], float], other: Callable[[np.ndarray], float], items: int,
                     resamples: int = 200, seed: int = 0) -> PairedDifference:
    """A corpus metric of two systems on the same `items` items: `base(indices)` and `other(indices)` score the
    items at those indices (repeats allowed). Each resample draws `items` indices with replacement and scores both
    systems on the same draw; the standard error is the spread (sd) of the resampled differences."""
    if items < 2 or resamples < 2:
        raise ValueError("the paired bootstrap needs at least two items and two resamples")
    everything = np.arange(items)
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for r in range(resamples):
        draw = rng.integers(0, items, items)
        diffs[r] = other(draw) - base(draw)
    return PairedDifference(float(base(everything)), float(other(everything)), float(diffs.std(ddof=1)), items)
