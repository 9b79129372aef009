"""Search with a fake step model: readable token tables instead of a trained network (as keras-hub tests)."""

import numpy as np
import pytest

from captioner.search import END, PAD, Searcher, SearchSettings, score

# Token ids: 0 <pad>, 1 <start>, 2 <end>, 3 <unk>, then words.
WORDS = ["<pad>", "<start>", "<end>", "<unk>", "a", "b", "c", "d"]
A, B, C, D = 4, 5, 6, 7


class TableStep:
    """Next-token distribution depends only on the previous token: table[prev] = probabilities."""

    def __init__(self, table):
        self.table = np.log(np.asarray(table, dtype=np.float32) + 1e-12)

    def initial_state(self, features):
        from captioner.search import ops

        return (ops.zeros((ops.shape(features)[0], 1)),)

    def step(self, tokens, state):
        from captioner.search import ops

        return ops.take(ops.convert_to_tensor(self.table), tokens, axis=0), state


def table(rows):
    t = np.full((len(WORDS), len(WORDS)), 1e-6)
    for prev, probs in rows.items():
        t[prev] = 1e-6
        for tok, p in probs.items():
            t[prev, tok] = p
    return t


def text(tokens):
    out = []
    for t in tokens[1:]:
        if t == END:
            break
        out.append(WORDS[t])
    return " ".join(out)


FEATURES = np.zeros((2, 3), np.float32)


def test_greedy_follows_the_most_likely_token_and_stops_at_end():
    step = TableStep(table({1: {A: 0.9, B: 0.1}, A: {C: 0.8, END: 0.2}, C: {END: 1.0}}))
    results = Searcher(step, max_length=6)(FEATURES)
    assert [text(r[0][0]) for r in results] == ["a c", "a c"]
    assert results[0][0][0][4] == PAD  # nothing after <end>
    assert results[0][0][1] == pytest.approx(np.log(0.9 * 0.8 * 1.0), abs=1e-3)


def test_max_length_cuts_a_caption_that_never_ends():
    step = TableStep(table({1: {A: 1.0}, A: {A: 1.0}}))
    (best,), _ = Searcher(step, max_length=4)(FEATURES)
    assert text(best[0]) == "a a a a" and len(best[0]) == 6  # <start> + 4 words + room for <end>


def test_specials_are_never_generated():
    step = TableStep(table({1: {3: 0.7, 0: 0.2, A: 0.1}, A: {END: 1.0}}))
    for beam in (1, 3):
        (best,), _ = Searcher(step, 5, SearchSettings(beam_size=beam))(FEATURES)
        assert text(best[0]) == "a"


def test_beam_beats_greedy_where_greedy_is_wrong():
    # Greedy takes "a" (0.6) but every continuation of "a" is weak (0.35 max); "b" ends with certainty.
    step = TableStep(table({1: {A: 0.6, B: 0.4}, A: {C: 0.35, D: 0.3, END: 0.25, B: 0.1}, B: {END: 1.0},
                            C: {END: 1.0}, D: {END: 1.0}}))
    greedy = Searcher(step, 5)(FEATURES)[0][0]
    beam = Searcher(step, 5, SearchSettings(beam_size=3))(FEATURES)[0][0]
    assert text(greedy[0]) == "a c" and text(beam[0]) == "b"
    assert beam[1] >= greedy[1]
    assert beam[1] == pytest.approx(np.log(0.4), abs=1e-3)


def test_finished_beams_keep_their_score_and_do_not_grow():
    # "a <end>" finishes at step 2 with p=0.5; the longer alternatives keep losing probability.
    step = TableStep(table({1: {A: 1.0}, A: {END: 0.5, B: 0.5}, B: {END: 0.5, C: 0.5}, C: {END: 0.5, D: 0.5},
                            D: {END: 1.0}}))
    results = Searcher(step, 6, SearchSettings(beam_size=3, num_captions=3))(FEATURES)[0]
    texts = [text(t) for t, _ in results]
    assert texts == ["a", "a b", "a b c"]
    np.testing.assert_allclose([s for _, s in results], np.log([0.5, 0.25, 0.125]), atol=1e-3)
    assert list(results[0][0][3:]) == [PAD] * (len(results[0][0]) - 3)


def test_length_penalty_prefers_longer_captions():
    step = TableStep(table({1: {A: 1.0}, A: {END: 0.55, B: 0.45}, B: {C: 1.0}, C: {END: 1.0}}))
    plain = Searcher(step, 6, SearchSettings(beam_size=3))(FEATURES)[0][0]
    normalised = Searcher(step, 6, SearchSettings(beam_size=3, length_penalty=1.0))(FEATURES)[0][0]
    assert text(plain[0]) == "a"  # log 0.55 > log 0.45
    assert text(normalised[0]) == "a b c"  # log 0.45 / 4 > log 0.55 / 2
    assert normalised[1] == pytest.approx(np.log(0.45), abs=1e-3)  # the score stays the raw log-probability


def test_score_matches_search():
    step = TableStep(table({1: {A: 0.9, B: 0.1}, A: {C: 0.8, END: 0.2}, C: {END: 1.0}}))
    tokens = np.array([[1, A, C, END, PAD, PAD], [1, B, END, PAD, PAD, PAD]])
    np.testing.assert_allclose(score(step, FEATURES, tokens), np.log([0.72, 0.1 * 0.2]), atol=1e-3)  # B's row is uniform over 5 allowed tokens
