"""The one text normaliser: training captions, BLEU references and hypotheses all pass through here."""

import re
import unicodedata

_APOSTROPHES = re.compile(r"['\u2019`]")
# Anything that is not a letter or digit separates words ("tri-colored" -> "tri colored").
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower-case, fold accents, drop punctuation. Short words ("a", "i") are kept on purpose.

    >>> normalise("A dog's  ball, tri-colored!")
    'a dogs ball tri colored'
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def tokenize(text: str) -> list[str]:
    """Normalised words of `text`."""
    return normalise(text).split()
