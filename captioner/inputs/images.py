"""Image files -> validated 224x224 RGB uint8 arrays. Every failure is an ImageError with a one-line reason."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:  # decode_budget imports ImageError from here
    from captioner.inputs.decode_budget import DecodeBudget

from captioner.inputs.filetypes import looks_like_image

# Refuse before decoding: a 40,000 x 40,000 PNG is a few KB on disk and 4.8 GB in memory.
MAX_PIXELS = 64_000_000


class ImageError(Exception):
    """An unreadable image or clip; str() is the reason, without the file name."""


# Reasons for failures of opening any file, image or clip.
FILE_REASONS = {FileNotFoundError: "file not found", IsADirectoryError: "is a directory",
                PermissionError: "permission denied"}


def file_reason(exc: OSError) -> str:
    """The reason for one of FILE_REASONS' errors, subclasses included (PyAV raises its own FileNotFoundError)."""
    return next(reason for kind, reason in FILE_REASONS.items() if isinstance(exc, kind))


def load_image(path, size: int = 224, budget: DecodeBudget | None = None) -> np.ndarray:
    """Decode `path` (a file name, or a binary file object such as io.BytesIO) to a (size, size, 3) uint8 RGB array.

    EXIF orientation applied, first frame of animations, alpha composited on white, 16-bit scaled to 8,
    squashed (not cropped) to size x size with bilinear filtering. `budget`: charged the image's pixels from its
    header, before it decodes (the server's decode budget; none for files on disk).
    """
    with opened_image(path) as img:
        if budget is not None:
            budget.pixels(*img.size)
        if img.format == "JPEG":
            img.draft("RGB", (size, size))  # let libjpeg decode at a reduced scale: much faster
        img.seek(0)
        return to_pixels(ImageOps.exif_transpose(img), size)


@contextlib.contextmanager
def opened_image(path, unknown: str = "not an image (unknown format)") -> Iterator[Image.Image]:
    """Pillow's image of `path`, its size checked before any decoding; every failure inside -> ImageError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ImageError(f"image too large ({width}x{height} pixels, limit {MAX_PIXELS:,}); "
                                     "refused as a possible decompression bomb")
                yield img
    except ImageError:
        raise
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise ImageError(file_reason(exc)) from None
    except UnidentifiedImageError:
        raise ImageError("empty file (0 bytes)" if size_or_none(path) == 0 else unknown) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refused it before our own check could: say it in our terms, with our limit
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)):,} pixels" if found else "its header's size"
        raise ImageError(f"image too large ({size}, limit {MAX_PIXELS:,}); refused as a possible decompression "
                         "bomb") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageError(f"cannot decode image ({reason})") from None


def to_pixels(img: Image.Image, size: int) -> np.ndarray:
    """Any PIL image (a photo, a video frame) -> (size, size, 3) uint8 RGB: the one resize recipe."""
    return np.asarray(_to_rgb(img).resize((size, size), Image.BILINEAR), dtype=np.uint8)


def size_or_none(path) -> int | None:
    """Bytes in a file (or an in-memory buffer such as io.BytesIO), None when it cannot be read."""
    if hasattr(path, "getbuffer"):
        return path.getbuffer().nbytes
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or pixels.max() > 255 else 255.0
        img = Image.fromarray(np.clip(pixels / top * 255.0, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":
        img = Image.fromarray(np.clip(np.asarray(img), 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


@dataclass(frozen=True)
class ImageFile:
    """An image, or a clip when `frames` > 0 (read as that many frames sampled uniformly)."""

    key: str  # path relative to the root (or a dataset's clip id), POSIX separators
    path: str
    frames: int = 0

    def cache_keys(self, count: int = 1) -> list[str]:
        """Feature-cache keys: the image's key, or one per (clip, N, frame index) for `count` frames.

        A clip's frames are committed in one batch, so frame 0 being cached means the whole clip is.
        """
        return [self.key] if not self.frames else [f"{self.key}@{self.frames}:{i}" for i in range(count)]


def _key(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def find_images(paths: list[str], root: str | None = None, recursive: bool = True, accept=looks_like_image
                ) -> tuple[list[ImageFile], list[tuple[str, str]], str]:
    """Expand files and folders into image files (names that `accept`), sorted by key.

    Returns (images, problems, root): problems are (path, reason) for things that cannot even be tried
    (missing paths, broken symlinks). Files named explicitly are always tried; inside folders only accepted
    names count, hidden files and folders are ignored, and symlink loops are visited once.
    """
    root = root or default_root(paths)
    found: dict[str, ImageFile] = {}
    problems: list[tuple[str, str]] = []
    for given in paths:
        if os.path.isdir(given):
            _walk(given, root, recursive, accept, found, problems)
        elif os.path.lexists(given) and not os.path.exists(given):
            problems.append((given, _missing_reason(given)))
        elif os.path.exists(given):
            found.setdefault(_key(given, root), ImageFile(_key(given, root), given))
        else:
            problems.append((given, "no such file or directory"))
    return [found[k] for k in sorted(found)], problems, root


def default_root(paths: list[str]) -> str:
    """The folder keys are relative to: the folder given, or the deepest folder holding everything given."""
    folders = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(p) or ".") for p in paths]
    return os.path.commonpath(folders) if folders else os.getcwd()


def _missing_reason(path: str) -> str:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
    return "broken symlink" if os.path.islink(path) else "vanished while listing"


def _walk(folder, root, recursive, accept, found, problems) -> None:
    seen_dirs: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        st = os.stat(dirpath)
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop or a second link to a visited folder
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        for name in sorted(filenames):
            if name.startswith(".") or not accept(name):
                continue
            path = os.path.join(dirpath, name)
            if not os.path.exists(path):
                problems.append((path, _missing_reason(path)))
                continue
            key = _key(path, root)
            found.setdefault(key, ImageFile(key, path))
