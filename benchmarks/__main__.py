"""`python -m benchmarks --list` names every benchmark; `python -m benchmarks NAME [ARGS...]` runs one.

A run first prints its `rows from:` line (the command, the commit, the date and the machine), which the docs
copy under each table, then whatever the benchmark prints.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent


def benchmarks() -> dict[str, str]:
    """Every module of this folder with a top-level `main`, and its docstring's first line (read, not imported)."""
    found = {}
    for path in sorted(HERE.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            doc = ast.get_docstring(tree) or ""
            found[path.stem] = doc.strip().splitlines()[0] if doc.strip() else "(no description)"
    return found


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    known = benchmarks()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "--list":
        width = max(map(len, known))
        for name, line in known.items():
            print(f"{name:<{width}}  {line}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in known:
        print(f"error: no benchmark named {name!r}; `python -m benchmarks --list` names them", file=sys.stderr)
        return 2
    if not any(arg in ("-h", "--help") for arg in rest):
        from benchmarks.measuring import provenance

        print(provenance(argv), flush=True)
    module = importlib.import_module(f"benchmarks.{name}")
    saved, sys.argv = sys.argv, [f"python -m benchmarks {name}", *rest]  # argparse's usage names this command
    try:
        return int(module.main(rest) or 0)
    finally:
        sys.argv = saved


if __name__ == "__main__":
    sys.exit(main())
