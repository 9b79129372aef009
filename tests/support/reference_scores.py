"""Scores computed independently of captioner's scorers (pycocoevalcap's own classes), and the hand-written
captions in tests/data they are checked on."""

import json
import pathlib

SCORED_CAPTIONS = pathlib.Path(__file__).resolve().parents[1] / "data" / "scored_captions.json"


def fixture_pairs():
    items = json.loads(SCORED_CAPTIONS.read_text())["items"]
    return [i["references"] for i in items], [i["hypothesis"] for i in items]


def coco_scores(refs, hyps):
    """pycocoevalcap's own scorers on already tokenised captions."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts, res = {i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    return {**{f"bleu{n}": b for n, b in enumerate(bleu, 1)}, "rouge_l": Rouge().compute_score(gts, res)[0],
            "cider": Cider().compute_score(gts, res)[0]}


def pycocoevalcap_cider_per_item(refs: list[list[str]], hyps: list[str]):
    from pycocoevalcap.cider.cider_scorer import CiderScorer

    scorer = CiderScorer(n=4, sigma=6.0)
    for r, h in zip(refs, hyps):
        scorer += (h, r)
    return scorer.compute_score()[1]
