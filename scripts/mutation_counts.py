"""Per-module counts of a mutmut run: `mutmut results --all true | python scripts/mutation_counts.py EQUIVALENTS`.

Reads mutmut's lines (`    NAME: STATUS`) on standard input and the triage file EQUIVALENTS (one surviving mutant
a line: `NAME  reason`; `#` comments), and prints a markdown table: per module the mutants, killed (a test
failed; a timeout or a test process that died counts as killed), survived and not triaged, equivalent (survived, and the triage file says
why no test can tell it apart), not reached by any of the tests, and the share of the non-equivalent mutants
killed; mutants not run (left out by the run's patterns) are counted apart. Then each survivor not yet triaged,
by name; then each stale triage entry: a mutant the tests now kill (a test was written for it, or a run that
timed out: run it again), or a name mutmut no longer makes where it still makes mutants of that function (the
function changed and its mutants were numbered anew: triage them again). Exits 1 while any survivor is
untriaged or any entry is stale.
"""

from __future__ import annotations

import collections
import sys

# a timeout, or a test process that died (mutmut says "segfault" for any killing signal, including a hung run
# stopped by hand), fails the run as a failing test does
KILLED = {"killed", "timeout", "segfault"}
NOT_REACHED = {"no tests"}
NOT_RUN = {"not checked"}


def module_of(name: str) -> str:
    """`captioner.evaluation.cider_d.xǁCiderDǁscore__mutmut_3` -> `captioner/evaluation/cider_d.py`."""
    dotted = name.split(".x", 1)[0] if ".x" in name else name.rsplit(".", 1)[0]
    return dotted.replace(".", "/") + ".py"


def read_equivalents(path: str) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"error: {path}:{number}: {name} has no reason (a line is: NAME  one-line reason)")
            out[name] = reason.strip()
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    equivalent = read_equivalents(argv[0])
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    untriaged, not_run, timed_out, seen = [], 0, 0, {}
    for line in sys.stdin:
        name, sep, status = line.strip().rpartition(": ")
        if not sep:
            continue
        seen[name] = status
        if status in NOT_RUN:  # a mutant of a module this run's patterns left out
            not_run += 1
            continue
        row = counts[module_of(name)]
        row["mutants"] += 1
        if status in KILLED:
            row["killed"] += 1
            timed_out += status != "killed"
        elif status in NOT_REACHED:
            row["not reached"] += 1
            untriaged.append((name, status))
        elif name in equivalent:
            row["equivalent"] += 1
        else:
            row["survived"] += 1
            untriaged.append((name, status))
    columns = ["mutants", "killed", "survived", "equivalent", "not reached"]
    print("| module | " + " | ".join(columns) + " | killed of non-equivalent |")
    print("| --- " * (len(columns) + 2) + "|")
    total = collections.Counter()
    for module in sorted(counts):
        total.update(counts[module])
        print(_row(module, counts[module], columns))
    print(_row("**all**", total, columns))
    if timed_out:
        print(f"({timed_out} of the killed were stopped (timeout, or a process that died), not failed by a test)")
    if not_run:
        print(f"({not_run} mutants of the configured modules were not run: not in this run's patterns)")
    for name, status in untriaged:
        print(f"untriaged ({status}): {name}")
    stale = stale_entries(equivalent, seen)
    for name, why in stale:
        print(f"stale triage entry ({why}): {name}")
    return 1 if untriaged or stale else 0


def stale_entries(equivalent: dict[str, str], seen: dict[str, str]) -> list[tuple[str, str]]:
    """Triage entries that no longer name a surviving mutant, by what mutmut's lines say of them."""
    functions = {name.rpartition("__mutmut_")[0] for name in seen}
    stale = []
    for name in equivalent:
        if seen.get(name) in KILLED:
            stale.append((name, f"{seen[name]}, not a survivor"))
        elif name not in seen and name.rpartition("__mutmut_")[0] in functions:
            stale.append((name, "no such mutant of its function now"))
    return stale


def _row(label: str, row: collections.Counter, columns: list[str]) -> str:
    live = row["mutants"] - row["equivalent"]
    share = f"{row['killed'] / live:.1%}" if live else "—"
    return f"| {label} | " + " | ".join(str(row[c]) for c in columns) + f" | {share} |"


if __name__ == "__main__":
    sys.exit(main())
