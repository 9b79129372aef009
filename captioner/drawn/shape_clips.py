"""A built-in, seeded set of short drawn clips: a coloured shape moving left, right, up or down, in the MSVD layout.

Only the order of the frames tells the direction. A clip is four equal runs of frames. Along the motion axis the
shape goes low -> middle -> middle -> high (a rest in the middle); across it, it takes the same four values in
one of four orders that are never monotone, and always the middle in the third run. So the places a clip visits
have the same distribution for every direction and axis (checked exhaustively in the tests), any N that is a
multiple of 4 samples each run equally often, and the frame in the middle of the clip is always the centre: one
frame, the middle frame, or the mean of the frames says nothing about the motion. (Two earlier designs leaked:
a step every frame let the mean-pool baseline find the axis once frames were sampled (44% on four directions),
and four distinct along places let the middle frame give the direction away (81%).) Clips are MP4 (H.264)
and animated GIF, of 12, 16, 20 or 24 frames; the background alternates between two near-identical whites so
that no two frames are equal (GIF writers merge equal frames). `truth.json` records colour, shape, direction
and frame count of every clip.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

from captioner.base.atomic import atomic_path
from captioner.drawn.writers import write_msvd_files
from captioner.datasets.msvd import HEADER, clip_id
from captioner.drawn.shapes import COLOURS, SHAPES, _draw

DIRECTIONS = ("left", "right", "up", "down")
SPLIT_FRACTIONS = (("train", 0.7), ("val", 0.1), ("test", 0.2))
RADIUS = 0.13  # of the frame side
SPAN = (0.22, 0.78)  # positions visited along both axes, as fractions of the side
STEPS = 4  # runs of frames per clip; sampling N = 4, 8, 16 frames hits each run equally often
LOW, MIDDLE, HIGH = SPAN[0], sum(SPAN) / 2, SPAN[1]
ALONG = (LOW, MIDDLE, MIDDLE, HIGH)  # right / down; reversed for left / up
# Across the axis: the same values, never monotone, the middle in the third run (where the middle frame falls).
ACROSS_ORDERS = ((LOW, HIGH, MIDDLE, MIDDLE), (HIGH, LOW, MIDDLE, MIDDLE),
                 (MIDDLE, LOW, MIDDLE, HIGH), (MIDDLE, HIGH, MIDDLE, LOW))

# Two wordings: the demo and tests train on the first; numbers we report come from a set drawn with the second.
WORDINGS = {
    "plain": (
        "a {colour} {shape} is moving {where}",
        "a {colour} {shape} moves {where}",
        "the {colour} {shape} goes {where}",
        "a {shape} moving {where}",
        "a {colour} shape is moving {where}",
    ),
    "other": (
        "a {colour} {shape} travelling {where}",
        "the {shape} heads {where} and it is {colour}",
        "one {colour} {shape} drifts {where}",
        "a {colour} {shape} slides {where} across the frame",
        "watch the {colour} {shape} go {where}",
    ),
}
WHERE = {"left": "to the left", "right": "to the right", "up": "up", "down": "down"}


def positions(direction: str, frames: int, rng) -> list[tuple[float, float]]:
    """(x, y) of the shape in each of `frames` frames (a multiple of STEPS); y grows downwards."""
    along = ALONG if direction in ("right", "down") else ALONG[::-1]
    across = ACROSS_ORDERS[rng.integers(len(ACROSS_ORDERS))]
    run = frames // STEPS
    places = [(a, c) if direction in ("left", "right") else (c, a) for a, c in zip(along, across)]
    return [place for place in places for _ in range(run)]


def draw_frames(colour: str, shape: str, path: list[tuple[float, float]], side: int) -> list[Image.Image]:
    out = []
    for t, centre in enumerate(path):
        white = 255 - t % 2
        image = Image.new("RGB", (side, side), (white, white, white))
        _draw(ImageDraw.Draw(image), shape, colour, centre, RADIUS, side)
        out.append(image)
    return out


def save_mp4(frames: list[Image.Image], path: str, fps: int = 10) -> None:
    import av

    with atomic_path(path, suffix=".mp4") as tmp:
        with av.open(tmp, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps, options={"crf": "18"})
            stream.width, stream.height = frames[0].size
            stream.pix_fmt = "yuv420p"
            for image in frames:
                for packet in stream.encode(av.VideoFrame.from_image(image)):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)


def save_gif(frames: list[Image.Image], path: str, fps: int = 10) -> None:
    with atomic_path(path, suffix=".gif") as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=1000 // fps, loop=0)


def write_synthetic_clips(directory: str, num_clips: int = 240, seed: int = 0, side: int = 96,
                          wording: str = "plain", gif_fraction: float = 0.5) -> str:
    """Write Clips/, captions.csv (MSVD layout), split.tsv (70/10/20) and truth.json; returns the caption file.

    A few clips also get a Spanish description, which the MSVD reader must leave out.
    """
    rng = np.random.default_rng(seed)
    templates = WORDINGS[wording]
    clips_dir = os.path.join(directory, "Clips")
    os.makedirs(clips_dir, exist_ok=True)
    rows, truth, split_lines = [",".join(HEADER)], {}, []
    bounds = np.cumsum([round(f * num_clips) for _, f in SPLIT_FRACTIONS])
    for i in range(num_clips):
        colour, shape = str(rng.choice(list(COLOURS))), str(rng.choice(SHAPES))
        direction, count = str(rng.choice(DIRECTIONS)), STEPS * int(rng.integers(3, 7))
        start = int(rng.integers(0, 60))
        key = clip_id(f"drawn{seed}x{i:04d}", str(start), str(start + 2))
        ext = ".gif" if rng.random() < gif_fraction else ".mp4"
        frames = draw_frames(colour, shape, positions(direction, count, rng), side)
        (save_gif if ext == ".gif" else save_mp4)(frames, os.path.join(clips_dir, key + ext))
        video_id, _, _ = key.rsplit("_", 2)
        for n, template in enumerate(templates):
            text = template.format(colour=colour, shape=shape, where=WHERE[direction])
            rows.append(f"{video_id},{start},{start + 2},{n},clean,{n + 10},English,\"{text}\"")
        if i % 10 == 0:
            rows.append(f"{video_id},{start},{start + 2},9,clean,20,Spanish,\"una figura se mueve\"")
        truth[key] = {"colour": colour, "shape": shape, "direction": direction, "frames": count, "file": key + ext}
        split = next(name for (name, _), bound in zip(SPLIT_FRACTIONS, bounds) if i < bound)
        split_lines.append(f"{key}\t{split}")
    return write_msvd_files(directory, rows, split_lines, truth)


def named_words(caption: str, vocabulary) -> list[str]:
    return [w for w in caption.replace(",", " ").split() if w in vocabulary]


def direction_correct(caption: str, drawn: dict) -> bool:
    """The caption names exactly one direction, the drawn one."""
    return named_words(caption, DIRECTIONS) == [drawn["direction"]]


def colour_correct(caption: str, drawn: dict) -> bool:
    """The caption names exactly one colour, the drawn one."""
    return named_words(caption, COLOURS) == [drawn["colour"]]
