"""Sampling captions from the decoder's distribution, as one compiled loop beside greedy and beam search.

Self-critical training needs K sampled captions per image every step. Inverse-CDF sampling with one uniform
number per row and step, drawn outside the loop (an argument, so the compiled loop holds no random state and
runs the same under every backend): token = the first index whose cumulative probability exceeds u times the
row's total. Never-generated tokens have probability exactly 0 (their logits sit at NEG), so they are never
drawn. Rows follow the same rules as search: a finished row continues with `<pad>`, the last position is `<end>`.
"""

from __future__ import annotations

from captioner.base.backend import import_keras
from captioner.search.search_tokens import END, PAD, close, first_prompt, write_column

ops = import_keras().ops


def sample_search(step, state, batch: int, length: int, uniforms, temperature: float = 1.0):
    """-> (B, length) tokens. `uniforms` (B, length) float32 in [0, 1): the random numbers, one per step."""

    def cond(index, last, state, prompt, done):
        return ops.logical_not(ops.all(done))

    def body(index, last, state, prompt, done):
        logits, state = step(last, state)
        logits = ops.cast(logits, "float32") / temperature
        probs = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))  # (B, V), unnormalised
        cdf = ops.cumsum(probs, axis=-1)
        threshold = ops.take(uniforms, index, axis=1)[:, None] * cdf[:, -1:]  # (B, 1)
        token = ops.sum(ops.cast(cdf <= threshold, "int32"), axis=-1)  # first index with cdf > threshold
        token = ops.minimum(token, ops.shape(logits)[-1] - 1)
        token = ops.where(done, ops.cast(PAD, "int32"), token)
        prompt = write_column(prompt, index, token)
        return index + 1, token, state, prompt, done | (token == END)

    prompt = first_prompt(batch, length)
    start = (ops.convert_to_tensor(1, "int32"), prompt[:, 0], state, prompt, ops.zeros((batch,), "bool"))
    _, _, _, prompt, done = ops.while_loop(cond, body, start, maximum_iterations=length - 2)
    return close(prompt, done)
