import pytest

from captioner.metrics import WEIGHTS, corpus_bleu_scores, sentence_bleu4


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


def test_references_and_hypotheses_share_the_normaliser():
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
    with pytest.raises(ValueError):
        corpus_bleu_scores([["a"]], [])
