"""Beam search with the work per step cut to what a large vocabulary needs.

keras-nlp's BeamSampler (our reference, and what tests compare against) turns every beam's logits into
probabilities (softmax), takes their log, and ranks all beams x vocabulary candidates of an image at once:
three passes over (B * K, V) plus a top-k over K * V per image. The same beams come from a maximum per fixed
vocabulary chunk and each row's log-normaliser, logsumexp(logits); then only small arrays: an image's K best
candidates lie in at most K chunks, so the K chunks with the largest (chunk maximum + the beam's log-probability
- its normaliser) hold them all; a top-k over those K chunks' entries finishes it. A finished beam takes part as
one candidate (`<pad>`, its score unchanged) added after the chunks, not as a row of logits rewritten; beams are
reordered by whole-row copies. XLA's CPU top-k over a 3,000-wide row is slow; over these it is not.
"""

from __future__ import annotations

from captioner.backend import import_keras
from captioner.search_tokens import END, PAD, close, first_prompt

keras = import_keras()
ops = keras.ops

FIRST_BEAM_ONLY = -1e9  # at the start all K beams are the same prompt: only beam 0 may extend it
CHUNK = 32  # vocabulary chunk (measured on the 2-core CPU: 25-50 best for 3,000 words)


def best_continuations(logits, log_probs, done, k: int):
    """The K best (score, beam, token) per image among every open beam's continuations and every finished beam.

    logits (B*K, V) float32 with the never-generated tokens already at NEG; log_probs, done (B*K,).
    -> scores, beams (0..K-1 within the image), tokens: each (B, K), in no particular order.
    """
    rows, vocab = ops.shape(logits)
    batch, chunks = rows // k, -(-vocab // CHUNK)
    if chunks * CHUNK != vocab:  # a copy: the decoder's search tables pad its vocabulary to whole chunks instead
        logits = ops.pad(logits, [[0, 0], [0, chunks * CHUNK - vocab]], constant_values=float("-inf"))
    blocks = ops.reshape(logits, (rows, chunks, CHUNK))
    chunk_max = ops.max(blocks, axis=-1)  # (B*K, chunks)
    row_max = ops.max(chunk_max, axis=-1, keepdims=True)
    norm = row_max + ops.log(ops.sum(ops.exp(logits - row_max), axis=-1, keepdims=True))  # logsumexp
    offset = ops.where(done[:, None], float("-inf"), log_probs[:, None] - norm)  # (B*K, 1); finished: no chunks
    ranked = ops.reshape(chunk_max + offset, (batch, k * chunks))
    _, best_chunks = ops.top_k(ranked, k, sorted=False)  # (B, K) ids into the image's K * chunks
    beam_of = best_chunks // chunks
    inside = ops.take_along_axis(ops.reshape(blocks, (batch, k * chunks, CHUNK)), best_chunks[:, :, None], axis=1)
    inside = inside + ops.take_along_axis(ops.reshape(offset, (batch, k)), beam_of, axis=1)[:, :, None]
    values, at = ops.top_k(ops.reshape(inside, (batch, k * CHUNK)), k, sorted=False)
    beams = ops.take_along_axis(beam_of, at // CHUNK, axis=1)
    tokens = ops.take_along_axis(best_chunks % chunks, at // CHUNK, axis=1) * CHUNK + at % CHUNK
    tokens = ops.minimum(tokens, vocab - 1)  # a padding column can only win where nothing finite is left
    # Finished beams: one candidate each, `<pad>` at the beam's own score.
    finished = ops.where(ops.reshape(done, (batch, k)), ops.reshape(log_probs, (batch, k)), float("-inf"))
    values = ops.concatenate([values, finished], axis=1)  # (B, 2K)
    beams = ops.concatenate([beams, ops.tile(ops.arange(k, dtype=beams.dtype)[None, :], (batch, 1))], axis=1)
    tokens = ops.concatenate([tokens, ops.full((batch, k), PAD, tokens.dtype)], axis=1)
    scores, pick = ops.top_k(values, k, sorted=False)
    return scores, ops.take_along_axis(beams, pick, axis=1), ops.take_along_axis(tokens, pick, axis=1)


def beam_search(step, state, batch: int, length: int, num_beams: int):
    """-> ((B, K, length) beams best first, (B, K) their log-probabilities).

    `step(tokens (B*K,), state) -> (logits (B*K, V), state)`, never-generated tokens' logits already at NEG.
    Stops early once every beam holds `<end>`.
    """
    k = num_beams
    rows = batch * k

    def per_beam(x):  # (B, ...) -> (B * K, ...), each row K times in a row
        return ops.repeat(x, k, axis=0)

    def gather(x, rows_from):  # rows of (B * K, ...) taken whole (one row copy each, not element by element)
        return ops.take(x, rows_from, axis=0)

    def cond(index, last, cache, prompt, done, log_probs):
        return ops.logical_not(ops.all(done))

    def body(index, last, cache, prompt, done, log_probs):
        logits, cache = step(last, cache)
        logits = ops.cast(logits, "float32")
        scores, beams, tokens = best_continuations(logits, log_probs, done, k)
        tokens = ops.reshape(ops.cast(tokens, "int32"), (rows,))
        rows_from = ops.reshape(beams + ops.arange(batch, dtype=beams.dtype)[:, None] * k, (rows,))
        prompt = ops.slice_update(gather(prompt, rows_from), [0, index], tokens[:, None])
        cache = keras.tree.map_structure(lambda x: gather(x, rows_from), cache)
        done = (tokens == END) | (tokens == PAD)
        return index + 1, tokens, cache, prompt, done, ops.reshape(scores, (rows,))

    start = ops.convert_to_tensor([0.0] + [FIRST_BEAM_ONLY] * (k - 1), "float32")
    prompt = first_prompt(rows, length)
    loop = (ops.convert_to_tensor(1, "int32"), prompt[:, 0], keras.tree.map_structure(per_beam, state), prompt,
            ops.zeros((rows,), "bool"), ops.reshape(ops.tile(start[None, :], (batch, 1)), (rows,)))
    _, _, _, prompt, done, log_probs = ops.while_loop(cond, body, loop, maximum_iterations=length - 2)
    prompt, log_probs = ops.reshape(close(prompt, done), (batch, k, length)), ops.reshape(log_probs, (batch, k))
    order = ops.argsort(-log_probs, axis=-1)
    return ops.take_along_axis(prompt, order[:, :, None], axis=1), ops.take_along_axis(log_probs, order, axis=1)
