"""Greedy search as one compiled loop: per step the step model's matrix products and a few plain reductions.

keras-nlp's GreedySampler (what the tests compare against) turns each step's logits into probabilities and then
takes XLA's argmax, a (value, index) reduction that XLA's CPU backend runs one element at a time: with a
3,000-word vocabulary that was half of a step. Here the token is the first index holding the row's maximum, from
two plain reductions (max, then the smallest matching index) that vectorise; the log-probability, when asked
for, is -log(sum(exp(logits - max))), one more reduction.
"""

from __future__ import annotations

from captioner.base.backend import import_keras
from captioner.search.search_tokens import END, PAD, close, first_prompt, write_column

ops = import_keras().ops


def first_argmax(x):
    """(B, V) -> (row maxima (B, 1), index of each row's first maximum (B,)); V where a row holds NaN."""
    vocab = ops.shape(x)[-1]
    top = ops.max(x, axis=-1, keepdims=True)
    ids = ops.arange(vocab, dtype="int32")[None, :]
    return top, ops.min(ops.where(x == top, ids, vocab), axis=-1)


def greedy_search(step, state, batch: int, length: int, scored: bool):
    """-> ((B, length) tokens, (B,) log-probabilities, zeros unless `scored`).

    `step(tokens (B,), state) -> (logits (B, V), state)`, never-generated tokens' logits already at NEG. Stops
    early once every row holds `<end>`.
    """

    def cond(index, last, state, prompt, done, log_probs):
        return ops.logical_not(ops.all(done))

    def body(index, last, state, prompt, done, log_probs):
        logits, state = step(last, state)
        logits = ops.cast(logits, "float32")
        top, token = first_argmax(logits)
        token = ops.where(token >= ops.shape(logits)[-1], ops.cast(END, "int32"), token)  # a NaN row: <end>
        if scored:
            step_log_prob = -ops.log(ops.sum(ops.exp(logits - top), axis=-1))
            log_probs = log_probs + ops.where(done, 0.0, step_log_prob)
        token = ops.where(done, ops.cast(PAD, "int32"), token)
        prompt = write_column(prompt, index, token)
        return index + 1, token, state, prompt, done | (token == END), log_probs

    prompt = first_prompt(batch, length)
    start = (ops.convert_to_tensor(1, "int32"), prompt[:, 0], state, prompt, ops.zeros((batch,), "bool"),
             ops.zeros((batch,), "float32"))
    _, _, _, prompt, done, log_probs = ops.while_loop(cond, body, start, maximum_iterations=length - 2)
    return close(prompt, done), log_probs
