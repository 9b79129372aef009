"""Fake step models for the search tests: readable token tables instead of a trained network (as keras-hub's
tests do). The next token's distribution depends only on the previous token; `score` is the eager oracle of a
token sequence's log-probability under such a model."""

import numpy as np

from captioner.search.search_tokens import END, NEG, NEVER

# Token ids: 0 <pad>, 1 <start>, 2 <end>, 3 <unk>, then words.
WORDS = ["<pad>", "<start>", "<end>", "<unk>", "a", "b", "c", "d"]
A, B, C, D = 4, 5, 6, 7


class TableStep:
    """Next-token distribution depends only on the previous token: table[prev] = probabilities."""

    def __init__(self, table):
        self.table = np.log(np.asarray(table, dtype=np.float32) + 1e-12)

    def initial_state(self, features):
        from captioner.search.searcher import ops

        return (ops.zeros((ops.shape(features)[0], 1)),)

    def step(self, tokens, state):
        from captioner.search.searcher import ops

        return ops.take(ops.convert_to_tensor(self.table), tokens, axis=0), state


def table(rows):
    t = np.full((len(WORDS), len(WORDS)), 1e-6)
    for prev, probs in rows.items():
        t[prev] = 1e-6
        for tok, p in probs.items():
            t[prev, tok] = p
    return t


def score(step_model, features, tokens):
    """Log-probability of each token sequence (B, L), `<start>` first, up to and including `<end>`: an eager
    numpy oracle, one step at a time, independent of the compiled search. An `<end>` in the last position is the
    only token allowed there: it adds nothing."""
    state = step_model.initial_state(features)
    total = np.zeros(len(tokens))
    alive = np.ones(len(tokens), dtype=bool)
    for i in range(1, tokens.shape[1] - 1):
        logits, state = step_model.step(tokens[:, i - 1], state)
        logits = np.asarray(logits, dtype=np.float64)
        logits[:, list(NEVER)] = NEG
        logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        total += np.where(alive, logp[np.arange(len(tokens)), tokens[:, i]], 0.0)
        alive &= tokens[:, i] != END
        if not alive.any():
            break
    return total
