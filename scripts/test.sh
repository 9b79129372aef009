#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh
exec .venv/bin/python -m pytest -q "$@"
