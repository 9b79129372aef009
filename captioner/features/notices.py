"""The two warnings every command gives the same way: a skipped input, and a random encoder. Logged to the
`captioner` logger (the commands show its lines on stderr; outside them, Python's last-resort handler prints
warnings to stderr when nothing is configured)."""

from __future__ import annotations

import logging

from captioner.features.encoder_spec import EncoderSpec

log = logging.getLogger(__name__)


def skipped(path: str, reason: str) -> None:
    """One line per input left out, naming it and why."""
    log.warning("skipped %s: %s", path, reason)


def note_if_random(spec: EncoderSpec) -> None:
    """Output made with a random encoder always says so."""
    if spec.is_random:
        log.warning("note: encoder uses %s", spec.describe())
