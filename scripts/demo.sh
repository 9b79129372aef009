#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs the end-to-end demo.
# Extra arguments go to `python -m captioner demo` (e.g. --weights imagenet).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m captioner demo "$@"
