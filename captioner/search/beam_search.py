"""Beam search with the work per step cut to what a large vocabulary needs.

keras-nlp's BeamSampler (our reference, and what tests compare against) turns every beam's logits into
probabilities (softmax), takes their log, and ranks all beams x vocabulary candidates of an image at once:
three passes over (B * K, V) plus a top-k over K * V per image. The same beams come from a maximum per fixed
vocabulary chunk and each row's log-normaliser, logsumexp(logits); then only small arrays: an image's K best
candidates lie in at most K chunks, so the K chunks with the largest (chunk maximum + the beam's log-probability
- its normaliser) hold them all; a top-k over those K chunks' entries finishes it. A finished beam takes part as
one candidate (`<pad>`, its score unchanged) added after the chunks, not as a row of logits rewritten; beams are
reordered by whole-row copies; the first step runs once per image. XLA's CPU top-k over a 3,000-wide row is slow; over these it is not.
"""

from __future__ import annotations

from captioner.base.backend import import_keras
from captioner.search.search_tokens import END, PAD, START, close, first_prompt, write_column

keras = import_keras()
ops = keras.ops

CHUNK = 32  # vocabulary chunk (measured on the 2-core CPU: 25-50 best for 3,000 words)


def best_continuations(logits, log_probs, done, k: int, per_image: int | None = None):
    """The K best (score, beam, token) per image among every open beam's continuations and every finished beam.

    logits (B*N, V) with the never-generated tokens already at NEG; log_probs, done (B*N,), N = `per_image`
    beams of each image (K unless given: 1 for the first step, where all K beams would be the same prompt).
    -> scores, beams (0..N-1 within the image), tokens: each (B, K), in no particular order.
    """
    n = per_image or k
    logits = ops.cast(logits, "float32")
    rows, vocab = ops.shape(logits)
    batch = rows // n
    if not chunked(vocab, k):  # a small vocabulary: rank all N * V candidates at once
        norm = ops.logsumexp(logits, axis=-1, keepdims=True)
        offset = ops.where(done[:, None], float("-inf"), log_probs[:, None] - norm)
        values, at = ops.top_k(ops.reshape(logits + offset, (batch, n * vocab)), k, sorted=False)
        beams, tokens = at // vocab, at % vocab
    else:
        values, beams, tokens = _best_in_chunks(logits, log_probs, done, k, n)
    # Finished beams: one candidate each, `<pad>` at the beam's own score.
    finished = ops.where(ops.reshape(done, (batch, n)), ops.reshape(log_probs, (batch, n)), float("-inf"))
    values = ops.concatenate([values, finished], axis=1)  # (B, K + N)
    beams = ops.concatenate([beams, ops.tile(ops.arange(n, dtype=beams.dtype)[None, :], (batch, 1))], axis=1)
    tokens = ops.concatenate([tokens, ops.full((batch, n), PAD, tokens.dtype)], axis=1)
    scores, pick = ops.top_k(values, k, sorted=False)
    return scores, ops.take_along_axis(beams, pick, axis=1), ops.take_along_axis(tokens, pick, axis=1)


def chunked(vocab: int, k: int) -> bool:
    """Whether `best_continuations` ranks by vocabulary chunks (else all candidates at once: small vocabularies)."""
    return vocab >= 4 * k * CHUNK


def vocab_width(vocab: int, k: int) -> int:
    """The logits' width the beam search reads fastest: whole chunks where it ranks by chunks."""
    return -(-vocab // CHUNK) * CHUNK if chunked(vocab, k) else vocab


def _best_in_chunks(logits, log_probs, done, k: int, n: int):
    """`best_continuations` for the open beams (N per image) of a large vocabulary, by chunks."""
    rows, vocab = ops.shape(logits)
    batch, chunks = rows // n, -(-vocab // CHUNK)
    if chunks * CHUNK != vocab:  # a copy: the decoder's search tables pad its vocabulary to whole chunks instead
        logits = ops.pad(logits, [[0, 0], [0, chunks * CHUNK - vocab]], constant_values=float("-inf"))
    blocks = ops.reshape(logits, (rows, chunks, CHUNK))
    chunk_max = ops.max(blocks, axis=-1)  # (B*K, chunks)
    row_max = ops.top_k(chunk_max, 1)[0]  # as ops.max, XLA would fold it into a second pass over the logits
    norm = row_max + ops.log(ops.sum(ops.exp(logits - row_max), axis=-1, keepdims=True))  # logsumexp
    offset = ops.where(done[:, None], float("-inf"), log_probs[:, None] - norm)  # (B*K, 1); finished: no chunks
    ranked = ops.reshape(chunk_max + offset, (batch, n * chunks))
    _, best_chunks = ops.top_k(ranked, k, sorted=False)  # (B, K) ids into the image's N * chunks
    beam_of = best_chunks // chunks
    inside = ops.take_along_axis(ops.reshape(blocks, (batch, n * chunks, CHUNK)), best_chunks[:, :, None], axis=1)
    inside = inside + ops.take_along_axis(ops.reshape(offset, (batch, n)), beam_of, axis=1)[:, :, None]
    values, at = ops.top_k(ops.reshape(inside, (batch, k * CHUNK)), k, sorted=False)
    beams = ops.take_along_axis(beam_of, at // CHUNK, axis=1)
    tokens = ops.take_along_axis(best_chunks % chunks, at // CHUNK, axis=1) * CHUNK + at % CHUNK
    tokens = ops.minimum(tokens, vocab - 1)  # a padding column can only win where nothing finite is left
    return values, beams, tokens


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
        scores, beams, tokens = best_continuations(logits, log_probs, done, k)
        tokens = ops.reshape(ops.cast(tokens, "int32"), (rows,))
        rows_from = ops.reshape(beams + ops.arange(batch, dtype=beams.dtype)[:, None] * k, (rows,))
        prompt = write_column(gather(prompt, rows_from), index, tokens)
        cache = keras.tree.map_structure(lambda x: gather(x, rows_from), cache)
        done = (tokens == END) | (tokens == PAD)
        return index + 1, tokens, cache, prompt, done, ops.reshape(scores, (rows,))

    prompt = first_prompt(rows, length)
    if length < 3:  # no room for a word
        done, log_probs = ops.zeros((rows,), "bool"), ops.zeros((rows,), "float32")
    else:  # the first step once per image (its K beams would all be the same prompt), then K rows per image
        logits, state = step(ops.full((batch,), START, "int32"), state)
        scores, _, tokens = best_continuations(logits, ops.zeros((batch,), "float32"), ops.zeros((batch,), "bool"), k,
                                               per_image=1)
        tokens, log_probs = ops.reshape(ops.cast(tokens, "int32"), (rows,)), ops.reshape(scores, (rows,))
        prompt, done = write_column(prompt, 1, tokens), tokens == END
        loop = (ops.convert_to_tensor(2, "int32"), tokens, keras.tree.map_structure(per_beam, state), prompt, done,
                log_probs)
        _, _, _, prompt, done, log_probs = ops.while_loop(cond, body, loop, maximum_iterations=length - 3)
    prompt, log_probs = ops.reshape(close(prompt, done), (batch, k, length)), ops.reshape(log_probs, (batch, k))
    order = ops.argsort(-log_probs, axis=-1)
    return ops.take_along_axis(prompt, order[:, :, None], axis=1), ops.take_along_axis(log_probs, order, axis=1)
