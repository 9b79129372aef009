import json

import pytest

from captioner.datasets import DatasetError, load_captions, resolve_image, safe_key

pytestmark = pytest.mark.backend_independent  # caption file parsers: no Keras


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def test_flickr_token_file_with_split_files(tmp_path):
    f = write(tmp_path / "Flickr8k.token.txt",
              "a.jpg#0\tA dog .\na.jpg#1\tA brown dog\nb.jpg#0\tA cat\nc.jpg#0\tA bird\n")
    write(tmp_path / "Flickr_8k.trainImages.txt", "a.jpg\n")
    write(tmp_path / "Flickr_8k.devImages.txt", "b.jpg\n")
    write(tmp_path / "Flickr_8k.testImages.txt", "c.jpg\n")
    cs = load_captions(f)
    assert cs.layout == "flickr-token"
    assert cs.captions == {"a.jpg": ["A dog .", "A brown dog"], "b.jpg": ["A cat"], "c.jpg": ["A bird"]}
    assert list(cs.select("train").captions) == ["a.jpg"]
    assert list(cs.select("val").captions) == ["b.jpg"] == list(cs.select("dev").captions)
    assert list(cs.select("test").captions) == ["c.jpg"]


def test_odd_flickr_key_is_reported_and_skipped(tmp_path):
    f = write(tmp_path / "t.txt", "a.jpg#0\tA dog\n2258277193_586949ec62.jpg.1#0\tA man\n")
    cs = load_captions(f)
    assert list(cs.captions) == ["a.jpg"]
    assert len(cs.skipped) == 1 and "t.txt:2" in cs.skipped[0] and "2258277193_586949ec62.jpg.1" in cs.skipped[0]


@pytest.mark.parametrize("text, message", [
    ("a.jpg#0\tA dog\nno tab here\n", r"t.txt:2: expected 'image.jpg#N<TAB>caption'"),
    ("a.jpg#0\tA dog\na.jpg#0\tA cat\n", r"t.txt:2: duplicate key a.jpg#0 \(first on line 1\)"),
    ("a.jpg#0\tA dog\na.jpg#1\t   \n", r"t.txt:2: empty caption"),
    ("a.jpg#0\tA dog\n../x.jpg#0\tA cat\n", r"t.txt:2: .*outside the image root"),
    ("a.jpg#0\tA dog\n/etc/x.jpg#0\tA cat\n", r"t.txt:2: .*absolute path"),
])
def test_malformed_token_lines_name_file_and_line(tmp_path, text, message):
    with pytest.raises(DatasetError, match=message):
        load_captions(write(tmp_path / "t.txt", text))


def test_non_utf8_names_the_line(tmp_path):
    f = write(tmp_path / "t.txt", b"a.jpg#0\tA dog\nb.jpg#0\tA caf\xe9\n")
    with pytest.raises(DatasetError, match=r"t.txt:2: not valid UTF-8"):
        load_captions(f)


def test_csv_layout_with_quoted_commas_and_split_tsv(tmp_path):
    f = write(tmp_path / "captions.csv", 'image,caption\na.jpg,"A dog, running"\nb.jpg,A cat\n')
    write(tmp_path / "split.tsv", "a.jpg\ttrain\nb.jpg\tdev\n")
    cs = load_captions(f)
    assert cs.layout == "csv" and cs.captions["a.jpg"] == ["A dog, running"]
    assert list(cs.select("val").captions) == ["b.jpg"]


def test_csv_wrong_field_count(tmp_path):
    f = write(tmp_path / "c.csv", "image,caption\na.jpg,A dog, running\n")
    with pytest.raises(DatasetError, match=r"c.csv:2: expected 2 fields"):
        load_captions(f)


def test_coco_json(tmp_path):
    data = {"images": [{"id": 1, "file_name": "x.jpg"}, {"id": 2, "file_name": "y.jpg"}],
            "annotations": [{"image_id": 1, "caption": "A dog"}, {"image_id": 2, "caption": "A cat"},
                            {"image_id": 1, "caption": "A brown dog"}]}
    cs = load_captions(write(tmp_path / "c.json", json.dumps(data)))
    assert cs.layout == "coco" and cs.captions == {"x.jpg": ["A dog", "A brown dog"], "y.jpg": ["A cat"]}
    assert cs.splits is None and cs.select("train").captions.keys() <= cs.captions.keys()
    data["annotations"].append({"image_id": 9, "caption": "A ghost"})
    with pytest.raises(DatasetError, match=r"c.json: annotations\[3\]: image_id 9"):
        load_captions(write(tmp_path / "c.json", json.dumps(data)))


