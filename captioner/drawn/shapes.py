"""A built-in, seeded dataset of drawn shapes with five varied captions each, in the Flickr8k layout.

It is the demo's and the tests' default: it needs no download, and it goes through the same readers as real
data. `truth.json` records what was drawn, so generated captions can be checked word by word.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from captioner.drawn.writers import write_image_set

COLOURS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (240, 210, 20),
           "purple": (140, 40, 170), "orange": (250, 130, 10)}
SHAPES = ("circle", "square", "triangle")
SIZES = {"small": 0.14, "large": 0.24}  # radius as a fraction of the image side
ONE_PLACE = {"left": (0.27, 0.5), "right": (0.73, 0.5), "top": (0.5, 0.27), "bottom": (0.5, 0.73), "middle": (0.5, 0.5)}
TWO_PLACES = {"left of": ((0.27, 0.5), (0.73, 0.5)), "above": ((0.5, 0.26), (0.5, 0.74))}
SPLIT_FRACTIONS = (("train", 0.8), ("dev", 0.1), ("test", 0.1))


def _draw(draw: ImageDraw.ImageDraw, shape: str, colour: str, centre, radius: float, side: int) -> None:
    cx, cy, r = centre[0] * side, centre[1] * side, radius * side
    fill = COLOURS[colour]
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "square":
        draw.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=fill)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8)], fill=fill)


def _one_shape_captions(s, wording: str) -> list[str]:
    where = {"left": "on the left", "right": "on the right", "top": "at the top", "bottom": "at the bottom",
             "middle": "in the middle"}[s["place"]]
    if wording == "other":
        return [
            f"a picture of a {s['size']} {s['colour']} {s['shape']} {where}",
            f"the {s['colour']} {s['shape']} is {where}",
            f"a {s['colour']} {s['shape']} drawn {where}",
            f"a single {s['size']} {s['colour']} {s['shape']}",
            f"just one {s['colour']} {s['shape']} {where} on white",
        ]
    return [
        f"a {s['size']} {s['colour']} {s['shape']} {where}",
        f"a {s['colour']} {s['shape']} {where} of the picture",
        f"there is a {s['size']} {s['colour']} {s['shape']} {where}",
        f"one {s['colour']} {s['shape']} on a white background",
        f"a {s['size']} {s['shape']} that is {s['colour']}",
    ]


def _two_shape_captions(a, b, relation, wording: str) -> list[str]:
    inverse = {"left of": "right of", "above": "below"}[relation]
    first = f"a {a['colour']} {a['shape']}"
    second = f"a {b['colour']} {b['shape']}"
    rel = "to the left of" if relation == "left of" else relation
    inv = "to the right of" if inverse == "right of" else inverse
    if wording == "other":
        return [
            f"{first} drawn {rel} {second}",
            f"there is {second} {inv} {first}",
            f"a picture with {first} and {second}",
            f"{first} together with {second}",
            f"two drawn shapes {first} {rel} a {b['size']} {b['colour']} {b['shape']}",
        ]
    return [
        f"{first} {rel} {second}",
        f"{second} {inv} {first}",
        f"{first} and {second}",
        f"two shapes {first} and {second}",
        f"{first} {rel} a {b['size']} {b['colour']} {b['shape']}",
    ]


def _sample_shape(rng, **fixed) -> dict:
    shape = {"colour": str(rng.choice(list(COLOURS))), "shape": str(rng.choice(SHAPES)),
             "size": str(rng.choice(list(SIZES)))}
    shape.update(fixed)
    return shape


def make_example(rng, side: int, wording: str = "plain"):
    """(PIL image, five captions, truth) for one random scene; `wording` picks the caption templates."""
    image = Image.new("RGB", (side, side), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if rng.random() < 0.5:
        s = _sample_shape(rng, place=str(rng.choice(list(ONE_PLACE))))
        _draw(draw, s["shape"], s["colour"], ONE_PLACE[s["place"]], SIZES[s["size"]], side)
        return image, _one_shape_captions(s, wording), [s]
    relation = str(rng.choice(list(TWO_PLACES)))
    a = _sample_shape(rng, size="small")
    b = _sample_shape(rng, size=str(rng.choice(list(SIZES))))
    while (b["colour"], b["shape"]) == (a["colour"], a["shape"]):
        b = _sample_shape(rng, size=b["size"])
    pa, pb = TWO_PLACES[relation]
    _draw(draw, a["shape"], a["colour"], pa, 0.16, side)
    _draw(draw, b["shape"], b["colour"], pb, min(SIZES[b["size"]], 0.2), side)
    return image, _two_shape_captions(a, b, relation, wording), [a, b]


def write_synthetic(directory: str, num_images: int = 300, seed: int = 0, side: int = 256,
                    wording: str = "plain") -> str:
    """Write Images/, captions.token.txt, synthetic.{train,dev,test}Images.txt and truth.json.

    Returns the path of the caption file. The same seed always gives the same bytes. Two wordings: "plain" (the
    demo and the tests) and "other" (other caption templates, for numbers reported in the docs).
    """
    if wording not in ("plain", "other"):
        raise ValueError(f"unknown wording {wording!r} (plain or other)")
    rng = np.random.default_rng(seed)
    examples = ((image, captions, shapes, 92) for image, captions, shapes in
                (make_example(rng, side, wording) for _ in range(num_images)))
    return write_image_set(directory, "shapes", "synthetic", examples, SPLIT_FRACTIONS)


def mentioned_pairs(caption: str) -> list[tuple[str, str]]:
    """(colour, shape) pairs a caption names, as "colour shape" or "size shape that is colour"."""
    words = caption.split()
    pairs = []
    for i, word in enumerate(words):
        if word not in SHAPES:
            continue
        if i > 0 and words[i - 1] in COLOURS:
            pairs.append((words[i - 1], word))
        elif words[i + 1:i + 3] == ["that", "is"] and len(words) > i + 3 and words[i + 3] in COLOURS:
            pairs.append((words[i + 3], word))
    return pairs


def colour_shape_correct(caption: str, drawn: list[dict]) -> bool:
    """True when the caption names at least one shape and every (colour, shape) it names was drawn."""
    pairs = mentioned_pairs(caption)
    truth = {(s["colour"], s["shape"]) for s in drawn}
    return bool(pairs) and all(p in truth for p in pairs)
