"""Messy folders, bad caption files, kills at any moment, and untrusted files (issue: nothing lost, nothing hidden)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from captioner.inputs.images import ImageError, load_image
from tests.support.oddfiles import bomb_png, make_odd_folder

pytestmark = pytest.mark.backend_independent  # messy inputs, kills, resumes: our code, not Keras


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    return root, make_odd_folder(str(root))


def _no_traceback(*texts):
    for text in texts:
        assert "Traceback" not in text


def test_bomb_is_refused_from_its_header(tmp_path):
    (tmp_path / "bomb.png").write_bytes(bomb_png(60_000))
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(str(tmp_path / "bomb.png"))


def test_extract_on_odd_folder(odd_folder, tmp_path, run_cli):
    root, expect = odd_folder
    code, out, err = run_cli("extract", root, "--cache", tmp_path / "c", "--weights", "random-tiny", "--quiet")
    _no_traceback(out, err)
    assert code == 1
    from captioner.features.cache import FeatureCache

    assert FeatureCache.open(str(tmp_path / "c")).keys() == sorted(k for k, good in expect.items() if good)
    skipped = [line for line in err.splitlines() if line.startswith("skipped ")]
    bad = sorted(k for k, good in expect.items() if not good)
    assert len(skipped) == len(bad)  # each bad file reported exactly once
    for name in bad:
        assert sum(f"{name}:" in line for line in skipped) == 1, name


def test_caption_folder_on_odd_folder(odd_folder, trained, tmp_path, run_cli):
    root, expect = odd_folder
    start = time.perf_counter()
    code, out, err = run_cli("caption-folder", "--model", trained / "model", root, "--out", tmp_path / "r.jsonl",
                             "--recursive", "--quiet")
    _no_traceback(out, err)
    assert code == 1
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    by_image = {r["input"]: r for r in records}
    assert len(by_image) == len(records) == len(expect)  # every file exactly once
    for name, good in expect.items():
        assert ("caption" in by_image[name]) == good, name
        assert ("error" in by_image[name]) != good, name
    assert "decompression bomb" in by_image["bomb.png"]["error"]
    assert by_image["loop.jpg"]["error"] == "symlink loop"
    print(f"caption-folder on {len(expect)} odd files: {time.perf_counter() - start:.1f} s including model loading")


@pytest.mark.parametrize("text, message", [
    (b"a.jpg#0\tA dog\nb.jpg#0\t\n", "t.txt:2: empty caption"),
    (b"a.jpg#0\tA dog\na.jpg#0\tA cat\n", "t.txt:2: duplicate key"),
    (b"a.jpg#0\tA dog\nb.jpg 0 A cat\n", "t.txt:2: expected"),
    (b"a.jpg#0\tA dog\nb.jpg#0\tA caf\xe9\n", "t.txt:2: not valid UTF-8"),
    (b"a.jpg#0\tA dog\n../../etc/passwd.jpg#0\tA cat\n", "t.txt:2: .*outside the image root"),
])
def test_bad_caption_files_give_one_line_errors(trained, tmp_path, run_cli, text, message):
    (tmp_path / "t.txt").write_bytes(text)
    code, out, err = run_cli("evaluate", "--model", trained / "model", "--captions", tmp_path / "t.txt",
                             "--images", tmp_path, "--cache", trained / "cache", "--split", "all")
    _no_traceback(out, err)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err)


def test_missing_images_are_named_and_left_out(trained, synthetic, tmp_path, run_cli):
    captions = (synthetic / "captions.token.txt").read_text().splitlines()
    (tmp_path / "t.txt").write_text("\n".join(captions[:10] + ["ghost.jpg#0\tA ghost"]) + "\n")
    code, out, err = run_cli("evaluate", "--model", trained / "model", "--captions", tmp_path / "t.txt",
                             "--images", synthetic / "Images", "--cache", trained / "cache", "--split", "all",
                             "--quiet", "--no-meteor")
    _no_traceback(out, err)
    assert code == 1 and "ghost.jpg: file not found" in err and "images 2," in out


def test_bundle_with_pickle_or_unknown_layers_is_refused(trained, tmp_path, run_cli):
    bundle = tmp_path / "m"
    shutil.copytree(trained / "model", bundle, ignore=shutil.ignore_patterns("checkpoints"))
    (bundle / "model.pkl").write_bytes(b"\x80\x04cos\nsystem\n.")
    code, _, err = run_cli("caption", "--model", bundle, "x.jpg")
    assert code == 2 and "model.pkl" in err and "carry code" in err
    os.unlink(bundle / "model.pkl")
    config = json.loads((bundle / "config.json").read_text())
    config["decoder"]["layers"] = [{"class_name": "Lambda", "config": {"function": "os.system"}}]
    (bundle / "config.json").write_text(json.dumps(config))
    code, _, err = run_cli("caption", "--model", bundle, "x.jpg")
    assert code == 2 and "unknown decoder settings ['layers']" in err


def test_second_extract_into_a_locked_cache_is_refused(trained, synthetic, run_cli):
    from captioner.features.cache import FeatureCache

    with FeatureCache.open(str(trained / "cache"), writable=True):
        code, _, err = run_cli("extract", synthetic / "Images" / "shapes_00000.jpg", "--cache", trained / "cache",
                               "--weights", "random-tiny")
    assert code == 2 and "in use by another writer" in err


# --- kills ---------------------------------------------------------------------------------------------

def _kill_when(proc, ready, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.01)
    assert proc.poll() is None, "the process ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _state(model):
    try:
        return json.loads((model / "checkpoints" / "state.json").read_text())
    except (OSError, ValueError):
        return None


@pytest.mark.slow
def test_train_killed_in_second_epoch_then_resumed(trained, synthetic, tmp_path, run_cli):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    model = tmp_path / "model"
    args = ["train", "--captions", str(synthetic / "captions.token.txt"), "--images", str(synthetic / "Images"),
            "--cache", str(tmp_path / "cache"), "--out", str(model), "--weights", "random-tiny", "--epochs", "4",
            "--patience", "4", "--batch-size", "2", "--units", "16", "--embed-dim", "8", "--max-length", "4",
            "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "captioner", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _kill_when(proc, lambda: (_state(model) or {}).get("epochs_done", 0) >= 1)
    assert "truncated" in proc.stderr.read()  # captions over --max-length are cut, with a note
    assert not (model / "config.json").exists()  # no half bundle: the bundle is written only at the end
    done = _state(model)["epochs_done"]
    assert 1 <= done < 4

    code, _, err = run_cli(*args, "--resume")  # only the kill needs a process of its own
    assert code == 0, err
    assert f"resuming after epoch {done}" in err
    history = _state(model)["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    code, out, err = run_cli("caption", "--model", model, synthetic / "Images" / "shapes_00000.jpg")
    assert code == 0 and out.count("\t") == 1, err


@pytest.mark.slow
def test_caption_folder_killed_then_resumed(trained, synthetic, tmp_path, run_cli):
    out = tmp_path / "r.jsonl"
    out.write_text('{"image": "old.jpg", "caption": "an old complete file"}\n')
    args = ["caption-folder", "--model", str(trained / "model"), str(synthetic / "Images"), "--out", str(out),
            "--batch-size", "1", "--beam-size", "1", "--quiet"]
    journal = tmp_path / ".r.jsonl.partial.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "captioner", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: journal.exists() and journal.read_text().count("\n") >= 3)
    assert out.read_text() == '{"image": "old.jpg", "caption": "an old complete file"}\n'  # old file intact
    partial = journal.read_text().count("\n")

    code, stdout, err = run_cli(*args, "--resume")
    assert code == 0, err
    assert f"{partial} kept from the earlier output" in stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["input"] for r in records) == sorted(os.listdir(synthetic / "Images"))
    assert all(r.get("caption") for r in records) and not journal.exists()


def test_a_bomb_is_named_with_its_pixels_and_the_projects_limit_whoever_caught_it(tmp_path):
    """Over Pillow's own limit Pillow refuses first: the reason still gives the project's 64 M, not Pillow's."""
    from PIL import Image

    (tmp_path / "huge.png").write_bytes(bomb_png(60_000))  # 3.6 G pixels: Pillow's limit
    with pytest.raises(ImageError) as caught:
        load_image(str(tmp_path / "huge.png"))
    assert str(caught.value) == ("image too large (3,600,000,000 pixels, limit 64,000,000); refused as a possible "
                                 "decompression bomb")
    Image.new("1", (9000, 9000)).save(tmp_path / "big.png")  # 81 M pixels: under Pillow's, over ours
    with pytest.raises(ImageError) as caught:
        load_image(str(tmp_path / "big.png"))
    assert str(caught.value) == ("image too large (9000x9000 pixels, limit 64,000,000); refused as a possible "
                                 "decompression bomb")
