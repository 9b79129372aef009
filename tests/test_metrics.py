"""BLEU by nltk; METEOR, ROUGE-L, CIDEr-D by pycocoevalcap; one PTB tokeniser; checked against coco-caption."""

import collections
import json
import math
import pathlib
import re
import random
import shutil

import numpy as np
import pytest

from captioner.evaluation.metrics import WEIGHTS, bleu_scores, corpus_bleu_scores, score_captions, sentence_bleu4, tokenized
from captioner.evaluation.ptb_tokens import PtbTokenizer

pytestmark = pytest.mark.backend_independent  # nltk and pycocoevalcap on strings: no Keras


def test_weights_are_uniform_and_sum_to_one():
    for n, w in enumerate(WEIGHTS, start=1):
        assert len(w) == n and sum(w) == pytest.approx(1.0) and len(set(w)) == 1


def test_bleu_matches_hand_computed_values():
    # hyp "the cat sat on the mat" vs ref "the cat is on the mat", same length (brevity penalty 1):
    # clipped 1-gram 5/6, 2-gram 3/5, 3-gram 1/4, 4-gram 0/3.
    scores = corpus_bleu_scores([["The cat is on the mat."]], ["the cat sat on the mat"])
    assert scores["bleu1"] == pytest.approx(5 / 6)
    assert scores["bleu2"] == pytest.approx((5 / 6 * 3 / 5) ** 0.5)
    assert scores["bleu3"] == pytest.approx((5 / 6 * 3 / 5 * 1 / 4) ** (1 / 3))
    assert scores["bleu4"] < 1e-6


def test_references_and_hypotheses_share_the_tokeniser():
    scores = corpus_bleu_scores([["A dog runs on the grass ."]], ["a dog runs on the grass"])
    assert all(scores[f"bleu{n}"] == pytest.approx(1.0) for n in range(1, 5))


def test_brevity_penalty_and_multiple_references():
    # hyp of 3 words; closest reference length 3 -> no penalty; "a dog runs" matches the second reference.
    scores = corpus_bleu_scores([["a cat sleeps on a mat", "a dog runs"]], ["a dog runs"])
    assert scores["bleu1"] == pytest.approx(1.0)
    short = corpus_bleu_scores([["a dog runs on the grass"]], ["a dog runs"])  # 3 vs 6 words
    assert short["bleu1"] == pytest.approx(2.718281828 ** (1 - 6 / 3))


def test_sentence_bleu_is_smoothed():
    assert 0 < sentence_bleu4(["the cat is on the mat"], "the cat sat on the mat") < 0.5
    assert sentence_bleu4(["a dog runs on the grass"], "a dog runs on the grass") == pytest.approx(1.0)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="^1 reference sets for 0 hypotheses$"):
        corpus_bleu_scores([["a"]], [])


# --- every metric, the way coco-caption computes it ---------------------------------------------------------

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime (METEOR, PTB tokenizer)")


def flickr_pairs(shared_data, count):
    """(references, hypotheses) from real Flickr8k captions: each image's first caption scored against the rest."""
    captions = collections.defaultdict(list)
    with open(shared_data / "flickr8k_text" / "Flickr8k.token.txt", encoding="utf-8") as f:
        for line in f:
            key, caption = line.rstrip("\n").split("\t", 1)
            captions[key.split("#")[0]].append(caption)
    keys = sorted(captions)[:count]
    return [captions[k][1:] for k in keys], [captions[k][0] for k in keys]


def test_ptb_tokens_split_and_drop_punctuation_as_coco_caption_does():
    tok = PtbTokenizer()
    assert tok.tokens("A dog's ball (red), isn't it?") == ["a", "dog", "'s", "ball", "-lrb-", "red", "-rrb-",
                                                           "is", "n't", "it"]
    assert tok('  Two  "big" dogs ... run -- fast ; ') == "two big dogs run fast"


@needs_java
def test_python_tokens_match_the_java_ptb_tokenizer(shared_data):
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    references, hypotheses = flickr_pairs(shared_data, 1000)
    texts = [c for refs in references for c in refs] + hypotheses
    java = PTBTokenizer().tokenize({i: [{"caption": t}] for i, t in enumerate(texts)})
    tok = PtbTokenizer()
    same = sum(java[i][0] == tok(t) for i, t in enumerate(texts))
    assert same / len(texts) > 0.999  # 5,000 real captions; measured 99.98% on all 40,460


