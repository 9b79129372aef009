"""Greedy and beam search over any step model: greedy driven by keras-nlp's GreedySampler, beam search by
`beam_search` (keras-nlp's BeamSampler's results with less work per step; tests compare the two).

A step model has `initial_state(features) -> state` and `step(tokens (B,), state) -> (logits (B, V), state)`
(and optionally `inference_step()`, returning a faster `step` for frozen weights);
the state is the sampler's cache, so each new token costs one LSTM step and no prefix is re-run. Finished
sequences are frozen: after `<end>` (or `<pad>`) the only allowed token is `<pad>` with log-probability 0, so a
finished beam keeps its score and stops growing. `<pad>`, `<start>` and `<unk>` are never generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from captioner.backend import import_keras
from captioner.beam_search import beam_search
from captioner.compile import compile_function

keras = import_keras()
ops = keras.ops

PAD, START, END, UNK = 0, 1, 2, 3
NEVER = (PAD, START, UNK)  # tokens that are never generated
NEG = -1e9


@dataclass(frozen=True)
class SearchSettings:
    beam_size: int = 1  # 1 = greedy
    num_captions: int = 1  # best K per image (K <= beam_size)
    length_penalty: float = 0.0  # rank by logprob / (words + 1) ** length_penalty; 0 = raw log-probability
    batch_size: int = 256  # images per compiled call


def _next_fn(step, length: int):
    """The sampler's `next(prompt, cache, index)`, with finished-sequence freezing and banned tokens.

    The last position of the `length`-token prompt may only hold `<end>`: at most length - 2 words.
    """

    def next_(prompt, cache, index):
        last = ops.take_along_axis(prompt, ops.full((ops.shape(prompt)[0], 1), index - 1, "int32"), axis=1)[:, 0]
        logits, cache = step(last, cache)
        logits = ops.cast(logits, "float32")
        vocab = ops.shape(logits)[-1]
        ids = ops.arange(vocab)
        banned = ops.any(ids[:, None] == ops.convert_to_tensor(NEVER, "int32")[None, :], axis=1)
        logits = ops.where(banned[None, :], NEG, logits)
        end_only = ops.where(ids == END, 0.0, NEG)[None, :]
        logits = ops.where(index >= length - 1, end_only, logits)
        finished = (last == END) | (last == PAD)
        pad_only = ops.where(ids == PAD, 0.0, NEG)[None, :]
        logits = ops.where(finished[:, None], pad_only, logits)
        return logits, None, cache

    return next_


class Searcher:
    """Compiled greedy/beam generation for one step model; reuse it across batches."""

    def __init__(self, step_model, max_length: int, settings: SearchSettings = SearchSettings(), compiled: bool = True):
        """`compiled=False` runs the search eagerly: slower per image, but no compile (seconds) before the first
        caption, so it wins for a handful of images."""
        if settings.num_captions > settings.beam_size:
            raise ValueError(f"num_captions ({settings.num_captions}) must not exceed beam_size ({settings.beam_size})")
        self.step_model, self.settings = step_model, settings
        self.length = max_length + 2  # <start> + words + <end>
        if settings.beam_size == 1:
            import keras_nlp  # here, not at the top: beam search does not need it (a second of a cold start)

            self.sampler = keras_nlp.samplers.GreedySampler()
        self._generate = compile_function(self._run) if compiled else self._run
        # Greedy with log-probabilities: a beam of one scores as it goes (compiled on first use).
        self._generate_scored = None
        self._compiled = compiled

    def _run_scored(self, features):
        return self._run(features, scored=True)

    def _run(self, features, scored: bool = False):
        state = self.step_model.initial_state(features)
        batch = ops.shape(features)[0]
        prompt = ops.concatenate([ops.full((batch, 1), START, "int32"),
                                  ops.full((batch, self.length - 1), PAD, "int32")], axis=1)
        mask = ops.concatenate([ops.ones((batch, 1), "bool"), ops.zeros((batch, self.length - 1), "bool")], axis=1)
        # A step model may offer a faster step for frozen weights (the decoder precomputes token gates).
        step = self.step_model.inference_step() if hasattr(self.step_model, "inference_step") else self.step_model.step
        if self.settings.beam_size > 1 or scored:  # (B, K, L) best first, (B, K) log-probabilities
            return beam_search(_next_fn(step, self.length), prompt, state, 1, self.settings.beam_size, END)
        out = self.sampler(_next_fn(step, self.length), prompt, cache=state, index=1, mask=mask,
                           stop_token_ids=(END,))
        return out[:, None, :], ops.zeros((batch, 1))  # greedy without scores: `__call__` makes them NaN

    def __call__(self, features: np.ndarray, scores: bool = True) -> list[list[tuple[np.ndarray, float]]]:
        """For each image, the best `num_captions` (token ids, log-probability), best first.

        Beam search has the log-probabilities for free; greedy search adds them up as a beam of one (a
        log-softmax over the vocabulary per step), so `scores=False` skips that (the log-probability is then NaN).
        """
        greedy_scored = scores and self.settings.beam_size == 1
        if greedy_scored and self._generate_scored is None:
            self._generate_scored = compile_function(self._run_scored) if self._compiled else self._run_scored
        generate = self._generate_scored if greedy_scored else self._generate
        results = []
        for start in range(0, len(features), self.settings.batch_size):
            chunk = np.asarray(features[start:start + self.settings.batch_size], dtype=np.float32)
            tokens, logps = generate(chunk)
            tokens = np.asarray(tokens)
            logps = np.asarray(logps) if scores or self.settings.beam_size > 1 else np.full((len(chunk), 1), np.nan)
            results.extend(self._rank(tokens, logps))
        return results

    def _rank(self, tokens, scores):
        out = []
        alpha = self.settings.length_penalty
        for seqs, logps in zip(tokens, scores):
            lengths = np.array([_words(s) + 1 for s in seqs], dtype=np.float64)
            keys = logps / lengths ** alpha if alpha else logps
            order = np.argsort(-keys, kind="stable")[: self.settings.num_captions]
            out.append([(seqs[i], float(logps[i])) for i in order])
        return out


def _words(tokens) -> int:
    n = 0
    for t in tokens[1:]:
        if t in (END, PAD):
            break
        n += 1
    return n
