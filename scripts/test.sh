#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs the test suite (what CI runs):
#   bash scripts/test.sh [PYTEST ARGS]          every test under Keras' TensorFlow backend (the default), then
#                                               the backend-dependent ones under JAX (the GPU machines' backend)
#   bash scripts/test.sh --quick [PYTEST ARGS]  the edit-test loop: TensorFlow only, tests not marked `slow`
#                                               (at most 3 minutes on the 2-core machine)
# Which tests run twice is decided by one marker, `backend_independent` (tests/conftest.py): parsers, the
# vocabulary, metrics, the cache, reports, kills and resumes run under TensorFlow only; the model, search,
# encoder, training and what touches them end to end run under both. The [serve] extra (the HTTP server) is
# installed for both tiers; the [ray] extra, Chromium and the runtime extras' wheels (.wheels/, for the test that
# installs captioner[onnx] into a venv without TensorFlow) for the whole suite only. Tests run in one process per core (at most 4;
# pytest-xdist); the whole suite hands out a test file at a time, so a file's fixtures (a Ray cluster, a trained
# clip model) are made once, the quick tier a test at a time (it has no such fixtures; 76 s against 87 s).
# Before the tests, import-linter checks the package's layers (pyproject.toml) and `mkdocs build --strict` builds the
# docs site (a broken link, anchor or API reference fails it; the [docs] extra is installed for both tiers).
# Arguments go to every pytest run (`-n 0` runs the tests in one process, e.g. for --pdb).
# A test whose prerequisite is missing (../shared/data, Java, Chromium, a Ray head, an extra) skips, and each run
# ends with the skipped tests by reason; with CI set (CI=true, as .ci/run sets it) such a test fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = "--quick" ]; then
  quick=1
  shift
fi
if [ "$quick" = 1 ]; then
  bash scripts/setup.sh serve docs
  dist=load
else
  bash scripts/setup.sh ray serve ray-serve docs runtime-wheels
  # Without a browser the browser tests skip (a person's run) or fail naming it (CI: tests/conftest.py).
  bash scripts/install_browser.sh || echo "note: the browser tests will skip (in CI: fail)" >&2
  dist=loadfile
fi

status=0
summary=()
# The package's layers (pyproject.toml): a stage imports only the stages it sits on; vocab needs no Keras.
layers=$(mktemp)
if .venv/bin/lint-imports --no-cache >"$layers" 2>&1; then
  summary+=("== import layers: kept")
else
  cat "$layers"
  summary+=("== import layers: BROKEN (above)")
  status=1
fi
# The docs site (mkdocs.yml): strict, so a broken link, a missing anchor or an unresolved API reference fails it.
docs=$(mktemp)
site=$(mktemp -d)
if NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir "$site" >"$docs" 2>&1; then
  summary+=("== docs site: built")
else
  cat "$docs"
  summary+=("== docs site: BROKEN (above)")
  status=1
fi
rm -rf "$layers" "$docs" "$site"
run_pass() {  # run_pass BACKEND [PYTEST ARGS]: one pytest run, its seconds and exit status remembered
  local backend=$1 start=$SECONDS code=0
  shift
  echo "== Keras backend: $backend"
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q -n auto --maxprocesses 4 --dist "$dist" "$@" || code=$?
  if [ "$code" = 5 ] && [ "$backend" = jax ]; then  # pytest: nothing collected; the selection had no
    code=0                                           # backend-dependent test (e.g. tests/vocab/test_vocab.py alone)
  fi
  summary+=("== $backend pass: $((SECONDS - start)) s, exit $code")
  [ "$code" = 0 ] || status=$code
}

if [ "$quick" = 1 ]; then
  run_pass tensorflow -m "not slow" "$@"
else
  run_pass tensorflow "$@"
  run_pass jax -m "not backend_independent" "$@"
fi
printf '%s\n' "${summary[@]}"
exit $status
