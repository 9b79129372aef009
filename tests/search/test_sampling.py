"""Sampling captions (what self-critical training learns from) with the fake step models of test_search."""

import numpy as np
import pytest

from captioner.search.search_tokens import END, NEVER, PAD, START
from captioner.search.searcher import Searcher, SearchSettings
from tests.support.step_tables import A, B, C, TableStep, table
from tests.support.tiny_decoder import tiny


@pytest.mark.parametrize("compiled", [True, False])
def test_sampling_draws_from_the_models_distribution_by_the_token_rules(compiled):
    # After <start>: a 0.5, b 0.3, <end> 0.2 (and <unk> 0.4 before the never-generated rule); after a word: <end>.
    step = TableStep(table({1: {A: 0.5, B: 0.3, END: 0.2, 3: 0.4}, A: {END: 1.0}, B: {END: 1.0}}))
    searcher = Searcher(step, 4, SearchSettings(batch_size=256), compiled=compiled)
    features = np.zeros((300, 1), np.float32)
    tokens = searcher.sample(features, 4, np.random.default_rng(0))  # (300, 4, 6)
    assert tokens.shape == (300, 4, 6) and tokens.dtype == np.int32
    first = tokens[:, :, 1].ravel()
    assert not np.isin(first, list(NEVER)).any()  # <unk> had 0.4 of the mass: never drawn
    counts = {t: np.mean(first == t) for t in (A, B, END)}
    assert counts[A] == pytest.approx(0.5, abs=0.04) and counts[B] == pytest.approx(0.3, abs=0.04)
    assert counts[END] == pytest.approx(0.2, abs=0.04)
    for row in tokens.reshape(-1, 6):  # <start> word? <end> then <pad> only; the buffer's end is never open
        ends = np.flatnonzero(row == END)
        assert row[0] == 1 and len(ends) == 1 and (row[ends[0] + 1:] == PAD).all()
    again = searcher.sample(features, 4, np.random.default_rng(0))
    assert (again == tokens).all()  # the generator decides: same state, same captions
    assert (searcher.sample(features, 4, np.random.default_rng(1)) != tokens).any()


def test_sampling_a_peaked_distribution_gives_the_greedy_caption():
    step = TableStep(table({1: {A: 1.0}, A: {B: 1.0}, B: {C: 1.0}, C: {END: 1.0}}))
    searcher = Searcher(step, 5, SearchSettings())
    sampled = searcher.sample(np.zeros((3, 1), np.float32), 2, np.random.default_rng(5))
    greedy = np.stack([ranked[0][0] for ranked in searcher(np.zeros((3, 1), np.float32))])
    assert (sampled == greedy[:, None, :]).all()
    with pytest.raises(ValueError, match="beam_size 1"):
        Searcher(step, 5, SearchSettings(beam_size=2)).sample(np.zeros((1, 1), np.float32), 1, np.random.default_rng())


@pytest.mark.parametrize("design", ["inject", "merge"])
def test_a_live_weights_search_follows_weight_updates_under_every_backend(design):
    """Self-critical training changes the weights between calls: a compiled search with live_weights must search
    the new weights after reload_weights (JAX otherwise keeps the weights it traced as constants)."""
    from captioner.models.decoder import build_decoder, keras

    keras.utils.set_random_seed(3)
    decoder = build_decoder(tiny(design))
    features = np.random.default_rng(0).standard_normal((4, 4096)).astype("float32")
    live = Searcher(decoder, 5, SearchSettings(), live_weights=True)
    live(features), live.sample(features, 2, np.random.default_rng(0))  # compiled with the first weights
    for variable in decoder.trainable_variables:  # an update that changes every weight
        variable.assign(variable.numpy() + np.random.default_rng(1).normal(0, 0.5, variable.shape))
    live.reload_weights()
    eager = Searcher(decoder, 5, SearchSettings(), compiled=False)
    for (got, got_logp), (want, want_logp) in zip([r[0] for r in live(features)], [r[0] for r in eager(features)]):
        assert (got == want).all() and got_logp == pytest.approx(want_logp, abs=1e-4)
    assert (live.sample(features, 2, np.random.default_rng(0)) ==
            eager.sample(features, 2, np.random.default_rng(0))).all()


