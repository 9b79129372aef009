"""The README's command blocks run as printed, so the front door cannot drift from the code.

In an empty folder laid out as the README assumes (a Flickr8k-named caption file and image folder, an MSVD folder,
a UCF101 folder, photo.jpg, clip.mp4, ... all drawn, tiny), the bash blocks of "Caption images" and "Caption clips,
recognise activities" run line by line through bash, with `.venv/bin/python` there being this interpreter. Each
`train` line gets flags appended that only make it small and offline (`--weights random-tiny`, 2 epochs, small
sizes; no ImageNet download here), and nothing else is changed. The serving block is left to tests/serving/
(a server that keeps running); the install block is what CI itself runs. The export block runs too (its pip line is
prose: tests/runtime/ installs the extra offline).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SECTIONS = ("## Caption images", "## Caption clips, recognise activities", "## Export it, run it without TensorFlow")
SMALL = {"xe": "--weights random-tiny --epochs 2 --units 16 --embed-dim 16 --quiet",
         "cider": "--epochs 1 --batch-size 8 --quiet", "cnn": "--epochs 1 --frame-size 32 --quiet"}


def readme_commands() -> list[str]:
    """The commands of the sections' bash blocks, continuation lines joined, comments left out."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for title in SECTIONS:
        section = text.split(title + "\n", 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
            joined = re.sub(r"\\\n\s*", "", block)
            commands += [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return commands


def small(command: str) -> str:
    if " train " not in command:
        return command
    kind = "cider" if "--objective cider" in command else "cnn" if "--frame-encoder cnn" in command else "xe"
    return f"{command} {SMALL[kind]}"


def lay_out(folder: pathlib.Path) -> None:
    """The files the README's commands name, drawn."""
    from captioner.drawn.shapes import write_synthetic
    from captioner.drawn.activities import write_activity_set
    from captioner.drawn.shape_clips import write_synthetic_clips

    drawn = folder / ".drawn"
    write_synthetic(str(drawn / "images"), num_images=30, seed=2)
    (drawn / "images" / "Images").rename(folder / "Flicker8k_Dataset")
    (drawn / "images" / "captions.token.txt").rename(folder / "Flickr8k.token.txt")
    for split in drawn.joinpath("images").glob("*Images.txt"):
        split.rename(folder / split.name.replace("synthetic.", "Flickr_8k."))
    photos = sorted((folder / "Flicker8k_Dataset").iterdir())
    shutil.copy(photos[0], folder / "photo.jpg")
    shutil.copy(photos[1], folder / "other.jpg")
    (folder / "home" / "holiday" / "day2").mkdir(parents=True)
    for photo in photos[:3]:
        shutil.copy(photo, folder / "home" / "holiday" / photo.name)
    shutil.copy(photos[3], folder / "home" / "holiday" / "day2" / photos[3].name)

    write_synthetic_clips(str(drawn / "clips"), num_clips=20, seed=2, side=64)
    (folder / "MSVD").mkdir()
    (drawn / "clips" / "Clips").rename(folder / "MSVD" / "YouTubeClips")
    (drawn / "clips" / "captions.csv").rename(folder / "MSVD" / "video_corpus.csv")
    (drawn / "clips" / "split.tsv").rename(folder / "MSVD" / "split.tsv")
    clips = sorted((folder / "MSVD" / "YouTubeClips").iterdir())
    shutil.copy(next(c for c in clips if c.suffix == ".mp4"), folder / "clip.mp4")
    shutil.copy(next(c for c in clips if c.suffix == ".gif"), folder / "party.gif")

    write_activity_set(str(folder / "UCF101"), num_clips=24, seed=2)
    ucf = sorted(p for p in (folder / "UCF101").rglob("*") if p.suffix in (".mp4", ".avi"))
    shutil.copy(ucf[0], folder / "clip.avi")  # the container is probed, not named by its extension

    python = folder / ".venv" / "bin" / "python"  # `py=.venv/bin/python`, as the README has it
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)


def test_the_readme_blocks_are_read_whole():
    commands = readme_commands()
    assert commands[0] == "py=.venv/bin/python"
    assert sum(" train " in c for c in commands) == 5 and any("caption-folder" in c for c in commands)
    assert all(c.startswith("$py -m captioner ") for c in commands[1:]), commands
    assert small("$py -m captioner caption --model m a.jpg") == "$py -m captioner caption --model m a.jpg"


@pytest.mark.slow  # trains four small models and runs every command of the README's workflow blocks
@pytest.mark.backend_independent  # what the commands run is tested under each backend elsewhere
def test_the_readme_workflow_runs_as_printed_on_a_drawn_set(tmp_path):
    lay_out(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    for number, command in enumerate(small(c) for c in readme_commands()):
        done = subprocess.run(["bash", "-c", "py=.venv/bin/python\n" + command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"README command {number}: {command}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, command
    assert (tmp_path / "runs" / "f8k-test.html").is_file() and (tmp_path / "runs" / "f8k-results.json").is_file()
    holiday = (tmp_path / "holiday.jsonl").read_text().splitlines()
    assert len(holiday) == 4  # --recursive: the sub-folder's photo too
    assert (tmp_path / "runs" / "f8k.onnx").is_file()
    for bundle in ("f8k-model", "f8k-scst", "msvd-model", "ucf-model", "ucf-cnn"):
        assert (tmp_path / "runs" / bundle / "config.json").is_file(), bundle
