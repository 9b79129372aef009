"""A wheel of the checkout, built from a copy of what it is made of (so setuptools' build/ folder does not land in
the checkout), offline: --no-build-isolation (this venv's setuptools builds it), --no-deps (our two packages)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]


def build_wheel(work: pathlib.Path) -> pathlib.Path:
    """The checkout's wheel, built under `work` (which it makes): its path."""
    source = work / "source"
    source.mkdir(parents=True)
    for name in ("captioner", "vocab"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(work / "dist"), str(source)], check=True, capture_output=True)
    wheel, = (work / "dist").glob("captioner-*.whl")
    return wheel
