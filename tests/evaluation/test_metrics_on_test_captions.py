"""Every scorer against values computed independently (nltk and pycocoevalcap called directly, the METEOR jar run
on plain files, hand-worked examples) on captions kept in tests/data: they run without ../shared."""

import math
import pathlib
import re
import shutil

import numpy as np
import pytest

from captioner.evaluation.metrics import score_captions, tokenized
from tests.support.reference_scores import coco_scores, fixture_pairs, pycocoevalcap_cider_per_item

pytestmark = pytest.mark.backend_independent  # nltk, pycocoevalcap and Java on strings: no Keras

def test_bleu_equals_nltk_and_pycocoevalcap_on_the_test_captions():
    from nltk.translate.bleu_score import corpus_bleu

    references, hypotheses = fixture_pairs()
    scores = score_captions(references, hypotheses, meteor=False)
    refs, hyps = scores.tokens
    for n in range(1, 5):  # nltk called directly, with its own weights for each order
        theirs = corpus_bleu([[r.split() for r in rs] for rs in refs], [h.split() for h in hyps],
                             weights=tuple([1.0 / n] * n))
        assert scores.corpus[f"bleu{n}"] == pytest.approx(theirs, abs=1e-12), n
    # coco-caption's BLEU: the same numbers where every hypothesis has an n-gram of each order. (For a shorter
    # one nltk counts 1 in the precision's denominator, max(1, count), where coco-caption counts 0: the empty
    # hypothesis and "people" here move nltk's BLEU-1..4 below coco-caption's by up to 0.01.)
    long = [i for i, h in enumerate(hyps) if len(h.split()) >= 4]
    ours = score_captions([references[i] for i in long], [hypotheses[i] for i in long], meteor=False).corpus
    coco = coco_scores([refs[i] for i in long], [hyps[i] for i in long])
    for n in range(1, 5):
        assert ours[f"bleu{n}"] == pytest.approx(coco[f"bleu{n}"], abs=1e-8), n
    assert scores.corpus["bleu1"] < ours["bleu1"]
    assert 0.2 < scores.corpus["bleu4"] < scores.corpus["bleu3"] < scores.corpus["bleu2"] < scores.corpus["bleu1"] < 1


def test_rouge_l_and_cider_d_equal_pycocoevalcap_per_item_on_the_test_captions():
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    references, hypotheses = fixture_pairs()
    scores = score_captions(references, hypotheses, meteor=False)
    refs, hyps = scores.tokens
    gts, res = {i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)}
    for name, scorer in (("rouge_l", Rouge()), ("cider", Cider())):
        total, each = scorer.compute_score(gts, res)
        assert scores.corpus[name] == pytest.approx(total, abs=1e-12), name
        assert [i[name] for i in scores.per_item] == pytest.approx(list(each), abs=1e-12), name
    perfect = hypotheses.index("a girl in a pink dress dances")
    assert scores.per_item[perfect]["rouge_l"] == pytest.approx(1.0)
    assert scores.per_item[hypotheses.index("")]["cider"] == 0.0


def test_rouge_l_on_a_hand_worked_example():
    """LCS with each reference, precision and recall maximised over references separately (coco-caption's
    rule), then F with beta 1.2: hyp "a c d e f"; ref 1 "a b c d": LCS 3, P 3/5, R 3/4; ref 2 "a c": LCS 2,
    P 2/5, R 1. P = 0.6, R = 1: F = (1 + 1.44) * 0.6 * 1 / (1 + 1.44 * 0.6) = 0.785408..."""
    scores = score_captions([["a b c d", "a c"]], ["a c d e f"], meteor=False)
    assert scores.corpus["rouge_l"] == pytest.approx(2.44 * 0.6 / (1 + 1.44 * 0.6), abs=1e-9)
    one = score_captions([["a b c d"]], ["a c d e f"], meteor=False)  # P 0.6, R 0.75
    assert one.corpus["rouge_l"] == pytest.approx(2.44 * 0.6 * 0.75 / (0.75 + 1.44 * 0.6), abs=1e-9)


def _hand_cider(clipped: bool = True) -> float:
    """Two images, "a b" and "c d" (one reference each): every n-gram's idf is log 2 (df 1 of N 2, or df 0).
    Hypothesis "a a b" for image 0. n = 1: hyp {a: 2L, b: L}, ref {a: L, b: L}; numerator min(2L, L) L + L L = 2L^2
    (unclipped 3L^2), norms sqrt(5) L and sqrt(2) L: 2 / sqrt(10). n = 2: hyp {aa: L, ab: L}, ref {ab: L}:
    L^2 / (sqrt(2) L L) = 1 / sqrt(2). n = 3, 4: the reference has none: 0. Lengths (bigram counts) 2 and 1:
    penalty exp(-1 / 72). Mean over n = 1..4, times 10."""
    first = (2.0 if clipped else 3.0) / math.sqrt(10)
    return (first + 1 / math.sqrt(2)) * math.exp(-1 / 72) / 4 * 10


