"""--engine ray: the same cache and captions as the local engine, on 40 real photos, also when a worker or the
driver is killed midway. Ray runs locally with the machine's CPUs; a cluster is joined by its address."""

import importlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.support.killing import kill_after_shards


pytestmark = pytest.mark.slow  # Ray clusters, and a command process per Ray run

HERE = pathlib.Path(__file__).resolve().parent
PHOTOS = 40
# Clusters from Ray 2.59 on ask for a token (~/.ray/auth_token, written when the test cluster starts); older
# Rays ignore this variable.
RAY_ENV = {**os.environ, "RAY_AUTH_MODE": "token"}


def _ray_or_skip():
    try:
        importlib.import_module("ray")
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs the [ray] extra: its absence there is a failure, not a skip
        pytest.skip("Ray is not installed (bash scripts/setup.sh ray)")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster (3 logical CPUs: two encoder actors and a decoding task) that commands join."""
    _ray_or_skip()
    head = subprocess.Popen([sys.executable, str(HERE.parent / "support" / "ray_head.py"), "3"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=RAY_ENV)
    address = head.stdout.readline().strip()
    if not address:
        head.wait()
        pytest.skip("Ray cannot start on this machine")
    yield address
    head.stdin.close()
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        head.kill()


@pytest.fixture(scope="module")
def photos(shared_data, tmp_path_factory):
    """A folder of 40 real Flickr8k photos (links)."""
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted((shared_data / "flickr8k_sample" / "Images").glob("*.jpg"))[:PHOTOS]:
        (folder / path.name).symlink_to(path)
    return folder


@pytest.fixture(scope="module")
def local_export(photos, tmp_path_factory):
    """The local engine's cache of the photos (made in this process), exported."""
    work = tmp_path_factory.mktemp("local")
    _in_process("extract", photos, "--cache", work / "cache", "--weights", "random-tiny", "--batch-size", "4")
    return _export(work / "cache")


def _in_process(*args):
    """A local-engine command in this process: no Ray in it, so nothing here needs a process of its own."""
    from captioner.cli import main

    assert main([*map(str, args), "--quiet"]) == 0


def _cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "captioner", *map(str, args), "--quiet"], capture_output=True,
                          text=True, env=RAY_ENV, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _export(cache) -> dict:
    from captioner.features.cache import FeatureCache

    out = str(cache) + ".npz"
    with FeatureCache.open(str(cache)) as opened:
        opened.export(out)
    data = np.load(out)
    return {"keys": list(data["keys"]), "features": data["features"]}


def assert_same_cache(got: dict, want: dict) -> None:
    """Same keys once each; features bit-identical where the batches were made up alike, else within one
    float16 step plus float32 rounding (another batch composition changes the encoder's last bits)."""
    assert got["keys"] == want["keys"]
    assert len(set(got["keys"])) == len(got["keys"])
    a, b = got["features"].astype(np.float32), want["features"].astype(np.float32)
    step = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(np.float16)).astype(np.float32)
    scale = np.abs(b).max(axis=1, keepdims=True)
    assert np.all(np.abs(a - b) <= step + 1e-6 * scale)


@pytest.mark.backend_independent  # Ray's own start; actors under each backend: the next test
def test_extract_on_a_local_ray_gives_the_local_engines_cache(photos, local_export, tmp_path):
    """No --ray-address: the command starts a Ray of its own on this machine."""
    _ray_or_skip()
    proc = _cli("extract", photos, "--cache", tmp_path / "cache", "--weights", "random-tiny", "--batch-size", "4",
                "--engine", "ray")
    assert f"{PHOTOS} extracted" in proc.stdout
    got = _export(tmp_path / "cache")
    assert_same_cache(got, local_export)
    assert np.array_equal(got["features"], local_export["features"])  # measured: same batches, same bits


def test_caption_folder_on_ray_gives_the_local_captions_and_cache(cluster, photos, trained, tmp_path):
    """Two encoder+search actors; the cache the run fills equals the local engine's. The suite's model (3 epochs,
    tiny encoder) already captions these photos in several ways (9 distinct captions of 40 measured), so that
    equal captions say something."""
    model = trained / "model"
    results = {}
    for engine, extra in (("local", []), ("ray", ["--engine", "ray", "--ray-address", cluster, "--workers", "2"])):
        out = tmp_path / f"{engine}.jsonl"
        run = _cli if engine == "ray" else _in_process
        run("caption-folder", "--model", model, photos, "--out", out, "--cache", tmp_path / engine,
            "--batch-size", "8", *extra)
        records = [json.loads(line) for line in out.read_text().splitlines()]
        results[engine] = {r["input"]: r["caption"] for r in records}
        assert len(records) == len(results[engine]) == PHOTOS
    assert results["ray"] == results["local"]
    assert len(set(results["local"].values())) >= 2
    assert_same_cache(_export(tmp_path / "ray"), _export(tmp_path / "local"))


