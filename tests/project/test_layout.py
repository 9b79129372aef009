"""The layout table of docs/development.md is the package tree: every stage folder has a row naming each of its modules, and
every module a row names exists there."""

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
# Rows that say what their modules cover instead of naming each: the caption-file readers, one module per command.
NAMED_ONLY_AS_A_FOLDER = {"datasets", "commands"}


@pytest.mark.backend_independent
def test_the_layout_table_matches_the_package_tree():
    text = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    table = text[text.index("\n## Layout\n"):]
    rows = dict(re.findall(r"^\| `captioner/(\w+)/` \| (.*) \|$", table, flags=re.M))
    stages = {p.name for p in (REPO / "captioner").iterdir() if (p / "__init__.py").exists()}
    assert set(rows) == stages
    for stage in stages:
        folder = REPO / "captioner" / stage
        assert (folder / "__init__.py").read_text().startswith('"""'), f"{stage}/__init__.py needs its docstring"
        if stage in NAMED_ONLY_AS_A_FOLDER:
            continue
        named = set(re.findall(r"`(\w+\.py)`", rows[stage]))
        present = {p.name for p in folder.glob("*.py")} - {"__init__.py"}
        assert named == present, f"captioner/{stage}/: docs/development.md names {sorted(named - present)} that are not there, " \
                                 f"and not {sorted(present - named)}"


@pytest.mark.backend_independent
def test_the_tests_sit_in_a_folder_named_for_the_stage_they_test():
    stages = {p.name for p in (REPO / "captioner").iterdir() if (p / "__init__.py").exists()} | {"vocab"}
    tests = REPO / "tests"
    assert not list(tests.glob("test_*.py")), "a test file at the top of tests/: put it in its stage's folder"
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name not in ("__pycache__", "data")}
    assert folders - stages == {"project", "support"}, f"tests/ folders that name no stage: {sorted(folders - stages)}"
    assert not list((tests / "support").glob("test_*.py")), "tests/support/ holds helpers, not tests"
    for folder in folders:
        assert (tests / folder / "__init__.py").exists(), f"tests/{folder}/ needs __init__.py (test modules by package)"
