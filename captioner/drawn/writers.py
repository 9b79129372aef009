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


def write_image_set(directory: str, name: str, split_name: str, examples,
                    fractions: tuple[tuple[str, float], ...]) -> str:
    """Images/NAME_NNNNN.jpg, captions.token.txt, SPLIT_NAME.{split}Images.txt (consecutive images), truth.json
    from `examples`: (PIL image, captions, truth entry, JPEG quality) each, drawn in turn. Returns the caption
    file."""
    images_dir = os.path.join(directory, "Images")
    os.makedirs(images_dir, exist_ok=True)
    lines, names, truth = [], [], {}
    for i, (image, captions, entry, quality) in enumerate(examples):
        file_name = f"{name}_{i:05d}.jpg"
        image.save(os.path.join(images_dir, file_name), quality=quality)
        names.append(file_name)
        truth[file_name] = entry
        lines.extend(f"{file_name}#{n}\t{c}" for n, c in enumerate(captions))
    return _write_flickr_files(directory, split_name, names, lines, truth, fractions)


def _write_flickr_files(directory: str, prefix: str, names: list[str], lines: list[str], truth: dict,
                        fractions: tuple[tuple[str, float], ...]) -> str:
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
