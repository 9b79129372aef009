import numpy as np
import pytest
from PIL import Image

from captioner.inputs.images import ImageError, find_images, load_image

pytestmark = pytest.mark.backend_independent  # Pillow decoding: no Keras


def save(img, path, **kw):
    img.save(path, **kw)
    return str(path)


def test_rgb_resized_to_224(tmp_path):
    arr = load_image(save(Image.new("RGB", (500, 375), (10, 200, 30)), tmp_path / "a.jpg"))
    assert arr.shape == (224, 224, 3) and arr.dtype == np.uint8
    assert abs(int(arr[100, 100, 1]) - 200) < 8


def test_alpha_is_composited_on_white(tmp_path):
    arr = load_image(save(Image.new("RGBA", (50, 50), (255, 0, 0, 0)), tmp_path / "a.png"))
    assert (arr == 255).all()


def test_grayscale_and_16bit_become_rgb(tmp_path):
    arr = load_image(save(Image.new("L", (30, 30), 128), tmp_path / "g.png"))
    assert arr.shape == (224, 224, 3) and (arr == 128).all()
    sixteen = Image.fromarray(np.full((20, 20), 65535, dtype=np.uint16))
    assert (load_image(save(sixteen, tmp_path / "s.png")) == 255).all()


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (200, 100), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 100, 100))  # white on the left half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": the white half ends up on top
    arr = load_image(save(img, tmp_path / "r.jpg", exif=exif.tobytes()))
    assert arr[20, 112].mean() > 200 and arr[200, 112].mean() < 60


def test_unreadable_files_give_one_line_reasons(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ImageError, match="empty file"):
        load_image(str(tmp_path / "empty.jpg"))
    with pytest.raises(ImageError, match="not an image"):
        load_image(str(tmp_path / "text.jpg"))
    with pytest.raises(ImageError, match="file not found"):
        load_image(str(tmp_path / "missing.jpg"))


def test_find_images_walks_folders_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for p in ("b.jpg", "sub/a.png", ".hidden/x.jpg", ".dot.jpg", "notes.txt"):
        (tmp_path / p).write_bytes(b"x")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)  # a loop must not hang the walk
    (tmp_path / "broken.jpg").symlink_to(tmp_path / "nowhere.jpg")
    items, problems, root = find_images([str(tmp_path)])
    assert [i.key for i in items] == ["b.jpg", "sub/a.png"]
    assert problems == [(str(tmp_path / "broken.jpg"), "broken symlink")]
    assert root == str(tmp_path)
