#!/usr/bin/env bash
# Creates .venv (once), installs requirements.txt into it and the checkout as an editable package. Safe to run again.
# Optional extras by name: `bash scripts/setup.sh ray` also installs Ray Data (for --engine ray), `serve` the
# HTTP server's packages (for `captioner serve`), `ray-serve` Ray Serve (for `serve --engine ray`), `docs` the
# documentation site's (MkDocs, Material, mkdocstrings: `.venv/bin/mkdocs build --strict` / `serve`),
# `runtime-wheels` downloads the wheels of the runtime extras ([onnx], [litert], [serve]) into .wheels/, from which
# a test installs them into a fresh venv without TensorFlow (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $(python3 --version)"
  python3 -m venv .venv
fi
say "installing requirements.txt into .venv (TensorFlow, Keras, JAX for the tests, ...: about 1 GB the first time, then quick)"
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
for extra in "$@"; do
  say "installing the $extra extra"
  case "$extra" in
    ray) .venv/bin/python -m pip install -q --disable-pip-version-check "ray[data]>=2.40,<3" 2>&1 | { grep -v "^WARNING: Location" || true; } ;;
    # pyproject.toml's [serve] extra, and the serving tests' clients: httpx (also the serving benchmark's), the
    # Triton client (the inference protocol), Schemathesis (the fuzzer)
    serve) .venv/bin/python -m pip install -q --disable-pip-version-check "fastapi>=0.110" "uvicorn>=0.29" "python-multipart>=0.0.9" "prometheus-client>=0.20" "httpx>=0.27" "tritonclient[http]>=2.40" "schemathesis>=4.0,<5" 2>&1 | { grep -v "^WARNING: Location" || true; } ;;
    # `captioner serve --engine ray`: Ray Serve (pyproject.toml's [ray-serve] extra)
    ray-serve) .venv/bin/python -m pip install -q --disable-pip-version-check "ray[serve]>=2.40,<3" 2>&1 | { grep -v "^WARNING: Location" || true; } ;;
    # the docs site (pyproject.toml's [docs] extra)
    docs) .venv/bin/python -m pip install -q --disable-pip-version-check "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" "mkdocstrings[python]>=0.26" 2>&1 | { grep -v "^WARNING: Location" || true; } ;;
    # the runtime extras' wheels, for the test that installs captioner[onnx] into a venv without TensorFlow
    runtime-wheels) .venv/bin/python -m pip download -q --disable-pip-version-check -d .wheels "onnxruntime>=1.17" "ai-edge-litert>=1.2" "pillow>=10.0" "numpy>=1.26" "av>=12.0" "fastapi>=0.110" "uvicorn>=0.29" "python-multipart>=0.0.9" "prometheus-client>=0.20" 2>&1 | { grep -v "^WARNING: Location" || true; } ;;
    *) echo "setup.sh: unknown extra '$extra' (known: ray, serve, ray-serve, docs, runtime-wheels)" >&2; exit 2 ;;
  esac
done
# The checkout itself, editable (pyproject.toml): the `captioner` command, and `import captioner` / `import vocab`
# from any folder. Its dependencies are requirements.txt's, installed above.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$site/captioner-checkout.pth"  # what setup.sh wrote before there was packaging metadata
say "installing this checkout as the editable captioner package"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 | { grep -v "^WARNING: Location" || true; }
say "done: .venv/bin/captioner --help"
