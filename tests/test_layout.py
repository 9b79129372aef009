"""The layout table of docs/development.md is the package tree: every stage folder has a row naming each of its modules, and
every module a row names exists there."""

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
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
