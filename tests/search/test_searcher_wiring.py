"""The Searcher's own wiring, around the loops tested in test_search.py: the token rules' bias and last position,
the tables it reads once, batches cut and padded to the compiled size, words counted, captions ranked."""

import numpy as np
import pytest

from captioner.search import searcher as searcher_module
from captioner.search.beam_search import vocab_width
from captioner.search.search_tokens import END, NEG, PAD, START, close, never_bias, ops
from captioner.search.ranking import words as _words
from captioner.search.searcher import Searcher, SearchSettings, _padded
from tests.support.step_tables import A, B, C, TableStep, table

STEP = TableStep(table({1: {A: 0.6, B: 0.4}, A: {C: 0.7, END: 0.3}, B: {END: 1.0}, C: {END: 1.0}}))


def test_never_bias_bans_pad_start_unk_and_the_padding_ids_only():
    np.testing.assert_array_equal(ops.convert_to_numpy(never_bias(6)), [NEG, NEG, 0, NEG, 0, 0])
    padded = ops.convert_to_numpy(never_bias(5, 8))
    np.testing.assert_array_equal(padded, [NEG, NEG, 0, NEG, 0, NEG, NEG, NEG])
    assert padded.dtype == np.float32


def test_closing_the_buffer_ends_the_open_rows_and_pads_the_finished_ones():
    prompt = np.array([[START, A, B, PAD], [START, C, END, PAD]], np.int32)
    closed = ops.convert_to_numpy(close(ops.convert_to_tensor(prompt), ops.convert_to_tensor([False, True])))
    np.testing.assert_array_equal(closed, [[START, A, B, END], [START, C, END, PAD]])
    assert closed.dtype == np.int32


def test_a_batch_is_padded_with_zero_rows_to_the_next_power_of_two_at_most_the_limit():
    for rows, limit, padded_to in ((1, 256, 1), (2, 256, 2), (3, 256, 4), (5, 256, 8), (8, 256, 8), (9, 256, 16),
                                   (5, 6, 6), (6, 6, 6), (0, 4, 1)):
        chunk = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2) + 1
        out = _padded(chunk, limit)
        assert out.shape == (padded_to, 2) and out.dtype == np.float32, (rows, limit)
        np.testing.assert_array_equal(out[:rows], chunk)
        assert not out[rows:].any()


def test_words_are_counted_from_after_start_up_to_end_or_pad():
    assert _words([START, A, B, END, PAD]) == 2
    assert _words([START, A, PAD, B]) == 1
    assert _words([START, END, A]) == 0
    assert _words([START, A, B, C]) == 3  # cut by the buffer: every token after <start>
    assert _words([A, B]) == 1  # the first position is <start>'s, whatever it holds


def test_captions_are_ranked_by_log_probability_over_words_plus_one_to_the_length_penalty():
    tokens = np.array([[[START, A, END, PAD, PAD], [START, A, B, C, END], [START, B, C, END, PAD]]])
    logps = np.array([[-1.0, -2.4, -1.9]])  # words 1, 3, 2: per (words + 1) -0.5, -0.6, -0.633
    raw = Searcher(STEP, 3, SearchSettings(beam_size=3, num_captions=3))._rank(tokens, logps)[0]
    assert [s for _, s in raw] == [-1.0, -1.9, -2.4]  # the raw log-probability, as given back
    ranked = Searcher(STEP, 3, SearchSettings(beam_size=3, num_captions=2, length_penalty=1.0))._rank(tokens, logps)
    assert [s for _, s in ranked[0]] == [-1.0, -2.4]  # -0.5, -0.6 beat -0.633; the score stays the raw one
    np.testing.assert_array_equal(ranked[0][1][0], tokens[0, 1])
    halved = Searcher(STEP, 3, SearchSettings(beam_size=3, num_captions=3, length_penalty=0.5))._rank(tokens, logps)
    assert [s for _, s in halved[0]] == [-1.0, -1.9, -2.4]  # / sqrt(2), sqrt(3), sqrt(4): -0.71, -1.10, -1.2
    shorter = Searcher(STEP, 3, SearchSettings(beam_size=3, num_captions=3, length_penalty=-1))._rank(tokens, logps)
    assert [s for _, s in shorter[0]] == [-1.0, -1.9, -2.4]  # an int penalty too: x (words + 1): -2, -5.7, -9.6


