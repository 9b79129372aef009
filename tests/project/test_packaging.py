"""The package as users get it: a wheel of the checkout installed into a fresh venv gives the `captioner` command
and the API from any folder, with the version from captioner.__version__."""

import os
import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import pytest

import captioner
from tests.support.checkout_wheel import build_wheel

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow  # builds a wheel and a venv (~20 s)
@pytest.mark.backend_independent
def test_the_wheel_installs_and_runs_from_another_folder(trained, synthetic, tmp_path):
    wheel = build_wheel(tmp_path / "build")
    assert wheel.name.startswith(f"captioner-{captioner.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "captioner/api/loading.py" in names and "vocab/vocabulary.py" in names
    assert "captioner/serving/page/index.html" in names and "captioner/serving/page/page.js" in names
    assert not any(n.startswith(("tests/", "scripts/", "benchmarks/", "docs/")) for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies are reused from this venv (a path line, so its .pth files and editable finder stay off).
    pathlib.Path(site, "reuse-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip >= 22.3 installs into another interpreter's environment (console script included) with --python
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    out = subprocess.run([venv / "bin" / "captioner", "--help"], cwd=away, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "caption-folder" in out.stdout
    image = sorted((synthetic / "Images").iterdir())[0]
    script = ("import captioner, vocab; m = captioner.load(%r); r = m.caption([%r], beam_size=1)[0]; "
              "print(captioner.__file__); print(vocab.__file__); print(r.text)") % (str(trained / "model"), str(image))
    out = subprocess.run([py, "-c", script], cwd=away, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    where, vocab_where, text = out.stdout.splitlines()
    assert where.startswith(site) and vocab_where.startswith(site) and text

