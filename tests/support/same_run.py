"""Two training runs compared: their histories less the seconds each epoch took, and their models' weights."""

import numpy as np


def without_seconds(history: list[dict]) -> list[dict]:
    """A run's per-epoch history without the wall-clock seconds, which no two runs share."""
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in history]


def assert_same_weights(model, other, exact: bool = True) -> None:
    """Every weight of `model` equal to `other`'s: bit for bit, or (`exact` False) to float32 round-off."""
    for mine, theirs in zip(model.get_weights(), other.get_weights(), strict=True):
        if exact:
            np.testing.assert_array_equal(mine, theirs)
        else:
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
