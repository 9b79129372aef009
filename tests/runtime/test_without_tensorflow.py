"""`pip install "captioner[onnx,serve]"` into a fresh venv installs no TensorFlow, Keras or JAX, and captions with
an exported model from another folder, on the command line, from Python and over HTTP, as the full install does.
Offline: the wheels come from .wheels/ (`bash scripts/setup.sh runtime-wheels`, which the test command runs)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from tests.support.checkout_wheel import build_wheel

REPO = pathlib.Path(__file__).resolve().parents[2]
WHEELS = REPO / ".wheels"

pytestmark = [pytest.mark.slow, pytest.mark.backend_independent]  # a venv and a wheel: ~30 s


def run(*args, cwd=None, check=True):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory):
    """A venv with the checkout's wheel and its [onnx] and [serve] extras, installed from .wheels/ only."""
    if not any(WHEELS.glob("onnxruntime-*.whl")) or not any(WHEELS.glob("fastapi-*.whl")):
        pytest.skip("no runtime wheels in .wheels/ (bash scripts/setup.sh runtime-wheels)")
    work = tmp_path_factory.mktemp("runtime-venv")
    wheel = build_wheel(work / "build")
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index",
        "--find-links", WHEELS, f"{wheel}[onnx,serve]")
    return venv


def test_the_onnx_extra_installs_no_tensorflow_and_captions_from_another_folder(runtime_venv, exported, synthetic,
                                                                                tmp_path, run_cli):
    py = runtime_venv / "bin" / "python"
    for module in ("tensorflow", "keras", "jax"):
        assert run(py, "-c", f"import {module}", check=False).returncode != 0, f"{module} is installed"
    installed = run(py, "-m", "pip", "list", "--format", "json").stdout
    assert "onnxruntime" in installed and "tensorflow" not in installed.lower()

    away = tmp_path / "elsewhere"
    away.mkdir()
    images = sorted((synthetic / "Images").glob("*.jpg"))[:4]
    model = exported["onnx", 3]
    done = run(runtime_venv / "bin" / "captioner", "caption", "--model", model, *images, "--json", cwd=away)
    got = [json.loads(line) for line in done.stdout.splitlines()]
    code, out, _ = run_cli("caption", "--model", model, *images, "--json")  # the full install, same file
    assert code == 0 and got == [json.loads(line) for line in out.splitlines()]

    script = ("import sys, captioner\n"
              f"results = captioner.load({str(model)!r}, announce=False).caption({[str(p) for p in images]!r})\n"
              "print('|'.join(r.caption for r in results))\n"
              "print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))\n"
              "print(captioner.__file__)\n")
    captions, loaded, where = run(py, "-c", script, cwd=away).stdout.splitlines()
    assert captions.split("|") == [r["caption"] for r in got] and loaded == "[]"
    assert where.startswith(str(runtime_venv))


def test_a_toolkit_command_in_the_runtime_install_says_what_to_install(runtime_venv, trained, synthetic):
    image = sorted((synthetic / "Images").glob("*.jpg"))[0]
    done = run(runtime_venv / "bin" / "captioner", "caption", "--model", trained / "model", image, check=False)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr
    assert "pip install 'captioner[keras]'" in lines[0] and "(.onnx, .tflite)" in lines[0]


def test_the_runtime_install_serves_the_exported_file(runtime_venv, exported, synthetic, tmp_path):
    import socket
    import time

    import httpx

    from tests.support.live_server import upload

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    server = subprocess.Popen([str(runtime_venv / "bin" / "captioner"), "serve", "--model", str(exported["onnx", 3]),
                               "--port", str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "not ready in 120 s"
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        photos = sorted((synthetic / "Images").glob("*.jpg"))[:3]
        answer = httpx.post(url + "/v1/captions", files=upload(*photos), timeout=60).json()
    finally:
        server.terminate()
        server.wait(timeout=60)
    import captioner

    want = captioner.load(str(exported["onnx", 3]), announce=False).caption([str(p) for p in photos])
    assert [r["caption"] for r in answer["results"]] == [r.caption for r in want]
    assert answer["beam_size"] == 3
