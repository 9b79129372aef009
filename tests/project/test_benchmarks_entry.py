"""benchmarks/: one entry point lists and runs every benchmark; each has a usage and a main(argv); each run says
where its numbers came from (command, commit, date, machine)."""

import datetime
import pathlib
import subprocess
import sys

import pytest

from benchmarks import __main__ as entry
from benchmarks.measuring import machine, provenance

pytestmark = pytest.mark.backend_independent  # argument parsing and text; no benchmark is run

REPO = pathlib.Path(__file__).resolve().parents[2]
HELPERS = {"measuring", "tutorial_recipe", "serving_soak"}  # modules the benchmarks share, without a main


def test_the_list_names_every_benchmark_once_with_one_line_and_no_helper(capsys):
    assert entry.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    modules = {p.stem for p in (REPO / "benchmarks").glob("*.py") if not p.stem.startswith("_")}
    assert sorted(names) == sorted(modules - HELPERS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)


@pytest.mark.parametrize("name", sorted(entry.benchmarks()))
def test_each_benchmark_has_a_usage_and_parses_its_arguments(name, capsys):
    with pytest.raises(SystemExit) as done:
        entry.main([name, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out.lower() and f"benchmarks {name}" in out


def test_an_unknown_name_is_refused_with_the_way_to_list_them(capsys):
    assert entry.main(["no_such_benchmark"]) == 2
    assert "python -m benchmarks --list" in capsys.readouterr().err


def test_the_provenance_line_names_the_command_commit_date_and_machine():
    line = provenance(["scst", "--set", "clips"])
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert line.startswith("rows from: `python -m benchmarks scst --set clips`; commit ")
    assert head and head in line
    assert datetime.date.today().isoformat() in line and line.endswith(machine())
    assert f"{__import__('os').cpu_count()} cores" in machine()


def test_the_entry_point_runs_as_a_module_from_the_checkout():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--list"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "scst" in done.stdout, done.stderr