def test_captions_of_equal_score_keep_the_searchs_order():
    beams = np.array([[[START, w, END] for w in range(4, 12)]])
    logps = np.array([[-2.0, -1.0, -1.0, -2.0, -1.0, -1.0, -2.0, -2.0]])  # numpy's default sort reorders these
    ranked = Searcher(STEP, 1, SearchSettings(beam_size=8, num_captions=8))._rank(beams, logps)[0]
    assert [int(seq[1]) - 4 for seq, _ in ranked] == [1, 2, 4, 5, 0, 3, 6, 7]


def test_more_captions_than_beams_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"^num_captions \(3\) must not exceed beam_size \(2\)$"):
        Searcher(STEP, 4, SearchSettings(beam_size=2, num_captions=3))


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("beam_size", [1, 2])
def test_images_are_searched_in_batches_of_the_batch_size_each_as_alone(compiled, beam_size):
    rows = np.random.default_rng(0).random((5, 3))  # float64: read as float32
    settings = SearchSettings(beam_size=beam_size, batch_size=2)
    calls = []
    searcher = Searcher(STEP, 4, settings, compiled=compiled)
    real = searcher._generate

    def counted(start, tables):
        calls.append((tuple(ops.shape(start)), np.asarray(start).dtype))
        return real(start, tables)

    searcher._generate = counted
    together = searcher(rows, scores=False)
    # 2, 2, then 1 (padded to the power of two, 1); float32 whatever was given, so one compile serves every call
    assert calls == [((2, 3), np.float32), ((2, 3), np.float32), ((1, 3), np.float32)]
    alone = [Searcher(STEP, 4, SearchSettings(beam_size=beam_size), compiled=compiled)(rows[i:i + 1])[0]
             for i in range(5)]
    assert len(together) == 5
    for mine, single in zip(together, alone):
        np.testing.assert_array_equal(mine[0][0], single[0][0])
    if beam_size == 1:
        assert all(np.isnan(r[0][1]) for r in together)  # greedy without scores: NaN, not a number made up
    else:
        assert [r[0][1] for r in together] == pytest.approx([r[0][1] for r in alone], abs=1e-6)


class TablesStep(TableStep):
    """A step model with the fast path: the Searcher reads its tables once, with the never-generated bias, and
    steps through `inference_step` only (the slower generic `step` is never called)."""

    def __init__(self, probabilities):
        super().__init__(probabilities)
        self.vocab_size = self.table.shape[1]
        self.biases = []

    def search_tables(self, logit_bias):
        bias = ops.convert_to_numpy(logit_bias)
        self.biases.append(bias)
        width = len(bias)
        logits = np.full((len(self.table), width), NEG, np.float32)
        logits[:, :self.vocab_size] = self.table
        return (ops.convert_to_tensor(logits + bias[None, :]),)

    def inference_step(self, tables):
        def step(tokens, state):
            return ops.take(tables[0], tokens, axis=0), state

        return step

    def step(self, tokens, state):
        raise AssertionError("the generic step was used where the model has tables")