def test_karpathy_json(tmp_path):
    data = {"images": [
        {"filepath": "val2014", "filename": "x.jpg", "split": "restval", "sentences": [{"raw": "A dog"}]},
        {"filename": "y.jpg", "split": "test", "sentences": [{"raw": "A cat"}, {"raw": "A cat sits"}]}]}
    cs = load_captions(write(tmp_path / "dataset_coco.json", json.dumps(data)))
    assert cs.layout == "karpathy"
    assert cs.captions == {"val2014/x.jpg": ["A dog"], "y.jpg": ["A cat", "A cat sits"]}
    assert list(cs.select("train").captions) == ["val2014/x.jpg"]
    assert list(cs.select("test").captions) == ["y.jpg"]
    data["images"][1]["sentences"][1] = {"text": "no raw"}
    with pytest.raises(DatasetError, match=r"images\[1\].sentences\[1\]: missing field 'raw'"):
        load_captions(write(tmp_path / "dataset_coco.json", json.dumps(data)))


def test_unknown_layout_and_bad_json(tmp_path):
    with pytest.raises(DatasetError, match="unknown caption layout"):
        load_captions(write(tmp_path / "x.txt", "hello world\n"))
    with pytest.raises(DatasetError, match=r"x.json:1: not valid JSON"):
        load_captions(write(tmp_path / "x.json", "{oops"))
    with pytest.raises(DatasetError, match="no such caption file"):
        load_captions(str(tmp_path / "missing.txt"))


def test_path_escape_is_refused(tmp_path):
    assert safe_key("sub/./a.jpg", "f:1") == "sub/a.jpg"
    for bad in ("../a.jpg", "sub/../../a.jpg", "/abs/a.jpg", "C:\\x.jpg"):
        with pytest.raises(DatasetError):
            safe_key(bad, "f:1")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    with pytest.raises(DatasetError, match="outside the image root"):
        resolve_image(str(root), "link.jpg")
    assert resolve_image(str(root), "a.jpg").endswith("a.jpg")


def test_synthetic_dataset_is_deterministic_and_readable(tmp_path):
    from captioner.drawn.shapes import write_synthetic

    a = write_synthetic(str(tmp_path / "a"), num_images=10, seed=3)
    b = write_synthetic(str(tmp_path / "b"), num_images=10, seed=3)
    assert open(a).read() == open(b).read()
    assert (tmp_path / "a/Images/shapes_00004.jpg").read_bytes() == (tmp_path / "b/Images/shapes_00004.jpg").read_bytes()
    cs = load_captions(a)
    assert len(cs.captions) == 10 and all(len(c) == 5 for c in cs.captions.values())
    assert sum(len(cs.select(s).captions) for s in ("train", "val", "test")) == 10
    truth = json.loads((tmp_path / "a/truth.json").read_text())
    for key, caps in cs.captions.items():
        for shape in truth[key]:
            assert any(shape["colour"] in c and shape["shape"] in c for c in caps)


def test_synthetic_other_wording_draws_the_same_scenes_with_other_captions(tmp_path):
    from captioner.drawn.shapes import colour_shape_correct, write_synthetic

    plain = load_captions(write_synthetic(str(tmp_path / "p"), num_images=10, seed=3))
    other = load_captions(write_synthetic(str(tmp_path / "o"), num_images=10, seed=3, wording="other"))
    assert (tmp_path / "p/truth.json").read_text() == (tmp_path / "o/truth.json").read_text()
    truth = json.loads((tmp_path / "o/truth.json").read_text())
    for key in plain.captions:
        assert not set(plain.captions[key]) & set(other.captions[key])  # no caption in common
        assert all(colour_shape_correct(c, truth[key]) for c in other.captions[key])  # the checker reads them


# --- the real files in ../shared/data -----------------------------------------------------------------

def test_real_flickr8k_token_and_csv_agree(shared_data):
    token = load_captions(str(shared_data / "flickr8k_text" / "Flickr8k.token.txt"))
    csv = load_captions(str(shared_data / "flickr8k_text" / "captions.txt"))
    assert len(token.captions) == 8091 and token.num_captions == 40455
    assert len(token.skipped) == 5 and all("2258277193_586949ec62.jpg.1" in s for s in token.skipped)
    assert csv.captions == token.captions
    assert [len(token.select(s).captions) for s in ("train", "val", "test")] == [6000, 1000, 1000]


def test_real_coco_val2017(shared_data):
    cs = load_captions(str(shared_data / "coco" / "captions_val2017.json"))
    assert len(cs.captions) == 5000 and cs.num_captions == 25014


def test_real_sample_split(shared_data):
    cs = load_captions(str(shared_data / "flickr8k_sample" / "captions.token.txt"))
    assert [len(cs.select(s).captions) for s in ("train", "val", "test")] == [200, 50, 50]
