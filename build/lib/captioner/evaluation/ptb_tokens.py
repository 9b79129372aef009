"""The metric tokeniser: what coco-caption's PTBTokenizer (Stanford CoreNLP, Java) does, in Python.

Penn Treebank word splitting ("dog's" -> "dog 's", "(" -> "-lrb-"), lower case, then the punctuation tokens
coco-caption drops. Every metric (BLEU, METEOR, ROUGE-L, CIDEr-D) scores these tokens, references and hypotheses
alike, so our numbers are computed the way the papers compute theirs.
"""

from __future__ import annotations

from nltk.tokenize import TreebankWordTokenizer

# coco-caption's pycocoevalcap/tokenizer/ptbtokenizer.py drops exactly these tokens.
PUNCTUATION = frozenset(["''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-",
                         ".", "?", "!", ",", ":", "-", "--", "...", ";"])


class PtbTokenizer:
    """One tokenizer object per evaluation (nltk compiles its regular expressions per instance)."""

    def __init__(self):
        self._treebank = TreebankWordTokenizer()

    def tokens(self, text: str) -> list[str]:
        # Lower-cased after splitting, as CoreNLP's -lowerCase does: its "-LRB-" becomes "-lrb-", which the
        # punctuation list (upper case) then keeps. A quirk of the reference code, matched on purpose.
        words = self._treebank.tokenize(" ".join(text.split()), convert_parentheses=True)
        return [w for w in (w.lower() for w in words) if w not in PUNCTUATION]

    def __call__(self, text: str) -> str:
        """The tokens joined by single spaces: the form pycocoevalcap's scorers take."""
        return " ".join(self.tokens(text))
