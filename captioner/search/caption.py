"""A generated caption: a plain value, importable without Keras (the API's results and the server hold it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caption:
    """A generated caption: its words joined by spaces, and its log-probability (natural log, summed over the
    words and <end>)."""

    text: str
    log_prob: float
