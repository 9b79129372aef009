"""What generated captions get right about a built-in drawn set, read against its `truth.json`.

BLEU and CIDEr-D say how close a caption is to the references; these say whether it names what was drawn:
the shapes with their colours and counts, the relation and the place (scenes), the mover's colour, the
direction and the speed (motion clips), the colours and shapes (the first, easy image set).
"""

from __future__ import annotations

from captioner.drawn.motion import motion_checks
from captioner.drawn.scenes import scene_checks
from captioner.drawn.shapes import colour_shape_correct
from captioner.drawn.shape_clips import colour_correct, direction_correct


def _shapes(caption: str, drawn) -> dict:
    return {"colour+shape": colour_shape_correct(caption, drawn)}


def _clips(caption: str, drawn) -> dict:
    return {"colour": colour_correct(caption, drawn), "direction": direction_correct(caption, drawn)}


CHECKS = {"scenes": scene_checks, "motion": motion_checks, "shapes": _shapes, "clips": _clips}


def truth_shares(drawn_set: str, captions: list[tuple[str, str]], truth: dict) -> dict[str, tuple[int, int]]:
    """{check: (right, stated)} over (key, caption) pairs; `stated` leaves out captions that do not say
    (a relation or speed they never name), so a share is right / stated."""
    counts: dict[str, list[int]] = {}
    for key, caption in captions:
        for name, value in CHECKS[drawn_set](caption, truth[key]).items():
            right, stated = counts.setdefault(name, [0, 0])
            counts[name] = [right + bool(value), stated + (value is not None)]
    return {name: (right, stated) for name, (right, stated) in counts.items()}


def describe_shares(shares: dict[str, tuple[int, int]], total: int) -> str:
    """One line: "objects right 412/1000 (41%), relation right 150 of 160 stated (94%)"."""
    parts = []
    for name, (right, stated) in shares.items():
        if not stated:
            parts.append(f"{name}: none stated")
        elif stated == total:
            parts.append(f"{name} right {right}/{total} ({right / total:.0%})")
        else:
            parts.append(f"{name} right {right} of {stated} stated ({right / stated:.0%})")
    return ", ".join(parts)
