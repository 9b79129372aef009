"""The code the docs show runs as shown: docs/python-api.md's blocks in order in an empty folder, then the
README's Python block in the same folder; they give the commands' captions for the same images."""

import contextlib
import io
import json
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def python_blocks(page: str) -> list[str]:
    """Every ```python block of a page, in order."""
    return re.findall(r"```python\n(.*?)```", (REPO / page).read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow  # trains a caption model and a classifier, as the page does
@pytest.mark.backend_independent  # what it runs is tested under JAX piece by piece
def test_the_python_api_page_and_the_readme_run_and_agree_with_the_commands(tmp_path, monkeypatch, run_cli):
    blocks = python_blocks("docs/python-api.md")
    readme = python_blocks("README.md")
    assert len(blocks) >= 4 and len(readme) == 1
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    printed = io.StringIO()
    for block in blocks:
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "docs/python-api.md", "exec"), scope)
    readme_printed = io.StringIO()
    with contextlib.redirect_stdout(readme_printed):
        exec(compile(readme[0], "README.md", "exec"), {})
    lines = readme_printed.getvalue().splitlines()
    assert lines[0].startswith("shapes/Images/shapes_00000.jpg -> ") and lines[1] == "no/such.jpg -> file not found"
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
    assert lines[0] == f"shapes/Images/shapes_00000.jpg -> {cli[0]['caption']}"  # beam 3, as `caption`


@pytest.mark.backend_independent
def test_the_readme_is_a_front_door_whose_links_lead_into_the_repository():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert local, "the README links into the docs"
    assert [t for t in local if not (REPO / t).exists()] == []
    assert not re.search(r"\.\./|issue \d", text)  # no paths outside the repository, no issue numbers


@pytest.mark.backend_independent
def test_the_data_layouts_block_calls_the_drawn_set_writers_as_they_are(monkeypatch):
    """The block draws 6,000 files; here each writer is replaced by a check of its call against the real signature."""
    import inspect

    from captioner.drawn import motion as drawn_motion
    from captioner.drawn import scenes as drawn_scenes

    calls = []
    for module, name in ((drawn_scenes, "write_drawn_scenes"), (drawn_motion, "write_drawn_motion")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, **k: calls.append(
            (_real.__name__, inspect.signature(_real).bind(*a, **k).arguments)))
    (block,) = python_blocks("docs/data-layouts.md")
    exec(compile(block, "docs/data-layouts.md", "exec"), {})
    assert calls == [("write_drawn_scenes", {"directory": "scenes", "num_images": 5000, "seed": 1, "wording": "other"}),
                     ("write_drawn_motion", {"directory": "motion", "num_clips": 1000, "seed": 1, "wording": "other"})]


@pytest.mark.backend_independent
def test_every_page_with_python_code_has_its_code_run_by_a_test():
    run_here = {"docs/python-api.md", "README.md", "docs/data-layouts.md"}
    run_elsewhere = {"docs/training.md",  # tests/models/test_frame_cnn.py: the Keras example against the models' CNN
                     "docs/export.md",  # tests/runtime/test_exported_files.py: an exported file's Python API
                     "docs/serving.md"}  # tests/serving/test_inference_protocol.py: the tritonclient example
    pages = {str(p.relative_to(REPO)) for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
             if python_blocks(str(p.relative_to(REPO)))}
    assert pages == run_here | run_elsewhere
