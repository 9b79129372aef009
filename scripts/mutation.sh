#!/usr/bin/env bash
# Mutation testing with mutmut (configured in pyproject.toml's [tool.mutmut]; docs/mutation-testing.md): each
# mutant of the modules the project's numbers come from is tested against the stage tests (fast, unit level) that
# reach its function.
#   bash scripts/mutation.sh [PATTERN...]   set up .venv (+ mutmut), mutate and test every configured module, or
#                                           only the mutants whose names match the patterns (fnmatch, e.g.
#                                           'captioner.evaluation.cider_d.*'), then print the counts per module
#   bash scripts/mutation.sh --counts       only the counts, from the last run's record (mutants/)
# mutmut remembers results in mutants/: a second run tests only mutants of functions that changed. Workers:
# MUTATION_JOBS (default 2). Survivors are triaged in tests/equivalent_mutants.txt (name, one-line reason) or
# killed by a new test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--counts" ]; then
  bash scripts/setup.sh serve
  .venv/bin/python -m pip install -q --disable-pip-version-check "mutmut>=3.8,<4"
  .venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" "$@"
fi
.venv/bin/mutmut results --all true | .venv/bin/python scripts/mutation_counts.py tests/equivalent_mutants.txt
