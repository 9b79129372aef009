"""Caption metrics as the field reports them: BLEU-1..4, METEOR, ROUGE-L and CIDEr-D.

BLEU is nltk's corpus BLEU (uniform weights summing to 1, no special tokens in either side: the two classic
tutorial bugs). ROUGE-L, CIDEr-D and METEOR are pycocoevalcap's scorers, the COCO caption evaluation code. All of
them score the same tokens: references and hypotheses through `PtbTokenizer`, as coco-caption does.

CIDEr-D takes its IDF from the references of the whole set it is given, so it is computed once over a whole
split: averaging it over batches inflates it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from captioner.evaluation.meteor import MeteorUnavailable, meteor_scores
from captioner.evaluation.ptb_tokens import PtbTokenizer

WEIGHTS = [tuple(1.0 / n for _ in range(n)) for n in range(1, 5)]  # (1,), (.5,.5), (1/3,)*3, (.25,)*4
NAMES = {"bleu1": "BLEU-1", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "bleu4": "BLEU-4",
         "meteor": "METEOR", "rouge_l": "ROUGE-L", "cider": "CIDEr-D"}
SPICE_NOTE = "SPICE is not offered: it needs a 385 MB Stanford CoreNLP download at first use"


@dataclass
class Scores:
    corpus: dict[str, float]  # bleu1..bleu4, rouge_l, cider, and meteor unless it was skipped
    per_item: list[dict[str, float]]  # the same order as the hypotheses: bleu4 (smoothed), rouge_l, cider, meteor
    meteor_skipped: str | None = None  # why METEOR is missing, when it is
    tokens: tuple[list[list[str]], list[str]] = field(default=((), ()), repr=False)  # what was scored


def tokenized(references: list[list[str]], hypotheses: list[str]) -> tuple[list[list[str]], list[str]]:
    """Both sides as space-joined PTB tokens, the form every scorer takes."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets for {len(hypotheses)} hypotheses")
    tokenizer = PtbTokenizer()
    return [[tokenizer(r) for r in refs] for refs in references], [tokenizer(h) for h in hypotheses]


def corpus_bleu_scores(references: list[list[str]], hypotheses: list[str]) -> dict[str, float]:
    """{"bleu1": .., "bleu4": ..} in 0..1; references[i] are the raw captions of item i."""
    return bleu_scores(*tokenized(references, hypotheses))


def sentence_bleu4(references: list[str], hypothesis: str) -> float:
    """Smoothed per-item BLEU-4 (Chen & Cherry method 1), for reports; never 0 just for a missing 4-gram."""
    refs, hyps = tokenized([references], [hypothesis])
    return _sentence_bleu4(refs[0], hyps[0])


def score_captions(references: list[list[str]], hypotheses: list[str], meteor: bool = True) -> Scores:
    """Every metric over the whole set at once; `meteor=False` leaves METEOR out (and says so)."""
    refs, hyps = tokenized(references, hypotheses)
    corpus = bleu_scores(refs, hyps)
    per_item = [{"bleu4": _sentence_bleu4(r, h)} for r, h in zip(refs, hyps)]
    skipped = None
    if hyps:
        gts = {i: r for i, r in enumerate(refs)}
        res = {i: [h] for i, h in enumerate(hyps)}
        for name, scorer in (("rouge_l", Rouge()), ("cider", Cider())):
            total, each = scorer.compute_score(gts, res)
            corpus[name] = float(total)
            for item, value in zip(per_item, each):
                item[name] = float(value)
        if meteor:
            try:
                total, each = meteor_scores(refs, hyps)
            except MeteorUnavailable as exc:
                skipped = str(exc)
            else:
                corpus["meteor"] = total
                for item, value in zip(per_item, each):
                    item["meteor"] = value
        else:
            skipped = "left out on request (--no-meteor)"
    else:
        corpus.update(rouge_l=0.0, cider=0.0)
    return Scores(corpus, per_item, skipped, (refs, hyps))


def bleu_scores(refs: list[list[str]], hyps: list[str]) -> dict[str, float]:
    if not hyps:
        return {f"bleu{n}": 0.0 for n in range(1, 5)}
    with warnings.catch_warnings():  # nltk warns when an n-gram order has no match; a 0 score says that already
        warnings.simplefilter("ignore", UserWarning)
        scores = corpus_bleu([[r.split() for r in rs] for rs in refs], [h.split() for h in hyps], weights=WEIGHTS)
    return {f"bleu{n}": float(s) for n, s in enumerate(scores, start=1)}


def _sentence_bleu4(refs: list[str], hyp: str) -> float:
    return float(sentence_bleu([r.split() for r in refs], hyp.split(), weights=WEIGHTS[3],
                               smoothing_function=SmoothingFunction().method1))
