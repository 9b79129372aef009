"""Content hashes of files: what a bundle records of its files, and what names a local weights file."""

from __future__ import annotations

import hashlib


def file_sha256(path: str) -> str:
    """The SHA-256 of the file's bytes, hex; read in 1 MiB blocks (a 528 MB weights file is not held in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
