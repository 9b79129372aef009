"""Greedy and beam search over any step model, each one compiled loop (`greedy_search`, `beam_search`); they
return what keras-nlp's GreedySampler and BeamSampler return under the same token rules, with less work per step
(tests compare them on random tables).

A step model has `initial_state(features) -> state` and `step(tokens (B,), state) -> (logits (B, V), state)`;
each new token costs one LSTM step and no prefix is re-run. It may also offer a faster step for frozen weights:
`vocab_size`, `search_tables(logit_bias)` (arrays computed once from the weights, the never-generated tokens'
NEG folded into the classifier's bias) and `inference_step(tables)`; the Searcher reads the tables once, so
after changing the weights call `reload_weights()`. Finished sequences are frozen: after `<end>` the only token
is `<pad>` with log-probability 0, so a finished beam keeps its score and stops growing. `<pad>`, `<start>` and
`<unk>` are never generated (`captioner.search.search_tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from captioner.base.backend import import_keras
from captioner.base.compile import compile_function
from captioner.search.beam_search import beam_search, vocab_width
from captioner.search.greedy_search import greedy_search
from captioner.search.ranking import best_captions
from captioner.search.sampling import sample_search
from captioner.search.search_tokens import never_bias

ops = import_keras().ops


@dataclass(frozen=True)
class SearchSettings:
    beam_size: int = 1  # 1 = greedy
    num_captions: int = 1  # best K per image (K <= beam_size)
    length_penalty: float = 0.0  # rank by logprob / (words + 1) ** length_penalty; 0 = raw log-probability
    batch_size: int = 256  # images per compiled call


class Searcher:
    """Compiled greedy/beam generation for one step model; reuse it across batches."""

    def __init__(self, step_model, max_length: int, settings: SearchSettings = SearchSettings(), compiled: bool = True,
                 live_weights: bool = False):
        """`compiled=False` runs the search eagerly: slower per image, but no compile (seconds) before the first
        caption, so it wins for a handful of images. `live_weights=True` is for weights that change between calls
        (training): the initial state is computed outside the compiled loop, which then reads every weight from
        the tables (`reload_weights` after an update), so no backend keeps stale weights in compiled code."""
        if settings.num_captions > settings.beam_size:
            raise ValueError(f"num_captions ({settings.num_captions}) must not exceed beam_size ({settings.beam_size})")
        self.step_model, self.settings = step_model, settings
        self.length = max_length + 2  # <start> + words + <end>
        self._generate = compile_function(self._run) if compiled else self._run
        # Greedy with log-probabilities: one more reduction per step (its own loop, compiled on first use).
        self._generate_scored = None
        self._generate_sampled = None  # sampling, for self-critical training (compiled on first use)
        self._compiled = compiled
        self._live = live_weights
        self._tables = None

    def reload_weights(self):
        """Read the step model's weights again (after training changed them); the compiled search is kept."""
        self._tables = None

    def _search_tables(self):
        """The step model's tables (arguments of the compiled search, so new weights need no new compile)."""
        if self._tables is None:
            if hasattr(self.step_model, "search_tables"):
                vocab = self.step_model.vocab_size
                # A beam search may rank by vocabulary chunks: padded to whole ones, columns at NEG never chosen.
                width = vocab_width(vocab, self.settings.beam_size) if self.settings.beam_size > 1 else vocab
                self._tables = self.step_model.search_tables(never_bias(vocab, width))
            else:
                self._tables = ()
        return self._tables

    def _step(self, tables):
        if tables:
            return self.step_model.inference_step(tables)

        def step(tokens, state):
            logits, state = self.step_model.step(tokens, state)
            return logits + never_bias(ops.shape(logits)[-1])[None, :], state

        return step

    def _start(self, features):
        """What the compiled loop gets: the features, or with live weights the initial state computed here."""
        return tuple(self.step_model.initial_state(features)) if self._live else features

    def _state(self, start):
        return start if self._live else self.step_model.initial_state(start)

    def _run_scored(self, start, tables):
        return self._run(start, tables, scored=True)

    def _run(self, start, tables, scored: bool = False):
        state = self._state(start)
        batch = ops.shape(state[0])[0]
        step = self._step(tables)
        if self.settings.beam_size > 1:  # (B, K, L) best first, (B, K) log-probabilities
            return beam_search(step, state, batch, self.length, self.settings.beam_size)
        tokens, log_probs = greedy_search(step, state, batch, self.length, scored)
        return tokens[:, None, :], log_probs[:, None]  # unscored: zeros, which `__call__` makes NaN

    def traced(self, features):
        """The whole search as backend ops on one batch of features, for tracing into an exported graph: (B, K, L)
        token ids best first (K = 1 for greedy, else the beam size) and (B, K) log-probabilities. The tables are
        computed in the graph being traced (from the weights, which become its constants) and not kept."""
        self._tables = None
        try:
            return self._run(features, self._search_tables(), scored=True)
        finally:
            self._tables = None

    def __call__(self, features: np.ndarray, scores: bool = True) -> list[list[tuple[np.ndarray, float]]]:
        """For each image, the best `num_captions` (token ids, log-probability), best first.

        Beam search has the log-probabilities for free; greedy search adds them up as it goes (one more pass over
        the logits per step), so `scores=False` skips that (the log-probability is then NaN).
        """
        greedy_scored = scores and self.settings.beam_size == 1
        if greedy_scored and self._generate_scored is None:
            self._generate_scored = compile_function(self._run_scored) if self._compiled else self._run_scored
        generate = self._generate_scored if greedy_scored else self._generate
        results = []
        for start in range(0, len(features), self.settings.batch_size):
            chunk = np.asarray(features[start:start + self.settings.batch_size], dtype=np.float32)
            rows = len(chunk)
            if self._compiled:  # a compiled search compiles once per batch shape: a few shapes, not one per size
                chunk = _padded(chunk, self.settings.batch_size)
            tokens, logps = generate(self._start(chunk), self._search_tables())
            tokens = np.asarray(tokens)[:rows]
            logps = np.asarray(logps)[:rows] if scores or self.settings.beam_size > 1 else np.full((rows, 1), np.nan)
            results.extend(self._rank(tokens, logps))
        return results

    def _run_sampled(self, start, uniforms, tables):
        state = self._state(start)
        return sample_search(self._step(tables), state, ops.shape(state[0])[0], self.length, uniforms)

    def sample(self, features: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
        """(B, samples, length) int32: `samples` captions per image drawn from the model's distribution (token
        ids as search returns them: `<start>` words `<end>` `<pad>`...). `rng` draws the random numbers, so the
        same generator state gives the same captions. Needs greedy settings (beam_size 1): the tables'
        vocabulary is then unpadded."""
        if self.settings.beam_size != 1:
            raise ValueError("sampling uses a Searcher with beam_size 1")
        if self._generate_sampled is None:
            self._generate_sampled = compile_function(self._run_sampled) if self._compiled else self._run_sampled
        rows = np.repeat(np.asarray(features, dtype=np.float32), samples, axis=0)  # image i's samples together
        out = []
        for start in range(0, len(rows), self.settings.batch_size):
            chunk = rows[start:start + self.settings.batch_size]
            count = len(chunk)
            if self._compiled:
                chunk = _padded(chunk, self.settings.batch_size)
            uniforms = rng.random((len(chunk), self.length), dtype=np.float32)
            out.append(np.asarray(self._generate_sampled(self._start(chunk), uniforms, self._search_tables()))[:count])
        tokens = np.concatenate(out) if out else np.zeros((0, self.length), np.int32)
        return tokens.reshape(len(features), samples, self.length)

    def _rank(self, tokens, scores):
        return [best_captions(seqs, logps, self.settings.num_captions, self.settings.length_penalty)
                for seqs, logps in zip(tokens, scores)]


def _padded(chunk: np.ndarray, limit: int) -> np.ndarray:
    """`chunk` with zero rows up to the next power of two (at most `limit`): at most 2x the rows, and at most
    log2(limit) + 1 compiles however the batch sizes vary. Rows are searched independently."""
    rows = min(limit, 1 << max(0, len(chunk) - 1).bit_length())
    if rows <= len(chunk):
        return chunk
    return np.concatenate([chunk, np.zeros((rows - len(chunk),) + chunk.shape[1:], chunk.dtype)])
