"""The drawn moving-shape clips as an activity set: their motions (left, right, up, down) are the classes.

The clips are the video demo's (`synthetic_clips`), laid out as UCF101 is: ROOT/<motion>/<clip>, with
classInd.txt, trainlist01.txt and testlist01.txt (80/20 per class, seeded).
"""

from __future__ import annotations

import json
import os
import shutil

from captioner.base.atomic import write_text
from captioner.drawn.shape_clips import DIRECTIONS, write_synthetic_clips
from captioner.datasets.ucf101 import stratified_split


def write_activity_set(root: str, num_clips: int = 240, seed: int = 0, lists: bool = True) -> str:
    """Write ROOT/<motion>/<clip> (+ the three list files when `lists`); returns ROOT."""
    drawn = os.path.join(root, ".drawn")
    write_synthetic_clips(drawn, num_clips=num_clips, seed=seed)
    with open(os.path.join(drawn, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    classes = list(DIRECTIONS)
    motion = {f"{t['direction']}/{t['file']}": t["direction"] for t in truth.values()}
    split = stratified_split(motion, motion, seed, (("train", 0.8), ("test", 0.2)))
    train, test = [], []
    for name in sorted(motion):
        os.makedirs(os.path.join(root, motion[name]), exist_ok=True)
        os.replace(os.path.join(drawn, "Clips", name.split("/")[1]), os.path.join(root, name))
        if split[name] == "test":
            test.append(name)
        else:
            train.append(f"{name} {classes.index(motion[name]) + 1}")
    shutil.rmtree(drawn)
    if lists:
        write_text(os.path.join(root, "classInd.txt"), "".join(f"{i} {c}\n" for i, c in enumerate(classes, 1)))
        write_text(os.path.join(root, "trainlist01.txt"), "\n".join(train) + "\n")
        write_text(os.path.join(root, "testlist01.txt"), "\n".join(test) + "\n")
    return root