def coco_scores(refs, hyps):
    """pycocoevalcap's own scorers on already tokenised captions."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge

    gts, res = {i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    return {**{f"bleu{n}": b for n, b in enumerate(bleu, 1)}, "rouge_l": Rouge().compute_score(gts, res)[0],
            "cider": Cider().compute_score(gts, res)[0]}


def test_nltk_bleu_rouge_and_cider_equal_pycocoevalcap_on_the_same_tokens(shared_data):
    references, hypotheses = flickr_pairs(shared_data, 500)
    scores = score_captions(references, hypotheses, meteor=False)
    theirs = coco_scores(*scores.tokens)
    for name in ("bleu1", "bleu2", "bleu3", "bleu4"):
        assert round(scores.corpus[name], 4) == round(theirs[name], 4), name  # nltk vs coco BLEU: 4 decimals
    assert scores.corpus["cider"] == pytest.approx(theirs["cider"], abs=1e-12)
    assert scores.corpus["rouge_l"] == pytest.approx(theirs["rouge_l"], abs=1e-12)
    assert scores.meteor_skipped and "meteor" not in scores.corpus


@needs_java
def test_every_metric_matches_coco_caption_with_its_java_tokenizer(shared_data):
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    references, hypotheses = flickr_pairs(shared_data, 1000)
    ours = score_captions(references, hypotheses, meteor=False).corpus
    tok = PTBTokenizer()
    refs = tok.tokenize({i: [{"caption": c} for c in r] for i, r in enumerate(references)})
    hyps = tok.tokenize({i: [{"caption": h}] for i, h in enumerate(hypotheses)})
    theirs = coco_scores([refs[i] for i in range(len(references))], [hyps[i][0] for i in range(len(hypotheses))])
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, abs=5e-4), name


def test_cider_d_is_computed_once_over_the_whole_split_not_averaged_over_batches(shared_data):
    references, hypotheses = flickr_pairs(shared_data, 400)
    whole = score_captions(references, hypotheses, meteor=False)
    assert whole.corpus["cider"] == pytest.approx(coco_scores(*whole.tokens)["cider"], abs=1e-12)
    assert whole.corpus["cider"] == pytest.approx(sum(i["cider"] for i in whole.per_item) / 400)
    batches = [score_captions(references[i:i + 50], hypotheses[i:i + 50], meteor=False).corpus["cider"]
               for i in range(0, 400, 50)]
    assert sum(batches) / len(batches) > whole.corpus["cider"] + 0.02  # IDF from small batches inflates it


def test_text_reaching_the_meteor_jar_cannot_break_its_protocol():
    from captioner.evaluation.meteor import _clean

    # "|||" separates fields and a newline ends a request in the jar's protocol (METEOR itself runs in
    # tests/test_cli_model.py, through `evaluate`, wherever Java is present: one JVM start per suite).
    assert _clean("a cat ||| sits\n on  a mat") == "a cat sits on a mat"


def test_without_java_meteor_is_skipped_with_a_reason_and_the_rest_is_scored(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on PATH
    scores = score_captions([["a dog runs on the grass"]], ["a dog runs on grass"])
    assert "no Java runtime" in scores.meteor_skipped and "meteor" not in scores.corpus
    assert {"bleu4", "rouge_l", "cider"} <= set(scores.corpus)


def test_empty_hypotheses_score_zero_not_crash():
    refs, hyps = tokenized([["a dog runs"], ["a cat"]], ["", "a cat"])
    assert hyps == ["", "a cat"]
    scores = score_captions([["a dog runs"], ["a cat"]], ["", "a cat"], meteor=False)
    assert scores.per_item[0]["cider"] == 0 and scores.per_item[0]["rouge_l"] == 0
    assert bleu_scores(refs, hyps)["bleu1"] > 0


def _pycocoevalcap_cider_per_item(refs: list[list[str]], hyps: list[str]):
    from pycocoevalcap.cider.cider_scorer import CiderScorer

    scorer = CiderScorer(n=4, sigma=6.0)
    for r, h in zip(refs, hyps):
        scorer += (h, r)
    return scorer.compute_score()[1]


def test_the_cider_d_reward_equals_pycocoevalcap_for_every_sample(shared_data):
    from captioner.evaluation.cider_d import CiderD

    references, hypotheses = flickr_pairs(shared_data, 300)
    refs, hyps = tokenized(references, hypotheses)
    reward = CiderD(refs)
    rng = random.Random(0)
    words = sorted({w for r in refs for c in r for w in c.split()}) + ["zzz-unseen"]
    # K = 3 samples per image: a real caption of another image, word salad (with a word no reference has), empty
    samples = [hyps, [" ".join(rng.choices(words, k=rng.randint(1, 14))) for _ in refs], [""] * len(refs)]
    for sample in samples:
        theirs = _pycocoevalcap_cider_per_item(refs, sample)  # document frequencies from the same references
        ours = reward.scores(sample, range(len(refs)))
        assert np.max(np.abs(ours - theirs)) < 1e-6
    shuffled = rng.sample(range(len(refs)), len(refs))
    ours = reward.scores([hyps[i] for i in shuffled], shuffled)  # any order, any image per sample
    assert np.allclose(ours, reward.scores(hyps, range(len(refs)))[shuffled], atol=1e-12)


# --- the same checks on captions that live in tests/ (they run without ../shared) ----------------------------

DATA = pathlib.Path(__file__).parent / "data" / "scored_captions.json"


def fixture_pairs():
    items = json.loads(DATA.read_text())["items"]
    return [i["references"] for i in items], [i["hypothesis"] for i in items]


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
        theirs = _pycocoevalcap_cider_per_item(refs, sample)
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
