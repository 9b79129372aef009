"""Greedy BLEU and CIDEr-D on the validation images after every epoch: training curves beside the two losses,
and what `--stop-on cider` stops on."""

from __future__ import annotations

import numpy as np

from captioner.evaluation.cider_d import CiderD
from captioner.evaluation.metrics import bleu_scores
from captioner.evaluation.ptb_tokens import PtbTokenizer
from captioner.search.captioning import Captioner


class ValidationBleu:
    """Call it with the decoder being trained; references are tokenised once, the search compiled once: it
    searches with live weights (every weight is an argument, re-read each epoch), under every backend."""

    def __init__(self, vocab, features: np.ndarray, references: list[list[str]], feature_dtype: str):
        self.vocab, self.features, self.feature_dtype = vocab, features, feature_dtype
        self.tokenizer = PtbTokenizer()
        self.references = [[self.tokenizer(r) for r in refs] for refs in references]
        self.cider = CiderD(self.references)  # document frequencies of the validation references: its corpus CIDEr-D
        self._captioner = None

    def captions(self, decoder) -> list[str]:
        """Greedy captions of the validation images with the decoder's weights as they are now."""
        if self._captioner is None:
            self._captioner = Captioner(decoder, self.vocab, feature_dtype=self.feature_dtype, live_weights=True)
        self._captioner.searcher.reload_weights()
        return self._captioner.best(self.features)

    def __call__(self, decoder) -> dict[str, float]:
        hypotheses = [self.tokenizer(h) for h in self.captions(decoder)]
        scores = bleu_scores(self.references, hypotheses)
        cider = float(np.mean(self.cider.scores(hypotheses, range(len(hypotheses))))) if hypotheses else 0.0
        return {"val_bleu1": round(scores["bleu1"], 4), "val_bleu4": round(scores["bleu4"], 4),
                "val_cider": round(cider, 4)}