# --- what the mutation run found: the inverse-CDF draw by hand, row by row ------------------------------------------
# Vocabulary of 6: <pad> <start> <end> <unk> a b; the step gives each row the same logits at every position.
NEVER_LOGIT = -1e9


def _sample(rows, uniforms, length=4, temperature=1.0):
    """sample_search with fixed per-row probabilities of (<end>, a, b) and the given uniforms (B, length)."""
    from captioner.search.sampling import sample_search

    logits = np.array([[NEVER_LOGIT, NEVER_LOGIT, np.log(e), NEVER_LOGIT, np.log(a), np.log(b)]
                       for e, a, b in rows], np.float32)
    out = sample_search(lambda last, state: (state, state), logits, len(rows), length,
                        np.asarray(uniforms, np.float32), temperature)
    return np.asarray(out).tolist()


def test_each_row_draws_the_first_token_whose_cumulative_probability_passes_its_uniform():
    # (<end> 0.2, a 0.5, b 0.3): cumulative 0.2, 0.7, 1.0 over ids 2, 4, 5. u 0 -> <end> (never a zero-probability
    # token before it), 0.5 -> a, 0.75 -> b; a row that ended holds <pad>; the last position closes an open row.
    rows = [(0.2, 0.5, 0.3)] * 3
    assert _sample(rows, [[0, 0, 0, 0], [0, 0.5, 0.75, 0], [0, 0.75, 0.5, 0]]) == \
        [[START, END, PAD, PAD], [START, 4, 5, END], [START, 5, 4, END]]
    # the last token of the vocabulary is drawn when the uniform is near 1; two rows of a batch of 2 (fewer rows
    # than tokens) each keep their own draw
    assert _sample([(0.1, 0.1, 0.8), (0.8, 0.1, 0.1)], [[0, 0.9999999, 0.3, 0], [0, 0.85, 0.9999999, 0]]) == \
        [[START, 5, 5, END], [START, 4, 5, END]]


def test_the_temperature_divides_the_logits():
    # T = 0.5 squares the probabilities: (0.04, 0.25, 0.09) / 0.38, cumulative 0.105, 0.763, 1.0: u 0.75 -> a
    # (at T = 1 it is b; multiplying by T would give p^0.5, cumulative 0.263, 0.678, 1.0: b again)
    assert _sample([(0.2, 0.5, 0.3)], [[0, 0.75, 0.75, 0]], temperature=0.5) == [[START, 4, 4, END]]
    assert _sample([(0.2, 0.5, 0.3)], [[0, 0.75, 0.75, 0]]) == [[START, 5, 5, END]]


def test_large_logits_and_rows_of_other_scales_sample_as_their_probabilities_say():
    from captioner.search.sampling import sample_search

    # logits 100 apart in scale between the rows: each row is shifted by its own maximum (exp(200) overflows,
    # exp(-200) is 0); row 0: (<end>, a, b) ~ (0.078, 0.574, 0.348) cumulative; row 1 the same at logit scale 0
    base = np.array([NEVER_LOGIT, NEVER_LOGIT, -2.0, NEVER_LOGIT, 0.0, -0.5], np.float32)
    logits = np.stack([base + np.where(base > NEVER_LOGIT, 100.0, 0.0), base - np.where(base > NEVER_LOGIT, 100, 0)])
    out = sample_search(lambda last, state: (state, state), logits.astype(np.float32), 2, 4,
                        np.array([[0, 0.5, 0.7, 0], [0, 0.7, 0.5, 0]], np.float32))
    assert np.asarray(out).tolist() == [[START, 4, 5, END], [START, 5, 4, END]]


def test_no_images_sample_no_captions_and_a_beam_searcher_refuses_in_full():
    step = TableStep(table({1: {A: 1.0}, A: {END: 1.0}}))
    for compiled in (True, False):
        none = Searcher(step, 4, SearchSettings(), compiled=compiled).sample(np.zeros((0, 1), np.float32), 3,
                                                                             np.random.default_rng(0))
        assert none.shape == (0, 3, 6) and none.dtype == np.int32
    with pytest.raises(ValueError) as error:
        Searcher(step, 4, SearchSettings(beam_size=3)).sample(np.zeros((1, 1), np.float32), 1, np.random.default_rng())
    assert str(error.value) == "sampling uses a Searcher with beam_size 1"
