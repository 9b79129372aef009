"""One schema for a result everywhere: the same field names from the CLI's JSON, caption-folder's JSONL and CSV,
the API's result objects (the server's: tests/serving/test_serve.py); files written with the older names read the
same."""

from __future__ import annotations

import json

import pytest

from captioner.api.results import CaptionResult, LabelResult
from captioner.base.errors import UsageError
from captioner.base.result_names import with_input_name
from captioner.engines.outputs import read_results
from captioner.search.captioning import Caption

CAPTION_FIELDS = {"input", "caption", "log_prob", "captions"}


def test_the_result_objects_give_the_schema_and_the_old_text_name_still_reads():
    result = CaptionResult("a.jpg", [Caption("a dog runs", -1.23456), Caption("a dog", -2.5)])
    assert result.caption == result.text == "a dog runs" and result.log_prob == -1.23456
    assert result.to_json(digits=4) == {"input": "a.jpg", "caption": "a dog runs", "log_prob": -1.2346, "captions": [
        {"caption": "a dog runs", "log_prob": -1.2346}, {"caption": "a dog", "log_prob": -2.5}]}
    assert result.to_json(all_captions=False) == {"input": "a.jpg", "caption": "a dog runs", "log_prob": -1.23456}
    failed = CaptionResult("b.jpg", error="empty file (0 bytes)")
    assert failed.caption is None and failed.to_json() == {"input": "b.jpg", "error": "empty file (0 bytes)"}
    label = LabelResult("c.mp4", [("run", 0.61234), ("jump", 0.2)])
    assert label.to_json(digits=3) == {"input": "c.mp4", "label": "run", "probability": 0.612, "top": [
        {"label": "run", "probability": 0.612}, {"label": "jump", "probability": 0.2}]}
    assert LabelResult("d.mp4", error="no frames").to_json() == {"input": "d.mp4", "error": "no frames"}


def test_records_written_with_the_older_names_read_with_the_new_ones(tmp_path):
    assert with_input_name({"image": "a.jpg", "caption": "x"}) == {"input": "a.jpg", "caption": "x"}
    assert with_input_name({"clip": "v.mp4", "label": "run"}) == {"input": "v.mp4", "label": "run"}
    assert with_input_name({"file": "up.jpg", "error": "e"}) == {"input": "up.jpg", "error": "e"}  # the server's
    # evaluate's items had the key as "image" and the absolute path as "file"
    assert with_input_name({"image": "a.jpg", "file": "/d/a.jpg", "caption": "x"}) == \
        {"input": "a.jpg", "path": "/d/a.jpg", "caption": "x"}
    assert with_input_name({"input": "a.jpg", "image": "x"}) == {"input": "a.jpg", "image": "x"}  # new: left as is
    old_jsonl = tmp_path / "old.jsonl"
    old_jsonl.write_text('{"image": "a.jpg", "caption": "a dog"}\n{"image": "b.jpg", "error": "bad"}\n')
    old_csv = tmp_path / "old.csv"
    old_csv.write_text("image,caption,error\na.jpg,a dog,\nb.jpg,,bad\n")
    for path in (old_jsonl, old_csv):
        assert read_results(str(path)) == [{"input": "a.jpg", "caption": "a dog"}, {"input": "b.jpg", "error": "bad"}]
    nameless = tmp_path / "nameless.jsonl"
    nameless.write_text('{"caption": "a dog"}\n')
    with pytest.raises(UsageError, match=f"^{nameless}: cannot read the earlier results to resume "
                                         '\\("a record without its input\'s name"\\)$'):
        read_results(str(nameless))


def test_the_cli_the_folder_output_and_the_api_use_the_same_names(trained, synthetic, run_cli, tmp_path):
    import captioner

    image = synthetic / "Images" / "shapes_00000.jpg"
    code, out, _ = run_cli("caption", "--model", trained / "model", image, "--json", "--num-captions", "2",
                           "--beam-size", "2")
    assert code == 0 and set(json.loads(out)) == CAPTION_FIELDS
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(image.read_bytes())
    (folder / "bad.jpg").write_bytes(b"")
    code, _, _ = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.jsonl",
                         "--quiet")
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert code == 1 and records[0]["input"] == "a.jpg" and set(records[1]) == {"input", "error"}
    code, _, _ = run_cli("caption-folder", "--model", trained / "model", folder, "--out", tmp_path / "r.csv",
                         "--quiet")
    assert (tmp_path / "r.csv").read_text().splitlines()[0] == "input,caption,error"
    api = captioner.load(str(trained / "model")).caption([str(image)], beam_size=2, num_captions=2)[0]
    assert set(api.to_json()) == CAPTION_FIELDS and api.to_json(digits=4) == json.loads(out)
