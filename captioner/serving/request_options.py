"""A request's search options (query string or form fields) -> the batcher's key, each checked with a one-line
reason. The set of values is bounded: every new search setting compiles a search, which a client must not be
able to do without end."""

from __future__ import annotations

import math

CAPTION_OPTIONS = {"beam_size", "num_captions", "length_penalty"}
LABEL_OPTIONS = {"top_k"}
DEFAULT_BEAM = 3
MAX_LENGTH_PENALTY = 2  # in steps of 0.1


class OptionError(Exception):
    """An option value out of range; str() is the reason."""


def _integer(options: dict, name: str, default: int, low: int, high: int) -> int:
    text = options.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise OptionError(f"{name} must be a whole number, not {text!r}") from None
    if not low <= value <= high:
        raise OptionError(f"{name} must be from {low} to {high}, not {value}")
    return value


def caption_key(options: dict, max_beam: int, fixed_beam: int | None = None) -> tuple[int, int, float]:
    """(beam_size, num_captions, length_penalty): beam_size 1..max_beam (default 3, or max_beam if lower),
    num_captions 1..beam_size, length_penalty a multiple of 0.1 from 0 to 2. `fixed_beam`: an exported model's
    search, the only beam_size it takes (and its default)."""
    if fixed_beam is not None:
        beam = _integer(options, "beam_size", fixed_beam, 1, max(max_beam, fixed_beam))
        if beam != fixed_beam:
            raise OptionError(f"beam_size must be {fixed_beam}: the model's search is inside its exported file")
    else:
        beam = _integer(options, "beam_size", min(DEFAULT_BEAM, max_beam), 1, max_beam)
    num = _integer(options, "num_captions", 1, 1, beam)
    text = options.get("length_penalty") or "0"
    try:
        penalty = float(text)
    except ValueError:
        raise OptionError(f"length_penalty must be a number, not {text!r}") from None
    tenths = round(penalty * 10) if math.isfinite(penalty) else -1
    if not (0 <= tenths <= 10 * MAX_LENGTH_PENALTY and math.isclose(penalty * 10, tenths, abs_tol=1e-9)):
        raise OptionError(f"length_penalty must be a multiple of 0.1 from 0 to {MAX_LENGTH_PENALTY}, not {text!r}")
    return beam, num, tenths / 10


def label_key(options: dict, classes: int) -> int:
    """top_k, 1..the number of classes (default 1)."""
    return _integer(options, "top_k", 1, 1, classes)


# The same options as the OpenAPI schema states them (the server's /openapi.json), from the same bounds.
def caption_options(max_beam: int, fixed_beam: int | None) -> dict[str, dict]:
    beam = {"type": "integer", "minimum": 1, "maximum": max_beam,
            "description": f"beams of the search (1: greedy; default {DEFAULT_BEAM})"}
    if fixed_beam is not None:
        beam = {"type": "integer", "enum": [fixed_beam], "description": "the exported model's own search"}
    return {"beam_size": beam,
            "num_captions": {"type": "integer", "minimum": 1, "maximum": fixed_beam or max_beam,
                             "description": "captions per file, best first: at most beam_size (default 1)"},
            "length_penalty": {"type": "number", "minimum": 0, "maximum": MAX_LENGTH_PENALTY, "multipleOf": 0.1,
                               "description": "rank beams by log-probability / length ** penalty (default 0)"}}


def label_options(classes: int) -> dict[str, dict]:
    return {"top_k": {"type": "integer", "minimum": 1, "maximum": classes,
                      "description": "the most likely classes per clip (default 1)"}}
