#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs the test suite, under both Keras backends:
# TensorFlow (the default) and JAX (the GPU path; jax[cpu] here). Arguments go to both pytest runs.
# The [ray] extra is installed too; the Ray fault tests (driver logic, the same whatever the Keras backend)
# run in the TensorFlow pass only, which keeps CI's time down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ray
bash scripts/install_browser.sh
status=0
echo "== Keras backend: tensorflow"
KERAS_BACKEND=tensorflow .venv/bin/python -m pytest -q "$@" || status=$?
echo "== Keras backend: jax"
KERAS_BACKEND=jax .venv/bin/python -m pytest -q -m "not backend_independent" "$@" || status=$?
exit $status
