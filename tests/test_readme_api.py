"""The README's "Python API" section runs as shown, and gives the commands' captions for the same images."""

import contextlib
import io
import json
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Python API\n"):]
    section = section[:section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.slow  # trains a caption model and a classifier, as the README does
@pytest.mark.backend_independent  # what it runs is tested under JAX piece by piece
def test_the_readme_python_api_blocks_run_and_agree_with_the_commands(tmp_path, monkeypatch, run_cli):
    blocks = python_blocks()
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    printed = io.StringIO()
    for block in blocks:
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "README.md (Python API)", "exec"), scope)
    results, report = scope["results"], scope["report"]
    assert results[0].text and results[4].error == "file not found" and report.captioned == 200
    assert scope["first"].label in {"left", "right", "up", "down"}
    assert "shapes/Images/shapes_00000.jpg ->" in printed.getvalue()

    paths = ["shapes/Images/shapes_00000.jpg", "shapes/Images/shapes_00001.jpg"]
    code, out, _ = run_cli("caption", "--model", "runs/shapes-model", *paths, "--num-captions", "2", "--json")
    assert code == 0
    cli = [json.loads(line) for line in out.splitlines()]
    assert [r.text for r in results[:4]] == [cli[0]["caption"], cli[1]["caption"], cli[1]["caption"],
                                             cli[1]["caption"]]
    code, _, _ = run_cli("caption-folder", "--model", "runs/shapes-model", "shapes/Images", "--out", "cli.jsonl",
                         "--quiet")
    assert code == 0 and (tmp_path / "cli.jsonl").read_text() == (tmp_path / "runs/shapes.jsonl").read_text()
