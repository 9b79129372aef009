#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs the test suite, under both Keras backends:
# TensorFlow (the default) and JAX (the GPU path; jax[cpu] here). Arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh
status=0
echo "== Keras backend: tensorflow"
KERAS_BACKEND=tensorflow .venv/bin/python -m pytest -q "$@" || status=$?
echo "== Keras backend: jax"
KERAS_BACKEND=jax .venv/bin/python -m pytest -q "$@" || status=$?
exit $status
