"""Image names from caption files stay inside the image root."""

from __future__ import annotations

import os
import posixpath

from captioner.datasets.base import DatasetError
from captioner.inputs.filetypes import ANIMATED_EXTENSIONS, VIDEO_EXTENSIONS, extension


def safe_key(name: str, where: str) -> str:
    """Normalise an image name to a relative POSIX path; refuse names that leave the root.

    `where` is "file:line" (or "file: record") for the message.
    """
    cleaned = name.strip().replace("\\", "/")
    if not cleaned:
        raise DatasetError(f"{where}: empty image name")
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise DatasetError(f"{where}: image name {name!r} is an absolute path; names must be relative to the image root")
    normal = posixpath.normpath(cleaned)
    if normal == ".." or normal.startswith("../") or "\x00" in normal:
        raise DatasetError(f"{where}: image name {name!r} points outside the image root")
    return normal


def resolve_image(root: str, key: str) -> str:
    """The file for `key` under `root`; also refuses a key whose symlinks lead outside the root."""
    root_real = os.path.realpath(root)
    path = os.path.join(root, *key.split("/"))
    real = os.path.realpath(path)
    if real != root_real and not real.startswith(root_real + os.sep):
        raise DatasetError(f"{key}: resolves to {real}, outside the image root {root_real}")
    return path


def resolve_clip(root: str, key: str) -> str:
    """Like `resolve_image`; a clip named by id (MSVD's `VideoID_Start_End`) is found with any clip extension."""
    path = resolve_image(root, key)
    if os.path.exists(path) or extension(key) in VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS:
        return path
    for ext in sorted(VIDEO_EXTENSIONS | ANIMATED_EXTENSIONS):
        if os.path.exists(path + ext):
            return resolve_image(root, key + ext)
    return path
