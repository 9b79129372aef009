"""Activity data in the UCF101 layout: ROOT/<ClassName>/<clip>.<ext>, with the optional split files beside the
class folders: classInd.txt (`1 ClassName`), trainlist01.txt (`ClassName/clip.avi 1`), testlist01.txt
(`ClassName/clip.avi`). Without the lists, a seeded split stratified by class.

Class names may hold spaces and any Unicode (compared in NFC, so a folder written by macOS in NFD still matches
the list). Every problem is one line naming the file (and line): an empty class folder, a list naming a missing
clip or an unknown class, a label that disagrees with classInd.txt, a clip in two classes or in both lists.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from captioner.datasets.base import DatasetError
from captioner.inputs.filetypes import looks_like_animation, looks_like_video

CLASS_INDEX, TRAIN_LIST, TEST_LIST = "classInd.txt", "trainlist01.txt", "testlist01.txt"
SEEDED_FRACTIONS = (("train", 0.7), ("val", 0.1), ("test", 0.2))
VAL_FROM_TRAIN = 0.1  # the lists have no validation split: this share of each class's train clips is held out


@dataclass
class LabelSet:
    root: str
    classes: list[str]  # index i is class i (classInd.txt order, else sorted folder names)
    clips: dict[str, str]  # clip key ("Class/clip.mp4", relative to root) -> class name
    splits: dict[str, str]  # clip key -> train | val | test (clips in no list are absent)
    split_source: str  # how the split was made, for messages
    skipped: list[str] = field(default_factory=list)  # one line per file left out, with the reason

    def select(self, split: str | None) -> dict[str, str]:
        """{clip key: class} of one split (all clips for None)."""
        return {k: c for k, c in self.clips.items() if split is None or self.splits.get(k) == split}

    def label(self, key: str) -> int:
        return self.classes.index(self.clips[key])

    def training_keys(self) -> list[str]:
        """The clips of the train and validation splits, sorted: what training needs features for."""
        return sorted(k for k in self.clips if self.splits.get(k) in ("train", "val"))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _is_clip(name: str) -> bool:
    return looks_like_video(name) or looks_like_animation(name)


def load_labels(root: str, seed: int = 0) -> LabelSet:
    if not os.path.isdir(root):
        raise DatasetError(f"{root}: not a folder (expected ROOT/<ClassName>/<clip>)")
    folders = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: no class folders (expected ROOT/<ClassName>/<clip>)")
    clips, owner, skipped = {}, {}, []
    for folder in folders:
        found = 0
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if name.startswith("."):
                    continue
                if not _is_clip(name):
                    skipped.append(f"skipped {path}: not a clip file (in a class folder)")
                    continue
                key = os.path.relpath(path, root).replace(os.sep, "/")
                if name in owner:
                    raise DatasetError(f"{path}: the same clip as {os.path.join(root, owner[name])}, in two classes "
                                       f"({owner[name].split('/')[0]!r} and {folder!r})")
                owner[name] = key
                clips[key] = _nfc(folder)  # the key stays as on disk: it is also the file's path
                found += 1
        if not found:
            raise DatasetError(f"{os.path.join(root, folder)}: empty class folder (no clips)")
    classes = sorted({_nfc(f) for f in folders})
    index_path = os.path.join(root, CLASS_INDEX)
    if os.path.exists(index_path):
        classes = _read_class_index(index_path, set(classes))
    has_train, has_test = (os.path.exists(os.path.join(root, n)) for n in (TRAIN_LIST, TEST_LIST))
    if has_train != has_test:
        raise DatasetError(f"{root}: {TRAIN_LIST if has_train else TEST_LIST} without "
                           f"{TEST_LIST if has_train else TRAIN_LIST}; give both, or neither for a seeded split")
    if has_train:
        splits = _read_lists(root, clips, classes, seed)
        source = f"{TRAIN_LIST} / {TEST_LIST} in {root}, validation {VAL_FROM_TRAIN:.0%} of each class's train " \
                 f"clips (seed {seed})"
        unlisted = len(clips) - len(splits)
        if unlisted:
            skipped.append(f"note: {unlisted} clip(s) in no split list are left out")
    else:
        splits = stratified_split(clips, {k: "train" for k in clips}, seed, SEEDED_FRACTIONS)
        source = (f"no {TRAIN_LIST}/{TEST_LIST} in {root}: a seeded split, "
                  f"{'/'.join(f'{f:.0%}' for _, f in SEEDED_FRACTIONS)} train/val/test per class (seed {seed})")
    return LabelSet(root, classes, clips, splits, source, skipped)


def _lines(path: str):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, _nfc(line.strip())


def _read_class_index(path: str, folders: set[str]) -> list[str]:
    by_index: dict[int, str] = {}
    for number, line in _lines(path):
        head, _, name = line.partition(" ")
        name = name.strip()
        if not head.isdigit() or not name:
            raise DatasetError(f"{path}:{number}: expected 'INDEX ClassName', got {line!r}")
        if int(head) in by_index:
            raise DatasetError(f"{path}:{number}: index {head} given twice")
        if name in by_index.values():
            raise DatasetError(f"{path}:{number}: class {name!r} given twice")
        if name not in folders:
            raise DatasetError(f"{path}:{number}: unknown class {name!r} (no folder of that name)")
        by_index[int(head)] = name
    missing = sorted(folders - set(by_index.values()))
    if missing:
        raise DatasetError(f"{path}: class folder {missing[0]!r} is not listed")
    return [by_index[i] for i in sorted(by_index)]


def _read_lists(root: str, clips: dict[str, str], classes: list[str], seed: int) -> dict[str, str]:
    splits: dict[str, str] = {}
    on_disk = {_nfc(k): k for k in clips}
    for name, split in ((TRAIN_LIST, "train"), (TEST_LIST, "test")):
        path = os.path.join(root, name)
        for number, line in _lines(path):
            key, label = line, None
            last = line.rsplit(" ", 1)
            if len(last) == 2 and last[1].isdigit():
                key, label = last[0].strip(), int(last[1])
            key = key.replace("\\", "/")
            cls = key.split("/")[0]
            if "/" not in key or cls not in classes:
                raise DatasetError(f"{path}:{number}: unknown class {cls!r} in {key!r}")
            if key not in on_disk:
                raise DatasetError(f"{path}:{number}: names {key}, which is not in {root}")
            key = on_disk[key]
            if label is not None and not 1 <= label <= len(classes):
                raise DatasetError(f"{path}:{number}: label {label} is not in {CLASS_INDEX} (1..{len(classes)})")
            if label is not None and classes[label - 1] != cls:
                raise DatasetError(f"{path}:{number}: label {label} is {classes[label - 1]!r}, but the clip is in "
                                   f"class {cls!r}")
            if key in splits and splits[key] != split:
                raise DatasetError(f"{path}:{number}: {key} is in both {TRAIN_LIST} and {TEST_LIST}")
            splits[key] = split
    train = {k: "train" for k, s in splits.items() if s == "train"}
    splits.update(stratified_split(clips, train, seed, (("train", 1 - VAL_FROM_TRAIN), ("val", VAL_FROM_TRAIN))))
    return splits


def stratified_split(clips: dict[str, str], chosen: dict[str, str], seed: int, fractions) -> dict[str, str]:
    """Split the `chosen` clips class by class in these fractions; every class gets at least one of each
    split when it has enough clips."""
    rng = np.random.default_rng(seed)
    out = {}
    for cls in sorted({clips[k] for k in chosen}):
        keys = sorted(k for k in chosen if clips[k] == cls)
        keys = [keys[i] for i in rng.permutation(len(keys))]
        start = 0
        for n, (split, fraction) in enumerate(fractions):
            count = len(keys) - start if n == len(fractions) - 1 else max(1, round(fraction * len(keys)))
            out.update((k, split) for k in keys[start:start + count])
            start += count
    return out
