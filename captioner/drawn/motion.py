"""The harder built-in drawn clip set: close colours, a still distractor, and two speeds, in the MSVD layout.

`synthetic_clips.py`'s set is saturated (BLEU-4 0.99, colour 100%). Here one shape of seven colours (red, orange
and pink are close, so are blue and purple) and four shapes moves left, right, up or down, slowly (a fifth of the
frame over the clip) or quickly (over half of it), from a random start; in 60% of the clips a smaller shape of
another colour and kind sits still in a corner. Clips have 16, 24 or 32 frames on a tinted background that
alternates between two near-equal tones (GIF writers merge equal frames), MP4 and GIF. A path is 8 equal runs of
frames at 8 evenly spaced places, and both directions of an axis visit the same places: a single frame, or the
mean of 8 or 16 sampled frames, shows the colours and the axis of the path but neither the direction nor the
speed's sign; the order of the frames tells the direction. Two wordings, "plain" to tune on and
"other" to report on; `truth.json` has the mover, the distractor, direction, speed and frame count, and
`motion_checks` reads a caption against it. Split 70/10/20.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

from captioner.drawn.writers import write_msvd_files
from captioner.drawn.scenes import COLOURS, SHAPES, _draw_shape, article, mentions
from captioner.datasets.msvd import HEADER, clip_id
from captioner.drawn.shape_clips import save_gif, save_mp4

DIRECTIONS = ("left", "right", "up", "down")
WHERE = {"left": "to the left", "right": "to the right", "up": "up", "down": "down"}
SPEEDS = {"slowly": 0.2, "quickly": 0.55}  # distance covered over the clip, as a fraction of the side
SPAN = (0.2, 0.8)  # the mover's centre stays inside this band of the side
SPLIT_FRACTIONS = (("train", 0.7), ("val", 0.1), ("test", 0.2))
SIDE = 112
RUNS = 8  # places per path; clips have 16, 24 or 32 frames, so --frames 8 or 16 samples each place equally often
CORNERS = ((0.14, 0.14), (0.86, 0.14), (0.14, 0.86), (0.86, 0.86))

WORDINGS = {
    "plain": ("{mover} moves {speed} {where}", "the {colour} {shape} is moving {where}",
              "{mover} goes {where} {speed}", "{mover} moves {where} {company}",
              "{a_colour} shape is moving {speed} {where}"),
    "other": ("one {colour} {shape} drifts {where} {speed}", "watch the {colour} {shape} travel {where}",
              "the {shape} heads {where} {speed} and it is {colour}", "{mover} slides {where} {company_other}",
              "{mover} travelling {speed} {where}"),
}


def _mover_path(direction: str, speed: str, frames: int, rng) -> list[tuple[float, float]]:
    """(x, y) per frame: RUNS equal runs of frames, one place each, evenly spaced over the speed's distance.

    Both directions of an axis visit the same places (one list reversed), and sampling any multiple of RUNS
    frames from a clip hits every run equally often: the set of sampled places, and so any one frame or their
    mean, is the same for left and right (up and down), and only their order tells the direction.
    """
    distance = SPEEDS[speed]
    start = float(rng.uniform(SPAN[0], SPAN[1] - distance))  # the lower end of the path, either direction
    places = [start + distance * r / (RUNS - 1) for r in range(RUNS)]
    if direction in ("left", "up"):
        places = places[::-1]
    across = float(rng.uniform(0.4, 0.6))
    along = [p for p in places for _ in range(frames // RUNS)]
    return [(a, across) if direction in ("left", "right") else (across, a) for a in along]


def draw_clip(rng):
    """(frames, truth) of one random clip."""
    mover = {"colour": str(rng.choice(list(COLOURS))), "shape": str(rng.choice(SHAPES))}
    direction, speed = str(rng.choice(DIRECTIONS)), str(rng.choice(list(SPEEDS)))
    count = int(rng.choice((16, 24, 32)))
    distractor = None
    if rng.random() < 0.6:
        distractor = {"colour": str(rng.choice([c for c in COLOURS if c != mover["colour"]])),
                      "shape": str(rng.choice([s for s in SHAPES if s != mover["shape"]]))}
        corner = CORNERS[int(rng.integers(len(CORNERS)))]
        distractor.update(x=corner[0] * SIDE, y=corner[1] * SIDE, r=round(float(rng.uniform(0.07, 0.09)) * SIDE, 1))
    radius = float(rng.uniform(0.11, 0.14)) * SIDE
    fill = tuple(int(np.clip(c + rng.integers(-12, 13), 0, 255)) for c in COLOURS[mover["colour"]])
    background = tuple(int(v) for v in rng.integers(232, 255, 3))
    frames = []
    for t, (x, y) in enumerate(_mover_path(direction, speed, count, rng)):
        image = Image.new("RGB", (SIDE, SIDE), tuple(v + t % 2 for v in background))
        draw = ImageDraw.Draw(image)
        if distractor:
            _draw_shape(draw, distractor, COLOURS[distractor["colour"]])
        _draw_shape(draw, {"shape": mover["shape"], "x": x * SIDE, "y": y * SIDE, "r": radius}, fill)
        frames.append(image)
    truth = {"colour": mover["colour"], "shape": mover["shape"], "direction": direction, "speed": speed,
             "frames": count, "distractor": distractor and {k: distractor[k] for k in ("colour", "shape")}}
    return frames, truth


def captions_for(truth: dict, wording: str) -> list[str]:
    d = truth["distractor"]
    still = article(f"{d['colour']} {d['shape']}") if d else ""
    fields = {"mover": article(f"{truth['colour']} {truth['shape']}"), "colour": truth["colour"],
              "shape": truth["shape"], "a_colour": article(truth["colour"]), "speed": truth["speed"],
              "where": WHERE[truth["direction"]],
              "company": f"past a still {d['colour']} {d['shape']}" if d else "on its own",
              "company_other": f"while {still} stays put" if d else "all alone"}
    return [template.format(**fields) for template in WORDINGS[wording]]


def write_drawn_motion(directory: str, num_clips: int = 400, seed: int = 0, wording: str = "plain",
                       gif_fraction: float = 0.5) -> str:
    """Write Clips/, captions.csv (MSVD layout), split.tsv and truth.json; returns the caption file."""
    if wording not in WORDINGS:
        raise ValueError(f"unknown wording {wording!r} (plain or other)")
    rng = np.random.default_rng(seed)
    clips_dir = os.path.join(directory, "Clips")
    os.makedirs(clips_dir, exist_ok=True)
    rows, truth, split_lines = [",".join(HEADER)], {}, []
    bounds = np.cumsum([round(f * num_clips) for _, f in SPLIT_FRACTIONS])
    for i in range(num_clips):
        frames, drawn = draw_clip(rng)
        key = clip_id(f"motion{seed}x{i:04d}", "0", "2")
        ext = ".gif" if rng.random() < gif_fraction else ".mp4"
        (save_gif if ext == ".gif" else save_mp4)(frames, os.path.join(clips_dir, key + ext))
        video_id = key.rsplit("_", 2)[0]
        for n, text in enumerate(captions_for(drawn, wording)):
            rows.append(f"{video_id},0,2,{n},clean,{n + 10},English,\"{text}\"")
        truth[key] = {**drawn, "file": key + ext}
        split = next(name for (name, _), bound in zip(SPLIT_FRACTIONS, bounds) if i < bound)
        split_lines.append(f"{key}\t{split}")
    return write_msvd_files(directory, rows, split_lines, truth)


def motion_checks(caption: str, drawn: dict) -> dict:
    """What a caption says of the mover, which every caption names first: colour (its colour is the mover's,
    whatever shape it is called), shape (None when it says only "shape"), direction (exactly the drawn one is
    named), speed (the drawn one; None when it names none)."""
    words = caption.replace(",", " ").split()
    named = mentions(caption)
    colour, shape = "", None
    if named:
        colour, shape = named[0][0], named[0][1] == drawn["shape"]
        if not colour and "is" in words[named[0][3]:]:  # "the star heads up slowly and it is pink"
            after = words[words.index("is", named[0][3]) + 1:]
            colour = after[0] if after else ""
    elif "shape" in words:  # "a red shape is moving up": the colour is all it says
        i = words.index("shape")
        colour = words[i - 1] if i > 0 else ""
    speeds = [w for w in words if w in SPEEDS]
    return {"colour": colour == drawn["colour"], "shape": shape,
            "direction": [w for w in words if w in DIRECTIONS] == [drawn["direction"]],
            "speed": None if not speeds else speeds == [drawn["speed"]]}
