"""Numbers that say whether a vocabulary fits its captions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from vocab.normalise import tokenize
from vocab.vocabulary import Vocabulary


@dataclass(frozen=True)
class VocabStats:
    size: int  # tokens including the four specials
    captions: int
    tokens: int  # words over all captions
    coverage: float  # fraction of those words that are in the vocabulary (not <unk>)
    length_percentiles: dict  # {50: words, 90: ..., 99: ..., 100: ...}

    def summary(self) -> str:
        p = self.length_percentiles
        return (f"vocabulary {self.size} tokens, {self.captions} captions, {self.tokens} words, "
                f"coverage {self.coverage:.1%}, caption length p50 {p[50]} p90 {p[90]} p99 {p[99]} max {p[100]}")


def _percentile(sorted_values: list[int], q: int) -> int:
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def caption_stats(vocabulary: Vocabulary, captions: Iterable[str]) -> VocabStats:
    lengths, known, total, n = [], 0, 0, 0
    for caption in captions:
        words = tokenize(caption)
        lengths.append(len(words))
        total += len(words)
        known += sum(1 for w in words if w in vocabulary)
        n += 1
    lengths.sort()
    return VocabStats(
        size=len(vocabulary),
        captions=n,
        tokens=total,
        coverage=known / total if total else 1.0,
        length_percentiles={q: _percentile(lengths, q) for q in (50, 90, 99, 100)},
    )
