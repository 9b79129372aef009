"""The two lines every command prints the same way: a skipped input, and the random-encoder warning."""

from __future__ import annotations

import sys

from captioner.features.encoder_spec import EncoderSpec


def skipped(path: str, reason: str) -> None:
    """One line on stderr per input left out, naming it and why."""
    print(f"skipped {path}: {reason}", file=sys.stderr)


def note_if_random(spec: EncoderSpec) -> None:
    """Output made with a random encoder always says so."""
    if spec.is_random:
        print(f"note: encoder uses {spec.describe()}", file=sys.stderr)
