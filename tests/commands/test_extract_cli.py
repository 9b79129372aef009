"""`extract` and `cache` end to end on a few synthetic images, including a SIGKILL in the middle."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from captioner.features.cache import FeatureCache
from tests.support.killing import kill_after_shards

pytestmark = pytest.mark.backend_independent  # files, counts, kills; the encoder per backend: test_encoder


def test_extract_then_cache_export(synthetic, tmp_path, run_cli):
    images = tmp_path / "images"
    shutil.copytree(synthetic / "Images", images)
    (images / "bad.jpg").write_text("not an image")
    code, out, err = run_cli("extract", images, "--cache", tmp_path / "c",
                             "--weights", "random-tiny", "--batch-size", "8", "--quiet")
    assert code == 1  # one file skipped
    assert "skipped" in err and "bad.jpg: not an image" in err and "RANDOM weights" in err
    assert "21 images: 20 extracted" in out
    code, out, _ = run_cli("cache", tmp_path / "c", "--export", tmp_path / "f.npz")
    assert code == 0 and "20 entries" in out and "RANDOM" in out
    data = np.load(tmp_path / "f.npz")
    assert list(data["keys"]) == sorted(p.name for p in images.iterdir() if p.name != "bad.jpg")
    assert data["features"].shape == (20, 64) and np.isfinite(data["features"]).all()
    assert len({f.tobytes() for f in data["features"]}) == 20

    # A second run has nothing to do, and a different encoder is refused with a clear message.
    code, out, _ = run_cli("extract", images, "--cache", tmp_path / "c", "--weights", "random-tiny", "--quiet")
    assert code == 1 and "0 extracted" in out and "20 already cached" in out  # bad.jpg is named again
    code, _, err = run_cli("extract", images, "--cache", tmp_path / "c", "--weights", "random-tiny", "--encoder-seed", "5")
    assert code == 2 and err.startswith("error:") and "different encoder" in err and "Traceback" not in err


def test_usage_errors_exit_2(run_cli, tmp_path):
    assert run_cli("extract", tmp_path)[0] == 2  # --cache missing
    code, _, err = run_cli("cache", tmp_path / "none")
    assert code == 2 and "not a feature cache" in err


@pytest.mark.slow
def test_sigkill_midway_then_rerun_equals_uninterrupted(synthetic, tmp_path, run_cli):
    images = str(synthetic / "Images")
    args = ["extract", images, "--weights", "random-tiny", "--batch-size", "1", "--quiet", "--dtype", "float32",
            "--cache"]
    killed = tmp_path / "killed"
    kill_after_shards([sys.executable, "-m", "captioner", *args, str(killed)], killed, timeout=120)
    partial = len(FeatureCache.open(str(killed)))
    assert 0 < partial < 20, "the kill should land midway"

    # The rerun and the uninterrupted run need no process of their own: only the kill does.
    code, out, err = run_cli(*args, killed)
    assert code == 0, err
    assert f"{20 - partial} extracted" in out and f"{partial} already cached" in out
    code, _, err = run_cli(*args, tmp_path / "whole")
    assert code == 0, err

    a, b = FeatureCache.open(str(killed)), FeatureCache.open(str(tmp_path / "whole"))
    assert a.keys() == b.keys() and len(a) == 20
    np.testing.assert_allclose(a.get(a.keys()), b.get(b.keys()), rtol=1e-4, atol=1e-3)


def test_output_piped_into_head_is_not_an_error(tmp_path):
    from captioner.features.encoder import fingerprint

    with FeatureCache.open(str(tmp_path / "c"), fingerprint("random"), writable=True) as cache:
        cache.append([f"{i:04d}.jpg" for i in range(5000)], np.zeros((5000, 4096), np.float32))
    done = subprocess.run(f"{sys.executable} -m captioner cache {tmp_path / 'c'} --keys | head -3", shell=True,
                          capture_output=True, text=True)
    assert done.stdout.splitlines()[0].startswith("cache ") and "Traceback" not in done.stderr
