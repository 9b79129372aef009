"""An exported file read back: its record checked (missing, another version, another file's, not a model at
all: one line naming the file), bad inputs getting the reasons a bundle's inputs get, its search kept."""

import json
import shutil

import pytest

pytestmark = pytest.mark.backend_independent  # the files are made under TensorFlow; reading them uses no Keras


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note: encoder uses RANDOM")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def rewritten_onnx(source, target, metadata):
    """`source` with its captioner metadata replaced by `metadata` (a string, or None to drop it)."""
    import onnx

    proto = onnx.load(str(source))
    kept = [p for p in proto.metadata_props if p.key != "captioner"]
    del proto.metadata_props[:]
    for p in kept:
        proto.metadata_props.add(key=p.key, value=p.value)
    if metadata is not None:
        proto.metadata_props.add(key="captioner", value=metadata)
    onnx.save(proto, str(target))
    return target


def test_an_exported_file_captions_from_the_command_line_with_the_search_inside_it(exported, synthetic, run_cli):
    images = sorted((synthetic / "Images").glob("*.jpg"))[:3]
    code, out, err = run_cli("caption", "--model", exported["onnx", 3], *images, "--json")
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in records] == [str(p) for p in images]
    assert all(r["caption"] and r["log_prob"] < 0 for r in records)
    assert "RANDOM weights" in err  # the record keeps the encoder's spec: a random encoder is named


def test_the_record_says_which_search_and_a_different_one_is_refused(exported, synthetic, run_cli):
    image = sorted((synthetic / "Images").glob("*.jpg"))[0]
    code, _, err = run_cli("caption", "--model", exported["onnx", 1], image, "--beam-size", "3")
    assert code == 2 and "exported with greedy search" in one_error_line(err) and "--search beam --beam-size 3" in err
    code, _, err = run_cli("caption", "--model", exported["litert", 3], image, "--num-captions", "4")
    assert code == 2 and "at most 3 captions per image, not 4" in one_error_line(err)
    code, out, err = run_cli("caption", "--model", exported["litert", 3], image, "--num-captions", "2")
    assert code == 0 and len(out.splitlines()) == 2


def test_unreadable_inputs_get_the_reasons_a_bundle_gives(exported, trained, synthetic, tmp_path, run_cli):
    good = sorted((synthetic / "Images").glob("*.jpg"))[0]
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    inputs = [good, tmp_path / "empty.jpg", tmp_path / "text.jpg", tmp_path / "absent.jpg"]
    bundle = run_cli("caption", "--model", trained / "model", "--beam-size", "1", *inputs, "--json")
    export = run_cli("caption", "--model", exported["onnx", 1], *inputs, "--json")
    assert bundle[0] == export[0] == 1
    errors = [[(r["input"], r.get("error")) for r in map(json.loads, out.splitlines())]
              for _, out, _ in (bundle, export)]
    assert errors[0] == errors[1] and [e for _, e in errors[0]][1:] == ["empty file (0 bytes)",
                                                                       "not an image (unknown format)",
                                                                       "file not found"]
    skipped = [line for line in export[2].splitlines() if line.startswith("skipped")]
    assert len(skipped) == 3 and f"skipped {tmp_path / 'empty.jpg'}: empty file (0 bytes)" in skipped


@pytest.mark.parametrize("metadata, reason", [
    (None, "no captioner metadata; export the model with `captioner export`"),
    ("{not json", "captioner metadata is not JSON"),
    (json.dumps({"format": "something-else"}), "not a captioner export (format 'something-else')"),
    ("VERSION99", "export format version 99; this captioner reads version 1: export the model again"),
    ("NO_VOCABULARY", "captioner metadata is incomplete (KeyError: 'vocabulary')"),
])
def test_an_onnx_file_whose_record_is_missing_or_of_another_version_is_refused(metadata, reason, exported, synthetic,
                                                                               tmp_path, run_cli):
    import onnx

    record = json.loads(next(p.value for p in onnx.load(str(exported["onnx", 1])).metadata_props
                             if p.key == "captioner"))
    if metadata == "VERSION99":
        metadata = json.dumps({**record, "version": 99})
    elif metadata == "NO_VOCABULARY":
        metadata = json.dumps({k: v for k, v in record.items() if k != "vocabulary"})
    target = rewritten_onnx(exported["onnx", 1], tmp_path / "model.onnx", metadata)
    image = sorted((synthetic / "Images").glob("*.jpg"))[0]
    code, out, err = run_cli("caption", "--model", target, image)
    assert code == 2 and out == ""
    assert one_error_line(err).startswith(f"error: {target}") and reason in err


def test_a_file_that_is_no_model_and_a_litert_file_without_its_record_are_refused(exported, synthetic, tmp_path,
                                                                                  run_cli):
    image = sorted((synthetic / "Images").glob("*.jpg"))[0]
    (tmp_path / "junk.onnx").write_bytes(b"\x00junk" * 100)
    code, _, err = run_cli("caption", "--model", tmp_path / "junk.onnx", image)
    assert code == 2 and "junk.onnx: not a model ONNX Runtime can load" in one_error_line(err)
    lone = tmp_path / "lone.tflite"
    shutil.copy(exported["litert", 1], lone)
    code, _, err = run_cli("caption", "--model", lone, image)
    assert code == 2 and "lone.tflite.json: missing" in one_error_line(err)
    shutil.copy(str(exported["litert", 3]) + ".json", str(lone) + ".json")  # another export's record
    code, _, err = run_cli("caption", "--model", lone, image)
    assert code == 2 and "describes another file (its sha256 does not match" in one_error_line(err)


def test_caption_folder_with_an_exported_file_writes_resumes_and_refuses_a_cache(exported, synthetic, tmp_path,
                                                                                 run_cli):
    out = tmp_path / "captions.jsonl"
    code, printed, err = run_cli("caption-folder", "--model", exported["onnx", 3], synthetic / "Images", "--out", out,
                                 "--quiet")
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 20 and all(r["caption"] for r in records)
    code, printed, _ = run_cli("caption-folder", "--model", exported["onnx", 3], synthetic / "Images", "--out", out,
                               "--resume", "--quiet")
    assert code == 0 and "0 captioned" in printed and "20 kept" in printed
    code, _, err = run_cli("caption-folder", "--model", exported["onnx", 3], synthetic / "Images", "--out", out,
                           "--cache", tmp_path / "cache")
    assert code == 2 and "reads pixels, not cached features; leave --cache out" in one_error_line(err)


def test_the_export_page_python_block_runs_as_printed(exported, synthetic, tmp_path, monkeypatch):
    import contextlib
    import io
    import re

    from tests.project.test_docs_code import REPO

    block, = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "export.md").read_text(encoding="utf-8"), flags=re.S)
    photos = sorted((synthetic / "Images").glob("*.jpg"))
    shutil.copy(exported["onnx", 3], tmp_path / "f8k.onnx")
    shutil.copy(photos[0], tmp_path / "photo.jpg")
    shutil.copy(photos[1], tmp_path / "other.jpg")
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "docs/export.md", "exec"), {})
    first, second = printed.getvalue().splitlines()
    assert first.startswith("photo.jpg [(") and second.startswith("<bytes #1> [(")
    assert first.count("', -") == 2  # two captions, each with its log-probability
