"""Our search loops against keras-nlp's samplers (the library recipe) on random next-token tables, under our
token rules: the same captions, and the same log-probabilities (or the eager oracle's, for greedy)."""

import numpy as np
import pytest

from captioner.search.search_tokens import END, NEG, NEVER, PAD
from captioner.search.searcher import Searcher, SearchSettings
from tests.support.step_tables import TableStep, score


def keras_nlp_next(step, length: int):
    """A keras-nlp sampler's `next(prompt, cache, index)` under our token rules, written the plain way: a row of
    logits rewritten per rule (banned tokens, `<end>` only at the last position, `<pad>` only after `<end>`)."""
    from captioner.search.searcher import ops

    def next_(prompt, cache, index):
        last = ops.take_along_axis(prompt, ops.full((ops.shape(prompt)[0], 1), index - 1, "int32"), axis=1)[:, 0]
        logits, cache = step(last, cache)
        logits = ops.cast(logits, "float32")
        ids = ops.arange(ops.shape(logits)[-1])
        banned = ops.any(ids[:, None] == ops.convert_to_tensor(NEVER, "int32")[None, :], axis=1)
        logits = ops.where(banned[None, :], NEG, logits)
        logits = ops.where(index >= length - 1, ops.where(ids == END, 0.0, NEG)[None, :], logits)
        finished = (last == END) | (last == PAD)
        logits = ops.where(finished[:, None], ops.where(ids == PAD, 0.0, NEG)[None, :], logits)
        return logits, None, cache

    return next_


def keras_nlp_search(sampler, step, features, length):
    from captioner.search.searcher import ops

    prompt = np.zeros((len(features), length), np.int32)
    prompt[:, 0] = 1
    return sampler(keras_nlp_next(step.step, length), ops.convert_to_tensor(prompt), cache=step.initial_state(features),
                   index=1, mask=prompt == 1, stop_token_ids=(END,))


# Random next-token tables: 8 tokens (captions end early), 100 (captions that run to the last position) and 400
# (beam search ranks by vocabulary chunks, the last one partial); odd trials compiled (XLA), even ones eager.
RANDOM_TABLES = [(vocab, trial) for vocab in (8, 100, 400) for trial in range(3)]


@pytest.mark.parametrize("vocab,trial", RANDOM_TABLES)
def test_beam_search_gives_keras_nlps_beams_on_random_tables(vocab, trial):
    """Our beam loop against keras-nlp's BeamSampler (the library recipe)."""
    import keras_nlp

    rng = np.random.default_rng(100 * vocab + trial)
    step = TableStep(rng.dirichlet(np.full(vocab, 0.5), size=vocab))
    features = np.zeros((3, 3), np.float32)
    ours = Searcher(step, 5, SearchSettings(beam_size=3, num_captions=3), compiled=trial % 2 == 1)(features)
    sampler = keras_nlp.samplers.BeamSampler(num_beams=3, return_all_beams=True)
    tokens, logps = keras_nlp_search(sampler, step, features, 7)
    for i in range(3):
        assert [list(t) for t, _ in ours[i]] == [list(t) for t in np.asarray(tokens)[i]]
        np.testing.assert_allclose([s for _, s in ours[i]], np.asarray(logps)[i], atol=1e-4)


@pytest.mark.parametrize("vocab,trial", RANDOM_TABLES)
def test_greedy_gives_keras_nlps_tokens_on_random_tables(vocab, trial):
    """Our greedy loop against keras-nlp's GreedySampler; its log-probabilities against the eager oracle."""
    import keras_nlp

    rng = np.random.default_rng(100 * vocab + trial)
    step = TableStep(rng.dirichlet(np.full(vocab, 0.5), size=vocab))
    features = np.zeros((3, 3), np.float32)
    ours = Searcher(step, 5, compiled=trial % 2 == 1)(features)
    theirs = np.asarray(keras_nlp_search(keras_nlp.samplers.GreedySampler(), step, features, 7))
    assert [list(r[0][0]) for r in ours] == [list(t) for t in theirs]
    np.testing.assert_allclose([r[0][1] for r in ours], score(step, features, theirs), atol=1e-4)
