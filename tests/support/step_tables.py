"""Fake step models for the search tests: readable token tables instead of a trained network (as keras-hub's
tests do). The next token's distribution depends only on the previous token."""

import numpy as np

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
