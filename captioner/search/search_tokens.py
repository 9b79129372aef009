"""The token rules both search loops follow (ids as in every `vocab.Vocabulary`).

A caption is `<start>` + words + `<end>`, then `<pad>` to the end of the buffer. `<pad>`, `<start>` and `<unk>`
are never generated: their logits get NEG added (for the decoder inside its classifier's bias, so no pass over
the logits does it; a `where` per step over (rows, vocabulary) was a pass of its own). A finished row only
continues with `<pad>` at log-probability 0, and the buffer's last position only holds `<end>`.
"""

from __future__ import annotations

from captioner.base.backend import import_keras
# re-exported: the search modules and their tests read the ids here
from captioner.search.search_ids import END, PAD, START, UNK  # noqa: F401

ops = import_keras().ops
NEVER = (PAD, START, UNK)  # tokens that are never generated
NEG = -1e9


def never_bias(vocab: int, width: int | None = None):
    """(width or vocab,) float32: NEG at the tokens that are never generated and at padding ids >= vocab, 0
    elsewhere."""
    ids = ops.arange(width or vocab, dtype="int32")
    banned = ops.any(ids[:, None] == ops.convert_to_tensor(NEVER, "int32")[None, :], axis=1) | (ids >= vocab)
    return ops.cast(ops.where(banned, NEG, 0.0), "float32")


def first_prompt(rows: int, length: int):
    """(rows, length) int32: `<start>` then `<pad>`."""
    return ops.concatenate([ops.full((rows, 1), START, "int32"), ops.full((rows, length - 1), PAD, "int32")], axis=1)


def write_column(prompt, index, tokens):
    """`prompt` (rows, length) with column `index` set to `tokens` (rows,): a select over the buffer rather than
    an in-place slice update, so that the loop exports (ONNX has no XLA DynamicUpdateSlice) at the cost of one
    pass over (rows, length) int32 per step, small beside the step's matrix products."""
    column = ops.arange(ops.shape(prompt)[1], dtype="int32")[None, :] == index
    return ops.where(column, ops.cast(tokens, prompt.dtype)[:, None], prompt)


def close(prompt, done):
    """The buffer's last position: `<end>` for the rows still open, `<pad>` for the finished ones."""
    return write_column(prompt, ops.shape(prompt)[1] - 1, ops.where(done, PAD, END))
