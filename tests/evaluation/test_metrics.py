"""BLEU by nltk; METEOR, ROUGE-L, CIDEr-D by pycocoevalcap; one PTB tokeniser; checked against coco-caption."""

import collections
import random
import shutil

import numpy as np
import pytest

from captioner.evaluation.metrics import WEIGHTS, bleu_scores, corpus_bleu_scores, score_captions, sentence_bleu4, tokenized
from captioner.evaluation.ptb_tokens import PtbTokenizer
from tests.support.reference_scores import coco_scores, pycocoevalcap_cider_per_item

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
    # tests/commands/test_cli_model.py, through `evaluate`, wherever Java is present: one JVM start per suite).
    assert _clean("a cat ||| sits\n on  a mat") == "a cat sits on a mat"


def test_without_java_meteor_is_skipped_with_a_reason_and_the_rest_is_scored(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no java on PATH
    scores = score_captions([["a dog runs on the grass"]], ["a dog runs on grass"])
    assert scores.meteor_skipped == ("no Java runtime on PATH (METEOR 1.5 is a Java program; install one, e.g. "
                                     "apt-get install default-jre-headless)") and "meteor" not in scores.corpus
    assert {"bleu4", "rouge_l", "cider"} <= set(scores.corpus)


class DyingJar:
    """pycocoevalcap's METEOR wrapper whose JVM dies mid-request: it raises `error` after writing `stderr`; what
    is done to the process is recorded in `ended` (a fresh list per test: the `dying_jar` fixture)."""

    stderr = b"Exception in thread main\n\tat edu.cmu.meteor.Meteor\nOutOfMemoryError: caf\xe9\n"
    error = ValueError("could not convert string to float: ''")
    ended: list[str] = []

    def __init__(self):
        import io
        import threading
        from types import SimpleNamespace

        ended = self.ended
        stdin = SimpleNamespace(closed=False, close=lambda: ended.append("stdin closed"))
        self.meteor_p = SimpleNamespace(stdin=stdin, stderr=io.BytesIO(self.stderr),
                                        kill=lambda: ended.append("killed"), wait=lambda: ended.append("waited"))
        self.lock = threading.Lock()

    def compute_score(self, gts, res):
        self.lock.acquire()  # as the wrapper does for a request; left held when the JVM dies
        raise self.error


@pytest.fixture
def dying_jar(monkeypatch):
    import pycocoevalcap.meteor.meteor as jar

    from captioner.evaluation import meteor

    monkeypatch.setattr(DyingJar, "ended", [])
    monkeypatch.setattr(meteor.shutil, "which", lambda name: "/usr/bin/java")
    monkeypatch.setattr(jar, "Meteor", DyingJar)
    return DyingJar


def test_a_failing_meteor_jar_is_skipped_with_its_last_error_line_and_its_jvm_ended(dying_jar, monkeypatch):
    """The jar replaced by one whose JVM dies mid-request (found by the mutation run: only a missing Java was
    tried): the reason is the last line it wrote on stderr (bytes that are not UTF-8 replaced), and the process is
    killed with its stdin closed."""
    from captioner.evaluation import meteor

    scores = score_captions([["a dog runs"]], ["a dog runs"])
    assert scores.meteor_skipped == "the METEOR jar failed: OutOfMemoryError: caf\ufffd"
    assert "meteor" not in scores.corpus
    assert dying_jar.ended == ["killed", "stdin closed", "killed", "waited"]
    dying_jar.ended.clear()
    monkeypatch.setattr(dying_jar, "compute_score", lambda self, gts, res: (0.5, [0.5]))
    without_stdin = dying_jar()
    without_stdin.meteor_p.stdin = None  # a JVM whose stdin was never opened: ended all the same
    meteor._stop(without_stdin)
    assert dying_jar.ended == ["killed", "waited"] and not without_stdin.lock.locked()


@pytest.mark.parametrize("error,reason", [(ValueError("could not convert string to float: ''"),
                                           "could not convert string to float: ''"),
                                          (BrokenPipeError(), "BrokenPipeError")])
def test_a_meteor_jar_that_dies_silently_is_skipped_with_the_python_error(dying_jar, monkeypatch, error, reason):
    """Nothing on stderr: the reason is the exception's message, or its type where it has none."""
    monkeypatch.setattr(dying_jar, "stderr", b"")
    monkeypatch.setattr(dying_jar, "error", error)
    scores = score_captions([["a dog runs"]], ["a dog runs"])
    assert scores.meteor_skipped == f"the METEOR jar failed: {reason}" and "killed" in dying_jar.ended


def test_empty_hypotheses_score_zero_not_crash():
    refs, hyps = tokenized([["a dog runs"], ["a cat"]], ["", "a cat"])
    assert hyps == ["", "a cat"]
    scores = score_captions([["a dog runs"], ["a cat"]], ["", "a cat"], meteor=False)
    assert scores.per_item[0]["cider"] == 0 and scores.per_item[0]["rouge_l"] == 0
    assert bleu_scores(refs, hyps)["bleu1"] > 0


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
        theirs = pycocoevalcap_cider_per_item(refs, sample)  # document frequencies from the same references
        ours = reward.scores(sample, range(len(refs)))
        assert np.max(np.abs(ours - theirs)) < 1e-6
    shuffled = rng.sample(range(len(refs)), len(refs))
    ours = reward.scores([hyps[i] for i in shuffled], shuffled)  # any order, any image per sample
    assert np.allclose(ours, reward.scores(hyps, range(len(refs)))[shuffled], atol=1e-12)