def test_cider_d_clipping_and_length_penalty_on_a_hand_worked_example():
    from captioner.evaluation.cider_d import CiderD

    reward = CiderD([["a b"], ["c d"]])
    assert reward.score("a a b".split(), 0) == pytest.approx(_hand_cider(), abs=1e-12)
    assert reward.score("a b".split(), 0) == pytest.approx(5.0, abs=1e-12)  # n = 1, 2 cosine 1; penalty 1
    assert reward.score("c d".split(), 0) == 0.0
    assert _hand_cider(clipped=False) > _hand_cider() + 0.5  # the example tells clipping apart
    # coco-caption's scorer on the same two images (image 1's hypothesis "c d" scores 5.0 there too)
    scores = score_captions([["a b"], ["c d"]], ["a a b", "c d"], meteor=False)
    assert [i["cider"] for i in scores.per_item] == pytest.approx([_hand_cider(), 5.0], abs=1e-12)


def test_the_cider_d_reward_equals_pycocoevalcap_on_the_test_captions():
    from captioner.evaluation.cider_d import CiderD

    references, hypotheses = fixture_pairs()
    refs, hyps = tokenized(references, hypotheses)
    reward = CiderD(refs)
    samples = [hyps, hyps[1:] + hyps[:1], [" ".join(reversed(h.split())) for h in hyps]]  # right, wrong image, reversed
    for sample in samples:
        theirs = pycocoevalcap_cider_per_item(refs, sample)
        np.testing.assert_allclose(reward.scores(sample, range(len(refs))), theirs, atol=1e-9)


def test_meteor_equals_the_meteor_jar_run_directly_on_the_test_captions(tmp_path):  # two JVMs, ~25 s
    """The METEOR 1.5 jar on plain files (its own command line: one hypothesis a line, four references a
    segment, -norm as coco-caption runs it) against our METEOR, which talks to the jar's -stdio protocol."""
    import subprocess

    from pycocoevalcap.meteor import meteor as meteor_module

    if shutil.which("java") is None:
        pytest.skip("no Java runtime: METEOR cannot run")
    references, hypotheses = fixture_pairs()
    keep = [i for i, h in enumerate(hypotheses) if h]  # the jar's file reader takes no empty line as a segment
    scores = score_captions([references[i] for i in keep], [hypotheses[i] for i in keep])
    refs, hyps = scores.tokens
    (tmp_path / "hyp.txt").write_text("".join(h + "\n" for h in hyps))
    (tmp_path / "refs.txt").write_text("".join(r + "\n" for rs in refs for r in rs))
    jar = pathlib.Path(meteor_module.__file__).parent / "meteor-1.5.jar"
    out = subprocess.run(["java", "-Xmx2G", "-jar", str(jar), str(tmp_path / "hyp.txt"), str(tmp_path / "refs.txt"),
                          "-l", "en", "-norm", "-r", "4"], capture_output=True, text=True, check=True,
                         cwd=jar.parent).stdout
    segments = [float(m) for m in re.findall(r"^Segment \d+ score:\s+(\S+)$", out, re.MULTILINE)]
    final = float(re.search(r"^Final score:\s+(\S+)$", out, re.MULTILINE).group(1))
    assert len(segments) == len(hyps)
    assert [i["meteor"] for i in scores.per_item] == pytest.approx(segments, abs=1e-9)
    assert scores.corpus["meteor"] == pytest.approx(final, abs=1e-9) and scores.meteor_skipped is None


def test_per_item_bleu4_is_smoothed_sentence_bleu_and_an_empty_set_scores_zero():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    references, hypotheses = fixture_pairs()
    scores = score_captions(references, hypotheses, meteor=False)
    refs, hyps = scores.tokens
    smooth = SmoothingFunction().method1
    expected = [sentence_bleu([r.split() for r in rs], h.split(), smoothing_function=smooth) for rs, h in zip(refs, hyps)]
    assert [item["bleu4"] for item in scores.per_item] == pytest.approx(expected, abs=1e-12)
    assert scores.per_item[hypotheses.index("people")]["bleu4"] > 0  # no 4-gram, yet not 0: smoothed
    assert scores.meteor_skipped == "left out on request (--no-meteor)"
    empty = score_captions([], [], meteor=False)
    assert empty.corpus == {"bleu1": 0.0, "bleu2": 0.0, "bleu3": 0.0, "bleu4": 0.0, "rouge_l": 0.0, "cider": 0.0}
    assert empty.per_item == []
