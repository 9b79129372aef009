"""Search with a fake step model: readable token tables instead of a trained network (as keras-hub tests). The
same loops against keras-nlp's samplers: test_search_against_keras_nlp.py."""

import numpy as np
import pytest

from captioner.search.search_tokens import END, PAD
from captioner.search.searcher import Searcher, SearchSettings
from tests.support.step_tables import A, B, C, D, WORDS, TableStep, score, table


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


class StepOnly:
    """A decoder seen only through `initial_state` and `step`: the search's generic path (no search tables)."""

    def __init__(self, decoder):
        self.initial_state, self.step = decoder.initial_state, decoder.step


@pytest.mark.parametrize("beam_size", [1, 3])
def test_decoder_search_tables_give_the_generic_steps_captions(beam_size):
    """The decoder's tables (token gates, classifier + biases in one product, vocabulary padded to whole chunks)
    against its plain `step`, at a vocabulary large enough for the chunked beam ranking."""
    from captioner.models.decoder import DecoderConfig, build_decoder
    from captioner.search.beam_search import chunked

    decoder = build_decoder(DecoderConfig(vocab_size=401, max_length=6, units=32, embed_dim=16))
    assert chunked(401, 3)
    rng = np.random.default_rng(0)
    decoder.classifier.bias.assign(rng.standard_normal(401).astype(np.float32))  # zeros when built
    features = rng.standard_normal((4, 4096)).astype(np.float32)
    settings = SearchSettings(beam_size=beam_size, num_captions=beam_size)
    fast, plain = Searcher(decoder, 6, settings)(features), Searcher(StepOnly(decoder), 6, settings)(features)
    for a, b in zip(fast, plain):
        assert [list(t) for t, _ in a] == [list(t) for t, _ in b]
        np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-4)


def test_greedy_log_probabilities_come_from_the_search_itself():
    step = TableStep(table({1: {A: 0.9, B: 0.1}, A: {C: 0.8, END: 0.2}, C: {END: 1.0}}))
    (best,), _ = Searcher(step, 6)(FEATURES)
    assert best[1] == pytest.approx(float(score(step, FEATURES[:1], best[0][None])[0]), abs=1e-4)
    (unscored,), _ = Searcher(step, 6)(FEATURES, scores=False)
    assert list(unscored[0]) == list(best[0]) and np.isnan(unscored[1])


def test_best_continuations_are_exact():
    """The chunked ranking against all K * V candidates of each image, ranked in numpy."""
    from captioner.search.beam_search import best_continuations
    from captioner.search.searcher import ops

    rng = np.random.default_rng(0)
    k = 5
    for vocab in (3000, 3001, 700, 36, 7):
        logits = rng.standard_normal((4 * k, vocab)).astype(np.float32)
        logits[:k, :] = 0.0  # ties
        log_probs = rng.standard_normal(4 * k).astype(np.float32) * 3
        log_probs[k + 1:2 * k] = -1e9  # image 1: one beam far ahead of the others
        done = np.zeros(4 * k, bool)
        done[2 * k:2 * k + 3] = True  # image 2: three finished beams
        done[3 * k:] = True  # image 3: all finished
        scores, beams, tokens = (np.asarray(x) for x in best_continuations(
            ops.convert_to_tensor(logits), ops.convert_to_tensor(log_probs), ops.convert_to_tensor(done), k))
        norm = np.log(np.exp(logits.astype(np.float64)).sum(1, keepdims=True))
        cand = np.where(done[:, None], -np.inf, log_probs[:, None] + logits - norm)
        cand[done, PAD] = log_probs[done]
        cand = cand.reshape(4, k * vocab)
        for image in range(4):
            best = np.sort(cand[image])[::-1][:k]
            np.testing.assert_allclose(np.sort(scores[image])[::-1], best, rtol=1e-5, atol=1e-5)
            picked = cand[image, beams[image] * vocab + tokens[image]]
            np.testing.assert_allclose(picked, scores[image], rtol=1e-5, atol=1e-5)
            assert len(set(zip(beams[image], tokens[image]))) == k and (tokens[image] < vocab).all()
        # The first step: one row per image, K continuations of it.
        scores, beams, tokens = (np.asarray(x) for x in best_continuations(
            ops.convert_to_tensor(logits[::k]), ops.zeros((4,)), ops.zeros((4,)) > 0, k, per_image=1))
        best = np.sort(logits[::k] - norm[::k], axis=1)[:, ::-1][:, :k]
        np.testing.assert_allclose(np.sort(scores, 1)[:, ::-1], best, rtol=1e-5, atol=1e-5)
        assert (beams == 0).all() and all(len(set(row)) == k for row in tokens)


def test_first_argmax_is_numpys_argmax():
    from captioner.search.greedy_search import first_argmax
    from captioner.search.searcher import ops

    rng = np.random.default_rng(1)
    for vocab in (3008, 3000, 200, 36):
        x = rng.standard_normal((16, vocab)).astype(np.float32)
        x[0, :] = 1.0  # ties everywhere: the first index
        x[1, [min(40, vocab - 3), vocab - 2, vocab - 1]] = 9.0  # ties (across and within chunks)
        x[2, -1] = 9.0  # the last column
        top, ids = (np.asarray(a) for a in first_argmax(ops.convert_to_tensor(x)))
        np.testing.assert_array_equal(ids, np.argmax(x, axis=1))
        np.testing.assert_array_equal(top[:, 0], x.max(axis=1))


