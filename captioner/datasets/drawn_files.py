"""The files every built-in drawn set ends with: its caption file, its splits and `truth.json`, written the same
way (atomically) whichever set drew them."""

from __future__ import annotations

import os

from captioner.base.atomic import write_json, write_text


def split_bounds(fractions: tuple[tuple[str, float], ...], total: int) -> list[tuple[str, int, int]]:
    """(split, start, end) for consecutive items; the last split takes what rounding leaves."""
    out, start = [], 0
    for i, (split, fraction) in enumerate(fractions):
        end = total if i == len(fractions) - 1 else start + round(fraction * total)
        out.append((split, start, end))
        start = end
    return out


def write_flickr_files(directory: str, prefix: str, names: list[str], lines: list[str], truth: dict,
                       fractions: tuple[tuple[str, float], ...]) -> str:
    """captions.token.txt (`lines`), PREFIX.{split}Images.txt for consecutive `names`, truth.json; returns the
    caption file."""
    token_file = os.path.join(directory, "captions.token.txt")
    write_text(token_file, "\n".join(lines) + "\n")
    for split, start, end in split_bounds(fractions, len(names)):
        names_file = os.path.join(directory, f"{prefix}.{split}Images.txt")
        write_text(names_file, "".join(n + "\n" for n in names[start:end]))
    write_json(os.path.join(directory, "truth.json"), truth)
    return token_file


def write_msvd_files(directory: str, rows: list[str], split_lines: list[str], truth: dict) -> str:
    """captions.csv (MSVD rows, header first), split.tsv and truth.json; returns the caption file."""
    caption_file = os.path.join(directory, "captions.csv")
    write_text(caption_file, "\n".join(rows) + "\n")
    write_text(os.path.join(directory, "split.tsv"), "\n".join(split_lines) + "\n")
    write_json(os.path.join(directory, "truth.json"), truth)
    return caption_file
