"""The harder built-in drawn image set: one to three shapes, with sizes, relations and counts, clutter and blur.

`synthetic.py`'s set is saturated (BLEU-4 0.99 on its test split), so it can no longer show whether a change
helps. Here a scene is one shape placed somewhere, two shapes in a spatial relation, or three shapes that must
be counted ("two blue triangles and an orange circle", "three pink stars"), in seven colours and four shapes,
with jittered places, sizes and colours, faint clutter lines and dots, a little blur, tinted backgrounds and
eight image sizes (not all square). Captions use correct articles and plurals. Two wordings of the same scenes:
"plain" to tune on and "other" (other templates) to report on; `truth.json` records every shape drawn, so a
caption can be checked for its objects, counts and relation (`scene_checks`). Flickr8k layout, 70/10/20 split,
so that 5,000 images give 1,000 test images.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from captioner.drawn.writers import write_image_set

COLOURS = {"red": (210, 40, 40), "orange": (245, 135, 25), "yellow": (230, 200, 30), "green": (40, 155, 60),
           "blue": (40, 80, 210), "purple": (130, 55, 170), "pink": (240, 125, 185)}
SHAPES = ("circle", "square", "triangle", "star")
PLURALS = {s: s + "s" for s in SHAPES}
SIZES = {"small": (0.09, 0.12), "large": (0.17, 0.21)}  # radius range as a fraction of the shorter side
CANVASES = ((224, 224), (256, 256), (192, 256), (256, 192), (320, 240), (240, 320), (160, 160), (288, 288))
PLACES = {"on the left": (0.25, 0.5), "on the right": (0.75, 0.5), "at the top": (0.5, 0.25),
          "at the bottom": (0.5, 0.75), "in the middle": (0.5, 0.5)}
RELATIONS = {"to the left of": "to the right of", "to the right of": "to the left of", "above": "below",
             "below": "above"}
SPLIT_FRACTIONS = (("train", 0.7), ("dev", 0.1), ("test", 0.2))
NUMBERS = {"one": 1, "two": 2, "three": 3, "a": 1, "an": 1, "single": 1}


def article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _noun(s: dict, size: bool = False) -> str:
    return article(f"{s['size']} {s['colour']} {s['shape']}" if size else f"{s['colour']} {s['shape']}")


def _draw_shape(draw: ImageDraw.ImageDraw, s: dict, fill) -> None:
    cx, cy, r = s["x"], s["y"], s["r"]
    if s["shape"] == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif s["shape"] == "square":
        h = r * 0.85
        draw.rectangle([cx - h, cy - h, cx + h, cy + h], fill=fill)
    elif s["shape"] == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8)], fill=fill)
    else:
        angles = np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        draw.polygon([(cx + q * np.cos(a), cy - q * np.sin(a)) for a, q in zip(angles, radii)], fill=fill)


def _shape(rng, colour=None, shape=None, size=None) -> dict:
    return {"colour": colour or str(rng.choice(list(COLOURS))), "shape": shape or str(rng.choice(SHAPES)),
            "size": size or str(rng.choice(list(SIZES)))}


def _place(s: dict, centre, width: int, height: int, rng, jitter: float = 0.04) -> dict:
    side = min(width, height)
    low, high = SIZES[s["size"]]
    s["r"] = round(float(rng.uniform(low, high)) * side, 1)
    s["x"] = round((centre[0] + float(rng.uniform(-jitter, jitter))) * width, 1)
    s["y"] = round((centre[1] + float(rng.uniform(-jitter, jitter))) * height, 1)
    return s


def _one(rng, width, height):
    where = str(rng.choice(list(PLACES)))
    s = _place(_shape(rng), PLACES[where], width, height, rng)
    return [s], {"kind": "one", "place": where}


def _two(rng, width, height):
    relation = str(rng.choice(list(RELATIONS)))
    a = _shape(rng, size="small") if rng.random() < 0.5 else _shape(rng)
    b = _shape(rng)
    while (b["colour"], b["shape"]) == (a["colour"], a["shape"]):
        b = _shape(rng, size=b["size"])
    if a["size"] == b["size"] == "large":
        b["size"] = "small"  # two large shapes side by side would touch on the smallest canvases
    offset = float(rng.uniform(-0.08, 0.08))
    first, second = {"to the left of": ((0.27, 0.5 + offset), (0.73, 0.5 - offset)),
                     "to the right of": ((0.73, 0.5 + offset), (0.27, 0.5 - offset)),
                     "above": ((0.5 + offset, 0.27), (0.5 - offset, 0.73)),
                     "below": ((0.5 + offset, 0.73), (0.5 - offset, 0.27))}[relation]
    return [_place(a, first, width, height, rng), _place(b, second, width, height, rng)], \
        {"kind": "two", "relation": relation}


def _three(rng, width, height):
    cells = [(0.2 + 0.3 * (i % 3), 0.2 + 0.3 * (i // 3)) for i in range(9)]
    chosen = rng.choice(len(cells), size=3, replace=False)
    pair = _shape(rng)
    if rng.random() < 0.3:
        shapes = [dict(pair) for _ in range(3)]
    else:
        odd = _shape(rng)
        while (odd["colour"], odd["shape"]) == (pair["colour"], pair["shape"]):
            odd = _shape(rng)
        shapes = [dict(pair), dict(pair), odd]
    for s in shapes:
        s["size"] = "small"
    placed = [_place(s, cells[int(c)], width, height, rng, jitter=0.03) for s, c in zip(shapes, chosen)]
    return placed, {"kind": "three"}


def _clutter(draw: ImageDraw.ImageDraw, rng, width: int, height: int, background) -> None:
    """Faint lines and dots: a little darker than the background, never mistakable for a shape."""
    for _ in range(int(rng.integers(2, 7))):
        tone = tuple(int(c - rng.integers(18, 40)) for c in background)
        if rng.random() < 0.6:
            x0, x1 = rng.uniform(0, width, 2)
            y0, y1 = rng.uniform(0, height, 2)
            draw.line([(x0, y0), (x1, y1)], fill=tone, width=1)
        else:
            x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(1, 3)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=tone)


def draw_scene(rng):
    """(PIL image, shapes, scene) for one random scene; shapes carry colour, shape, size and pixel x, y, r."""
    width, height = CANVASES[int(rng.integers(len(CANVASES)))]
    kind = rng.random()
    shapes, scene = (_one if kind < 0.3 else _two if kind < 0.7 else _three)(rng, width, height)
    background = tuple(int(v) for v in rng.integers(232, 256, 3))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    _clutter(draw, rng, width, height, background)
    for s in shapes:
        fill = tuple(int(np.clip(c + rng.integers(-18, 19), 0, 255)) for c in COLOURS[s["colour"]])
        _draw_shape(draw, s, fill)
    blur = float(rng.uniform(0, 1.2))
    if blur > 0.2:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    scene["width"], scene["height"] = width, height
    return image, shapes, scene


def _group(shapes: list[dict]) -> tuple[str, str, str]:
    """(the whole group, the pair part, the odd one) of a three-shape scene; odd is "" when all three match."""
    pair = shapes[0]
    plural = f"{pair['colour']} {PLURALS[pair['shape']]}"
    odd = shapes[2]
    if (odd["colour"], odd["shape"]) == (pair["colour"], pair["shape"]):
        return f"three {plural}", plural, ""
    return f"two {plural} and {_noun(odd)}", plural, _noun(odd)


def captions_for(shapes: list[dict], scene: dict, wording: str) -> list[str]:
    if scene["kind"] == "one":
        s, where = shapes[0], scene["place"]
        if wording == "other":
            return [f"a picture of {_noun(s, True)} {where}", f"the {s['colour']} {s['shape']} is {where}",
                    f"{_noun(s)} drawn {where}", f"a single {s['size']} {s['colour']} {s['shape']}",
                    f"just one {s['colour']} {s['shape']} {where}"]
        return [f"{_noun(s, True)} {where}", f"{_noun(s)} {where} of the picture",
                f"there is {_noun(s, True)} {where}",
                f"{_noun(s)} on a light background", f"{article(s['size'] + ' ' + s['shape'])} that is {s['colour']}"]
    if scene["kind"] == "two":
        a, b = shapes
        rel = scene["relation"]
        inv = RELATIONS[rel]
        if wording == "other":
            return [f"{_noun(a)} drawn {rel} {_noun(b)}", f"there is {_noun(b)} {inv} {_noun(a)}",
                    f"a picture with {_noun(a)} and {_noun(b)}", f"{_noun(a)} together with {_noun(b)}",
                    f"two drawn shapes {_noun(a, True)} {rel} {_noun(b, True)}"]
        return [f"{_noun(a)} {rel} {_noun(b)}", f"{_noun(b)} {inv} {_noun(a)}", f"{_noun(a)} and {_noun(b)}",
                f"two shapes {_noun(a)} and {_noun(b)}", f"{_noun(a, True)} {rel} {_noun(b, True)}"]
    group, plural, odd = _group(shapes)
    if wording == "other":
        if odd:
            return [f"a picture of {group}", f"{group} drawn on the page", f"{odd} together with two {plural}",
                    f"we see {group}", f"a pair of {plural} and {odd}"]
        return [f"a picture of {group}", f"{group} drawn on the page", f"three {plural} together", f"we see {group}",
                f"a trio of {plural}"]
    if odd:
        return [group, f"there are {group}", f"{odd} and two {plural}", f"{group} on a light background",
                f"three shapes {group}"]
    return [group, f"there are {group}", f"a group of three {plural}", f"{group} on a light background",
            f"three {PLURALS[shapes[0]['shape']]} that are {shapes[0]['colour']}"]


def write_drawn_scenes(directory: str, num_images: int = 5000, seed: int = 0, wording: str = "plain") -> str:
    """Write Images/, captions.token.txt, scenes.{train,dev,test}Images.txt and truth.json; returns the caption file.

    The same seed always gives the same bytes; both wordings of one seed draw the same images.
    """
    if wording not in ("plain", "other"):
        raise ValueError(f"unknown wording {wording!r} (plain or other)")
    rng = np.random.default_rng(seed)

    def examples():
        for _ in range(num_images):
            image, shapes, scene = draw_scene(rng)
            quality = int(rng.integers(75, 96))
            yield image, captions_for(shapes, scene, wording), {**scene, "shapes": shapes}, quality

    return write_image_set(directory, "scene", "scenes", examples(), SPLIT_FRACTIONS)


def mentions(caption: str) -> list[tuple[str, str, int, int]]:
    """(colour, shape, count, word index) for every shape a caption names, in order.

    Reads "[count] [size] colour shape(s)" and "[count] [size] shape(s) that is/are colour"; a count is a number
    word, an article, "a pair of" or "a trio of". A shape named without a colour has colour "".
    """
    words = caption.replace(",", " ").replace(":", " ").split()
    singular = {p: s for s, p in PLURALS.items()} | {s: s for s in SHAPES}
    found = []
    for i, word in enumerate(words):
        if word not in singular:
            continue
        j = i - 1
        colour = ""
        if j >= 0 and words[j] in COLOURS:
            colour, j = words[j], j - 1
        elif words[i + 1:i + 2] in (["that"],) and len(words) > i + 3 and words[i + 3] in COLOURS:
            colour = words[i + 3]
        while j >= 0 and words[j] in SIZES:
            j -= 1
        count = 2 if word in PLURALS.values() else 1
        if j >= 0 and words[j] in NUMBERS:
            count = NUMBERS[words[j]]
        elif j >= 1 and words[j] == "of" and words[j - 1] in ("pair", "trio"):
            count = 2 if words[j - 1] == "pair" else 3
        found.append((colour, singular[word], count, i))
    return found


def _relation_between(words: list[str], start: int, end: int) -> str | None:
    between = " ".join(words[start + 1:end])
    named = [r for r in RELATIONS if f" {r} " in f" {between} "]
    named = [r for r in named if not any(r != other and r in other for other in named)]
    return named[0] if len(named) == 1 else None


def scene_checks(caption: str, drawn: dict) -> dict:
    """What a caption gets right about a drawn scene (`truth.json` entry).

    objects: the shapes it names, with their colours and counts, are exactly the ones drawn. relation (two-shape
    scenes): whether the relation it states between the two drawn shapes is the drawn one; None when it names
    other shapes or states no relation (a relation between shapes that were not drawn can be neither).
    place (one-shape scenes): True or False when the caption states one, None when it does not.
    """
    named = mentions(caption)
    counts: dict = {}
    for colour, shape, count, _ in named:
        counts[colour, shape] = counts.get((colour, shape), 0) + count
    truth: dict = {}
    for s in drawn["shapes"]:
        truth[s["colour"], s["shape"]] = truth.get((s["colour"], s["shape"]), 0) + 1
    checks = {"objects": counts == truth, "relation": None, "place": None}
    words = caption.replace(",", " ").split()
    if drawn["kind"] == "two" and len(named) == 2:
        stated = _relation_between(words, named[0][3], named[1][3])
        a, b = [(s["colour"], s["shape"]) for s in drawn["shapes"]]
        first, second = named[0][:2], named[1][:2]
        if stated is not None and {first, second} == {a, b}:
            rel = drawn["relation"]
            checks["relation"] = stated == (rel if (first, second) == (a, b) else RELATIONS[rel])
    if drawn["kind"] == "one":
        stated = [p for p in PLACES if f" {p}" in f" {caption}"]
        if stated:
            checks["place"] = stated == [drawn["place"]]
    return checks
