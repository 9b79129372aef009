"""Beam search with the work per step cut to what a large vocabulary needs.

keras-nlp's BeamSampler (our reference, and what tests compare against) turns every beam's logits into
probabilities (softmax), takes their log, and ranks all beams x vocabulary candidates of an image at once:
three passes over (B * K, V) plus a top-k over K * V per image. The same beams come from:
- log-probabilities as logits - logsumexp(logits): one exponential pass, no division, no log per entry;
- each beam's K best tokens first (the K best continuations of an image are among them), then the best K of
  those K * K candidates; and a beam's K best of V by `top_k_rows`, which looks only inside the K chunks of the
  vocabulary with the largest maxima (XLA's CPU top-k over a 3,000-wide row is slow: this halves it).
With a 3,000-word vocabulary this is most of a step's time after the two matrix products.
"""

from __future__ import annotations

from captioner.backend import import_keras

keras = import_keras()
ops = keras.ops

FIRST_BEAM_ONLY = -1e9  # at the start all K beams are the same prompt: only beam 0 may extend it
CHUNK = 32  # vocabulary chunk of `top_k_rows` (measured on the 2-core CPU: 25-50 best for 3,000 words)


def top_k_rows(x, k: int):
    """ops.top_k(x, k, sorted=False) for (R, V) rows, exact: each of a row's k largest entries lies in a chunk
    whose maximum is at least the k-th largest, and at most k chunks can hold them, so the k chunks with the
    largest maxima hold all of them. Small vocabularies use top_k directly."""
    rows, vocab = ops.shape(x)
    chunks = -(-vocab // CHUNK)
    if chunks < 4 * k:
        return ops.top_k(x, k, sorted=False)
    if chunks * CHUNK != vocab:
        x = ops.concatenate([x, ops.full((rows, chunks * CHUNK - vocab), float("-inf"), x.dtype)], axis=1)
    x = ops.reshape(x, (rows, chunks, CHUNK))
    _, best_chunks = ops.top_k(ops.max(x, axis=-1), k, sorted=False)  # (R, k)
    inside = ops.reshape(ops.take_along_axis(x, best_chunks[:, :, None], axis=1), (rows, k * CHUNK))
    values, at = ops.top_k(inside, k, sorted=False)
    return values, ops.take_along_axis(best_chunks, at // CHUNK, axis=1) * CHUNK + at % CHUNK


def beam_search(next_, prompt, cache, index: int, num_beams: int, end: int):
    """(B, L) prompts (filled from `index` on) -> ((B, K, L) beams best first, (B, K) their log-probabilities).

    `next_(prompt, cache, index) -> (logits (B*K, V), _, cache)` as for a keras-nlp sampler; a finished beam's
    row must allow only one token with logit 0 (it then keeps its score). Stops when every beam holds `end`.
    """
    batch, length = ops.shape(prompt)[0], ops.shape(prompt)[1]
    k = num_beams

    def per_beam(x):  # (B, ...) -> (B * K, ...), each row K times in a row
        return ops.repeat(x, k, axis=0)

    def gather(x, beams):  # rows of (B * K, ...) reordered by `beams` (B, K) within each image
        x = ops.reshape(x, (batch, k) + tuple(ops.shape(x)[1:]))
        idx = beams
        for _ in range(len(x.shape) - 2):
            idx = ops.expand_dims(idx, -1)
        return ops.reshape(ops.take_along_axis(x, idx, axis=1), (batch * k,) + tuple(ops.shape(x)[2:]))

    prompt = per_beam(prompt)
    cache = keras.tree.map_structure(per_beam, cache)
    start = ops.convert_to_tensor([0.0] + [FIRST_BEAM_ONLY] * (k - 1), "float32")
    log_probs = ops.reshape(ops.tile(start[None, :], (batch, 1)), (batch * k,))

    def cond(prompt, cache, index, log_probs):
        return ops.logical_not(ops.all(ops.any(prompt == end, axis=-1)))

    def body(prompt, cache, index, log_probs):
        logits, _, cache = next_(prompt, cache, index)
        logits = ops.cast(logits, "float32")
        norm = ops.logsumexp(logits, axis=-1, keepdims=True)  # (B*K, 1)
        best, tokens = top_k_rows(logits, k)  # (B*K, K)
        candidates = ops.reshape(log_probs[:, None] + best - norm, (batch, k * k))
        log_probs, chosen = ops.top_k(candidates, k, sorted=False)  # (B, K)
        beams = chosen // k
        token = ops.take_along_axis(ops.reshape(tokens, (batch, k * k)), chosen, axis=1)  # (B, K)
        prompt = gather(prompt, beams)
        cache = keras.tree.map_structure(lambda x: gather(x, beams), cache)
        token = ops.cast(ops.reshape(token, (batch * k, 1)), prompt.dtype)
        prompt = ops.slice_update(prompt, [0, index], token)
        return prompt, cache, index + 1, ops.reshape(log_probs, (batch * k,))

    prompt, _, _, log_probs = ops.while_loop(cond, body, (prompt, cache, ops.convert_to_tensor(index, "int32"),
                                                          log_probs), maximum_iterations=length - index)
    prompt, log_probs = ops.reshape(prompt, (batch, k, length)), ops.reshape(log_probs, (batch, k))
    order = ops.argsort(-log_probs, axis=-1)
    return (ops.take_along_axis(prompt, order[:, :, None], axis=1), ops.take_along_axis(log_probs, order, axis=1))
