"""Text normalisation and the caption vocabulary. Pure Python: no Keras, no TensorFlow."""

from vocab.normalise import normalise, tokenize
from vocab.stats import VocabStats, caption_stats
from vocab.vocabulary import END, PAD, SPECIALS, START, UNK, Vocabulary, VocabularyError

__all__ = [
    "END", "PAD", "SPECIALS", "START", "UNK",
    "VocabStats", "Vocabulary", "VocabularyError",
    "caption_stats", "normalise", "tokenize",
]