@pytest.mark.parametrize("beam_size", [1, 3])
def test_the_tables_are_read_once_with_the_bias_for_the_beams_width_until_reloaded(beam_size):
    probabilities = table({1: {A: 0.6, B: 0.4}, A: {C: 0.7, END: 0.3}, B: {END: 1.0}, C: {END: 1.0}})
    step = TablesStep(probabilities)
    searcher = Searcher(step, 4, SearchSettings(beam_size=beam_size), compiled=False)
    features = np.zeros((2, 3), np.float32)
    first = searcher(features)
    searcher(features)
    assert len(step.biases) == 1  # read once for both calls
    width = vocab_width(step.vocab_size, beam_size) if beam_size > 1 else step.vocab_size
    np.testing.assert_array_equal(step.biases[0], ops.convert_to_numpy(never_bias(step.vocab_size, width)))
    searcher.reload_weights()
    again = searcher(features)
    assert len(step.biases) == 2  # read again after new weights
    generic = Searcher(TableStep(probabilities), 4, SearchSettings(beam_size=beam_size), compiled=False)(features)
    for fast, slow, repeat in zip(first, generic, again):
        np.testing.assert_array_equal(fast[0][0], slow[0][0])
        np.testing.assert_array_equal(fast[0][0], repeat[0][0])
    if beam_size == 1:  # sampling, and greedy without scores, read the same tables
        assert searcher.sample(features, 2, np.random.default_rng(0)).shape == (2, 2, 6)
        assert [r[0][0].tolist() for r in searcher(features, scores=False)] == [r[0][0].tolist() for r in first]
        assert len(step.biases) == 2


def test_a_step_model_without_tables_is_searched_through_its_step_with_the_bias_added(monkeypatch):
    seen = []
    real = searcher_module.never_bias
    monkeypatch.setattr(searcher_module, "never_bias", lambda *a: seen.append(a) or real(*a))
    step = TableStep(table({1: {START: 0.9, A: 0.1}, A: {END: 1.0}}))  # <start> most likely: banned
    result = Searcher(step, 3, compiled=False)(np.zeros((1, 2), np.float32))
    assert list(result[0][0][0][:3]) == [START, A, END] and seen and seen[0] == (len(step.table),)


@pytest.mark.parametrize("beam_size", [1, 2, 3])
def test_a_beam_that_ranks_by_chunks_reads_tables_padded_to_whole_chunks(beam_size):
    vocab = 400  # large enough for every beam here to rank by chunks of 32 words, not a multiple of 32
    probabilities = np.full((vocab, vocab), 1e-6)
    probabilities[1, A], probabilities[A, END] = 0.9, 0.9
    step = TablesStep(probabilities)
    searcher = Searcher(step, 3, SearchSettings(beam_size=beam_size), compiled=False)
    result = searcher(np.zeros((1, 2), np.float32))
    width = 416 if beam_size > 1 else vocab  # greedy reads the vocabulary as it is
    assert len(step.biases) == 1 and len(step.biases[0]) == width == (
        vocab_width(vocab, beam_size) if beam_size > 1 else vocab)
    np.testing.assert_array_equal(step.biases[0], ops.convert_to_numpy(never_bias(vocab, width)))
    assert list(result[0][0][0][:3]) == [START, A, END]


@pytest.mark.parametrize("beam_size", [1, 3])
def test_the_traced_search_gives_the_calls_captions_and_keeps_no_tables(beam_size):
    """What an export traces: the same tokens and log-probabilities as a call (scored, even greedy), the tables
    read inside the trace and dropped after it (a graph's tables are its own)."""
    probabilities = table({1: {A: 0.6, B: 0.4}, A: {C: 0.7, END: 0.3}, B: {END: 1.0}, C: {END: 1.0}})
    step = TablesStep(probabilities)
    searcher = Searcher(step, 4, SearchSettings(beam_size=beam_size), compiled=False)
    features = np.zeros((2, 3), np.float32)
    searcher(features)  # tables read and kept by a call
    tokens, log_probs = (ops.convert_to_numpy(t) for t in searcher.traced(features))
    assert searcher._tables is None and len(step.biases) == 2  # read again for the trace, and not kept
    called = searcher(features)
    assert len(step.biases) == 3
    assert tokens.shape[:2] == log_probs.shape == (2, beam_size)
    for row, probs, answer in zip(tokens, log_probs, called):
        np.testing.assert_array_equal(row[0], answer[0][0])
        assert probs[0] == pytest.approx(answer[0][1], abs=1e-6) and probs[0] < 0
