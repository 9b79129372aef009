"""caption-folder's result files (captioner/engines/outputs.py): the format by extension, the journal a run streams
into, the one-rename commit, reading an earlier output or a killed run's journal back for --resume."""

import csv
import io
import json
import os

import pytest

from captioner.base.errors import UsageError
from captioner.engines.outputs import (ResultWriter, earlier_captions, journal_path, output_format, read_journal,
                                       read_results)

pytestmark = pytest.mark.backend_independent  # files in, files out

RECORDS = [
    {"input": "a/000000397133.jpg", "caption": "a man rides a horse"},
    {"input": "b.png", "error": "not an image (unknown format)"},
    {"input": "café, \"quoted\".jpg", "caption": "a cup of coffee, with milk"},
]


def written(tmp_path, name, records=RECORDS, kept=()):
    path = str(tmp_path / "out" / name)
    writer = ResultWriter(path, kept=list(kept))
    for record in records:
        writer.write(record)
    writer.commit()
    return path


@pytest.mark.parametrize("name, fmt", [("c.jsonl", "jsonl"), ("c.CSV", "csv"), ("x/c.json", "coco")])
def test_the_format_follows_the_extension(name, fmt):
    assert output_format(name) == fmt


@pytest.mark.parametrize("name, shown", [("c.txt", ".txt"), ("captions", "(none)")])
def test_an_unknown_extension_is_refused_naming_the_file_and_the_formats(name, shown):
    with pytest.raises(UsageError) as error:
        output_format(name)
    assert str(error.value) == f"{name}: unknown output format {shown}; use .jsonl, .csv or .json (COCO results)"


def test_the_journal_is_hidden_beside_the_output(tmp_path):
    assert journal_path(str(tmp_path / "d" / "c.csv")) == str(tmp_path / "d" / ".c.csv.partial.jsonl")
    assert journal_path("c.jsonl") == os.path.join(os.getcwd(), ".c.jsonl.partial.jsonl")


def test_jsonl_holds_every_record_in_order_with_its_text_as_written(tmp_path):
    path = written(tmp_path, "c.jsonl")
    text = open(path, encoding="utf-8").read()
    assert [json.loads(line) for line in text.splitlines()] == RECORDS
    assert "café" in text  # not \u00e9: the file is readable as it is
    assert not os.path.exists(journal_path(path))  # the commit removed the journal


def test_csv_has_a_header_and_one_row_a_file_with_caption_or_error(tmp_path):
    path = written(tmp_path, "c.csv")
    rows = list(csv.reader(open(path, encoding="utf-8", newline="")))
    assert rows == [["input", "caption", "error"],
                    ["a/000000397133.jpg", "a man rides a horse", ""],
                    ["b.png", "", "not an image (unknown format)"],
                    ["café, \"quoted\".jpg", "a cup of coffee, with milk", ""]]


def test_coco_results_list_only_captioned_images_with_their_coco_ids(tmp_path):
    path = written(tmp_path, "c.json")
    assert json.load(open(path, encoding="utf-8")) == [
        {"image_id": 397133, "caption": "a man rides a horse", "file_name": "a/000000397133.jpg"},
        {"image_id": "café, \"quoted\".jpg", "caption": "a cup of coffee, with milk",
         "file_name": "café, \"quoted\".jpg"}]


def test_coco_results_of_no_captioned_image_are_an_empty_list(tmp_path):
    path = written(tmp_path, "c.json", records=[{"input": "b.png", "error": "empty file (0 bytes)"}])
    assert json.load(open(path, encoding="utf-8")) == []


@pytest.mark.parametrize("name", ["c.jsonl", "c.csv", "c.json"])
def test_an_output_reads_back_as_the_records_it_was_written_from(tmp_path, name):
    back = read_results(written(tmp_path, name))
    expected = [r for r in RECORDS if name != "c.json" or "caption" in r]
    assert back == expected


