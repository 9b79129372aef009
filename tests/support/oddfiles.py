"""A folder of the odd files real image folders hold, for robustness tests.

`make_odd_folder(dir)` returns {relative path: True if it must be captioned, False if it must be reported}.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side: int = 50_000) -> bytes:
    """A valid PNG header claiming side x side RGB pixels (7.5 GB decoded) with a few bytes of data."""
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + _png_chunk(b"IEND", b""))


def _jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def make_odd_folder(root: str) -> dict[str, bool]:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8))
    os.makedirs(os.path.join(root, "nested", "deeper"), exist_ok=True)
    expect: dict[str, bool] = {}

    def put(name: str, data: bytes, good: bool) -> None:
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        expect[name] = good

    def save(name: str, img: Image.Image, good: bool = True, **kw) -> None:
        buf = io.BytesIO()
        img.save(buf, **kw)
        put(name, buf.getvalue(), good)

    good_jpeg = _jpeg(photo)
    put("plain.jpg", good_jpeg, True)
    put("truncated.jpg", good_jpeg[: len(good_jpeg) // 2], False)
    put("corrupt.jpg", good_jpeg[:200] + bytes(rng.integers(0, 256, 2000, dtype=np.uint8)), False)
    png = io.BytesIO()
    photo.save(png, "PNG")
    put("truncated.png", png.getvalue()[: len(png.getvalue()) // 2], False)
    put("empty.jpg", b"", False)
    put("text.jpg", b"this is not an image\n", False)
    save("alpha.png", Image.new("RGBA", (40, 40), (255, 0, 0, 128)), format="PNG")
    palette = Image.new("P", (40, 40), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    save("palette_transparent.png", palette, format="PNG", transparency=0)
    save("gray.png", photo.convert("L"), format="PNG")
    save("sixteen_bit.png", Image.fromarray((rng.integers(0, 65535, (32, 32))).astype(np.uint16)), format="PNG")
    save("cmyk.jpg", photo.convert("CMYK"), format="JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6
    save("exif_rotated.jpg", photo, format="JPEG", exif=exif.tobytes())
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    put("animated.gif", buf.getvalue(), True)
    save("image.webp", photo, format="WEBP")
    save("image.tiff", photo, format="TIFF")
    save("image.bmp", photo, format="BMP")
    save("one_pixel.png", Image.new("RGB", (1, 1), (9, 9, 9)), format="PNG")
    save("wide_4000x50.jpg", Image.new("RGB", (4000, 50), (0, 128, 0)), format="JPEG")
    put("bomb.png", bomb_png(), False)
    save("ünïcödé name.jpg", photo, format="JPEG")
    save("with space.jpg", photo, format="JPEG")
    save("nested/deeper/deep.jpg", photo, format="JPEG")
    save(".hidden.jpg", photo, format="JPEG")  # hidden: not considered at all
    del expect[".hidden.jpg"]
    os.makedirs(os.path.join(root, "folder.jpg"), exist_ok=True)  # a directory named like an image
    os.makedirs(os.path.join(root, ".hidden_dir"), exist_ok=True)
    save(".hidden_dir/x.jpg", photo, format="JPEG")
    del expect[".hidden_dir/x.jpg"]
    os.symlink(".", os.path.join(root, "nested", "loop"))  # nested/loop -> nested: a loop
    os.symlink("loop.jpg", os.path.join(root, "loop.jpg"))  # a symlink to itself
    expect["loop.jpg"] = False
    os.symlink("does_not_exist.jpg", os.path.join(root, "broken_link.jpg"))
    expect["broken_link.jpg"] = False
    return expect