def test_logits_are_padded_to_whole_chunks_only_where_the_beam_ranks_by_chunks():
    """Found by the mutation run: the padding rule was only exercised, not stated."""
    from captioner.search.beam_search import CHUNK, chunked, vocab_width

    assert CHUNK == 32 and chunked(3001, 3) and not chunked(40, 3)
    assert vocab_width(3001, 3) == 3008  # 94 whole chunks
    assert vocab_width(3008, 3) == 3008  # already whole
    assert vocab_width(40, 3) == 40  # ranked all at once: no padding


# --- what the mutation run found ---------------------------------------------------------------------------------------
def test_ranking_by_chunks_can_choose_the_last_token_of_the_vocabulary():
    """Beam 0's best word is the vocabulary's last (id 399 of 400), beam 1's the one before it: ranked by chunks
    (400 >= 4 * 3 * 32), each is chosen with its own log-probability."""
    from captioner.search.beam_search import best_continuations, chunked

    logits = np.zeros((3, 400), np.float32)
    logits[0, 399], logits[1, 398], logits[2, 0] = 10.0, 9.0, 8.0
    scores, beams, tokens = (np.asarray(x) for x in best_continuations(
        logits, np.zeros(3, np.float32), np.zeros(3, bool), 3))
    order = np.argsort(-scores[0])
    assert chunked(400, 3) and beams[0, order].tolist() == [0, 1, 2] and tokens[0, order].tolist() == [399, 398, 0]
    expected = [v - np.log(399 + np.exp(v)) for v in (10.0, 9.0, 8.0)]
    np.testing.assert_allclose(scores[0, order], expected, atol=2e-6)


class ImageTableStep:
    """A next-token table per image: the state carries the image's number (its feature), so a beam search that
    reorders beams must carry each image's state with its own beams."""

    def __init__(self, tables):
        stacked = np.log(np.asarray(tables, dtype=np.float32) + 1e-12)  # (images, V, V)
        self.vocab = stacked.shape[1]
        self.flat = stacked.reshape(-1, self.vocab)

    def initial_state(self, features):
        from captioner.search.searcher import ops

        return (ops.cast(ops.convert_to_tensor(features)[:, :1], "int32"),)

    def step(self, tokens, state):
        from captioner.search.searcher import ops

        rows = state[0][:, 0] * self.vocab + ops.cast(tokens, "int32")
        return ops.take(ops.convert_to_tensor(self.flat), rows, axis=0), state


@pytest.mark.parametrize("beam_size", [1, 2, 3])
def test_each_image_of_a_batch_keeps_its_own_state_through_the_beams(beam_size):
    step = ImageTableStep([table({1: {A: 0.9, B: 0.1}, A: {B: 0.9, END: 0.1}, B: {END: 1.0}}),
                           table({1: {C: 0.6, D: 0.4}, C: {END: 1.0}, D: {END: 1.0}}),
                           table({1: {D: 0.7, A: 0.3}, D: {A: 0.8, END: 0.2}, A: {END: 1.0}})])
    features = np.array([[0], [1], [2]], np.float32)
    results = Searcher(step, 6, SearchSettings(beam_size=beam_size))(features)
    assert [text(r[0][0]) for r in results] == ["a b", "c", "d a"]
    assert [r[0][1] for r in results] == pytest.approx([np.log(0.81), np.log(0.6), np.log(0.56)], abs=1e-3)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_a_buffer_for_one_word_holds_one_and_one_for_none_holds_none(beam_size):
    step = TableStep(table({1: {A: 0.7, B: 0.3}, A: {C: 1.0}, B: {END: 1.0}}))
    one = Searcher(step, 1, SearchSettings(beam_size=beam_size))(FEATURES)
    assert [text(r[0][0]) for r in one] == ["a", "a"] and one[0][0][0].tolist() == [1, A, END]
    assert one[0][0][1] == pytest.approx(np.log(0.7), abs=1e-3)
    none = Searcher(step, 0, SearchSettings(beam_size=beam_size))(FEATURES)
    assert [r[0][0].tolist() for r in none] == [[1, END], [1, END]] and none[0][0][1] == 0.0


def test_a_row_of_nan_logits_ends_its_caption_and_the_others_go_on():
    """A model that gives NaN for one image (a broken feature vector): greedy search ends that caption with <end>
    (no token id past the vocabulary reaches the next step); the other image is captioned as usual."""
    tables = [table({1: {A: 0.9, B: 0.1}, A: {B: 1.0}, B: {END: 1.0}}), np.full((len(WORDS), len(WORDS)), np.nan)]
    step = ImageTableStep(tables)
    results = Searcher(step, 6)(np.array([[0], [1]], np.float32))
    assert text(results[0][0][0]) == "a b" and results[1][0][0].tolist()[:3] == [1, END, PAD]