def test_until_the_commit_the_old_output_stays_whole_and_the_journal_holds_the_progress(tmp_path):
    path = written(tmp_path, "c.jsonl", records=RECORDS[:1])
    before = open(path, encoding="utf-8").read()
    writer = ResultWriter(path)  # a second run, killed before its commit
    writer.write(RECORDS[2])
    writer.flush()
    assert open(path, encoding="utf-8").read() == before
    assert list(read_journal(journal_path(path))) == [RECORDS[2]]
    writer.close()
    assert writer.file.closed


def test_kept_records_start_the_new_journal_before_what_the_run_writes(tmp_path):
    path = written(tmp_path, "c.jsonl", records=[RECORDS[2]], kept=RECORDS[:2])
    assert read_results(path) == [RECORDS[0], RECORDS[1], RECORDS[2]]


def test_a_journal_line_cut_short_by_a_kill_is_left_out(tmp_path):
    journal = tmp_path / "j.jsonl"
    journal.write_text(json.dumps(RECORDS[0]) + "\n" + json.dumps(RECORDS[2])[:15], encoding="utf-8")
    assert list(read_journal(str(journal))) == [RECORDS[0]]


def test_earlier_captions_come_from_the_output_and_the_journal_and_leave_failures_to_be_tried_again(tmp_path):
    path = written(tmp_path, "c.csv", records=RECORDS[:2])
    with open(journal_path(path), "w", encoding="utf-8") as f:
        f.write(json.dumps(RECORDS[2], ensure_ascii=False) + "\n")
        f.write(json.dumps({"image": "a/000000397133.jpg", "caption": "a newer caption"}) + "\n")
        f.write(json.dumps({"caption": "a record without its image"}) + "\n")
    done = earlier_captions(path)
    assert sorted(done) == ["a/000000397133.jpg", "café, \"quoted\".jpg"]  # b.png failed: it is tried again
    assert done["a/000000397133.jpg"]["caption"] == "a newer caption"  # the journal is the later run
    assert done["café, \"quoted\".jpg"] == RECORDS[2]


def test_earlier_captions_of_a_first_run_are_none(tmp_path):
    assert earlier_captions(str(tmp_path / "c.jsonl")) == {}


@pytest.mark.parametrize("name, content", [("c.jsonl", "{not json\n"), ("c.csv", "file,text\nx.jpg,a cat\n"),
                                           ("c.json", "[{\"caption\": \"no file name\"}]")])
def test_an_earlier_output_that_cannot_be_read_is_refused_naming_it(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as error:
        read_results(str(path))
    assert str(error.value).startswith(f"{path}: cannot read the earlier results to resume (")


def test_the_writer_makes_the_output_folder_and_a_csv_of_no_records_is_its_header(tmp_path):
    path = written(tmp_path, "new/deeper/c.csv", records=[])
    assert io.open(path, encoding="utf-8").read().splitlines() == ["input,caption,error"]


def test_earlier_captions_of_a_finished_run_come_from_its_output(tmp_path):
    """Found by the mutation run: the output's own captions were only checked beside a journal that held them too."""
    path = written(tmp_path, "c.jsonl")
    assert earlier_captions(path) == {"a/000000397133.jpg": RECORDS[0], "café, \"quoted\".jpg": RECORDS[2]}


def test_a_bad_line_inside_a_journal_is_left_out_and_the_lines_after_it_kept(tmp_path):
    journal = tmp_path / "j.jsonl"
    journal.write_text(json.dumps(RECORDS[0]) + "\n{garbled\n" + json.dumps(RECORDS[1]) + "\n", encoding="utf-8")
    assert list(read_journal(str(journal))) == [RECORDS[0], RECORDS[1]]


def test_coco_results_keep_non_ascii_text_as_it_is(tmp_path):
    assert "café" in open(written(tmp_path, "c.json"), encoding="utf-8").read()
