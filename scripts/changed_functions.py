"""The functions of Python files whose code differs from an earlier commit's, as mutmut name patterns: the
mutants whose verdicts from a mutation run on that commit no longer stand (docs/mutation-testing.md).

    .venv/bin/python scripts/changed_functions.py COMMIT FILE...

(from the repository's root) prints one line per changed, added or renamed function or method, e.g.
`captioner.search.beam_search.x_beam_search__mutmut_*` (`module.xǁClassǁmethod__mutmut_*` for a method), ready
for `bash scripts/mutation.sh PATTERN...`; nothing for a file whose functions all read as they did. A function is
compared by its whole source text, decorators excluded."""

import ast
import subprocess
import sys


def functions(source: str) -> dict[str, str]:
    """Each function's and method's source text by its mutmut name (`x_f`, `xǁClassǁmethod`)."""
    found = {}

    def walk(node, owner):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[f"xǁ{owner}ǁ{child.name}" if owner else f"x_{child.name}"] = ast.get_source_segment(source, child)
            elif isinstance(child, ast.ClassDef) and not owner:
                walk(child, child.name)

    walk(ast.parse(source), "")
    return found


def changed(commit: str, path: str) -> list[str]:
    shown = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True)
    before = functions(shown.stdout) if shown.returncode == 0 else {}  # a file added since: every function
    with open(path, encoding="utf-8") as f:
        now = functions(f.read())
    module = path.removesuffix(".py").replace("/", ".")
    return [f"{module}.{name}__mutmut_*" for name, text in now.items() if before.get(name) != text]


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: scripts/changed_functions.py COMMIT FILE...", file=sys.stderr)
        return 2
    for path in argv[1:]:
        for pattern in changed(argv[0], path):
            print(pattern)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