@pytest.mark.backend_independent  # what is killed and retried is Ray's and ours, not Keras'
def test_a_killed_worker_is_replaced_and_its_batch_run_again(cluster, photos, local_export, tmp_path):
    cache = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-m", "captioner", "extract", str(photos), "--cache", str(cache),
                             "--weights", "random-tiny", "--batch-size", "1", "--engine", "ray",
                             "--ray-address", cluster, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=RAY_ENV)
    shards = cache / "shards"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and \
            not (shards.is_dir() and sum(p.name.endswith(".keys.json") for p in shards.iterdir()) >= 2):
        time.sleep(0.05)
    victims = _encoder_actor_pids()
    assert victims and proc.poll() is None, "the run ended before a worker could be killed"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert f"{PHOTOS} images: {PHOTOS} extracted" in out
    assert_same_cache(_export(cache), local_export)


@pytest.mark.backend_independent  # what is killed and retried is Ray's and ours, not Keras'
def test_a_killed_driver_reruns_to_the_same_cache_without_duplicates(cluster, photos, local_export, tmp_path):
    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "captioner", "extract", str(photos), "--cache", str(cache), "--weights", "random-tiny",
           "--batch-size", "1", "--engine", "ray", "--ray-address", cluster, "--quiet"]
    kill_after_shards(cmd, cache, shards=2, timeout=300, env=RAY_ENV)
    rerun = _cli(*cmd[3:-1])
    done = int(rerun.stdout.split(" already cached")[0].rsplit(" ", 1)[1])
    assert 0 < done < PHOTOS  # committed batches were kept, not redone
    assert_same_cache(_export(cache), local_export)


@pytest.mark.backend_independent  # what is killed and retried is Ray's and ours, not Keras'
def test_a_killed_caption_folder_resumes_each_image_once(cluster, photos, trained, tmp_path):
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "captioner", "caption-folder", "--model", str(trained / "model"), str(photos),
           "--out", str(out), "--cache", str(tmp_path / "cache"), "--batch-size", "1", "--engine", "ray",
           "--ray-address", cluster, "--quiet"]
    kill_after_shards(cmd, tmp_path / "cache", shards=2, timeout=300, env=RAY_ENV)
    assert not out.exists()  # the output appears whole or not at all
    proc = _cli(*cmd[3:-1], "--resume")
    kept = int(re.search(r"(\d+) kept", proc.stdout).group(1))
    assert 0 < kept < PHOTOS  # the journal's captions were taken over, the rest captioned now
    images = [json.loads(line)["input"] for line in out.read_text().splitlines()]
    assert sorted(images) == sorted(p.name for p in photos.iterdir())


@pytest.mark.backend_independent  # argument checks
def test_engine_options_are_checked(run_cli, photos, tmp_path, monkeypatch):
    code, _, err = run_cli("extract", photos, "--cache", tmp_path / "c", "--weights", "random-tiny", "--workers", "2")
    assert code == 2 and "--engine ray" in err
    code, _, err = run_cli("extract", photos, "--cache", tmp_path / "c", "--weights", "random-tiny", "--engine", "ray",
                           "--ray-address", "127.0.0.1:1")
    assert code == 2 and "--ray-address 127.0.0.1:1: nothing answers there" in err
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the [ray] extra were not installed
    code, _, err = run_cli("extract", photos, "--cache", tmp_path / "c", "--weights", "random-tiny", "--engine", "ray")
    assert code == 2 and "needs Ray" in err and "pip install" in err
    assert err.count("\n") <= 2  # the random-encoder note and the one-line error


def _encoder_actor_pids() -> list[int]:
    """Processes running an encoder actor (Ray names them after the stage)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if b"MapBatches(EncodeFiles)" in f.read():
                    pids.append(int(entry))
        except (OSError, ValueError):
            continue
    return pids


@pytest.mark.backend_independent  # no Keras here
def test_rays_core_log_lines_are_kept_off_stderr_and_everything_else_passes():
    script = (
        "import os, sys\n"
        "from captioner.engines.ray_log_filter import without_core_logs\n"
        "with without_core_logs():\n"
        "    os.write(2, b'[2026-11-27 06:43:58,463 E 5623 5623] core_worker.cc:2465: Actor with class name\\n')\n"
        "    print('skipped a.jpg: empty file (0 bytes)', file=sys.stderr, flush=True)\n"
        "    os.write(2, b'\\rextract [====] 3/40')\n"
        "    os.write(2, b'[2026-11-27 06:43:59,001 W 1 2] gcs_client.cc:210: retrying\\n[not a log] kept\\n')\n"
        "print('after', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)  # bytes: "\r" as is
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"skipped a.jpg: empty file (0 bytes)\n\rextract [====] 3/40[not a log] kept\nafter\n"
