"""The UCF101 layout (captioner/datasets/ucf101.py): class folders with their split files or a seeded split
stratified by class, class names in any Unicode normal form, and every bad input named in one line."""

import unicodedata

import pytest

from captioner.datasets import DatasetError
from captioner.datasets.ucf101 import load_labels


def layout(root, classes, lists=None):
    """ROOT/<class>/<clip> with empty clip files (the layout reader never decodes); lists: {file name: text}."""
    for cls, clips in classes.items():
        (root / cls).mkdir(parents=True)
        for clip in clips:
            (root / cls / clip).write_bytes(b"")
    for name, text in (lists or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root


UCF = {"ApplyEyeMakeup": ["v_A_g01_c01.avi", "v_A_g02_c01.avi", "v_A_g03_c01.avi"],
       "Basketball": ["v_B_g01_c01.avi", "v_B_g02_c01.avi", "v_B_g03_c01.gif"]}
LISTS = {"classInd.txt": "1 ApplyEyeMakeup\n2 Basketball\n",
         "trainlist01.txt": "ApplyEyeMakeup/v_A_g01_c01.avi 1\nApplyEyeMakeup/v_A_g02_c01.avi 1\n"
                            "Basketball/v_B_g01_c01.avi 2\nBasketball/v_B_g02_c01.avi 2\n",
         "testlist01.txt": "ApplyEyeMakeup/v_A_g03_c01.avi\nBasketball/v_B_g03_c01.gif\n"}


@pytest.mark.backend_independent  # a layout parser
def test_ucf101_layout_with_its_split_files(tmp_path):
    labels = load_labels(str(layout(tmp_path / "ucf", UCF, LISTS)))
    assert labels.classes == ["ApplyEyeMakeup", "Basketball"]
    assert labels.clips["Basketball/v_B_g03_c01.gif"] == "Basketball" and len(labels.clips) == 6
    assert sorted(labels.select("test")) == ["ApplyEyeMakeup/v_A_g03_c01.avi", "Basketball/v_B_g03_c01.gif"]
    assert len(labels.select("train")) + len(labels.select("val")) == 4  # validation is carved out of trainlist
    assert "trainlist01.txt" in labels.split_source and labels.label("Basketball/v_B_g01_c01.avi") == 1


@pytest.mark.backend_independent  # a layout parser
def test_without_split_files_a_seeded_split_stratified_by_class(tmp_path):
    classes = {c: [f"{c}_{i}.mp4" for i in range(10)] for c in ("jump", "run", "swim")}
    root = str(layout(tmp_path / "d", classes))
    a, b = load_labels(root, seed=3), load_labels(root, seed=3)
    assert a.splits == b.splits and "seeded split" in a.split_source and "seed 3" in a.split_source
    for cls in classes:  # every class in every split: 7 / 1 / 2 of 10
        counts = [sum(1 for k, c in a.select(s).items() if c == cls) for s in ("train", "val", "test")]
        assert counts == [7, 1, 2]
    assert load_labels(root, seed=4).splits != a.splits


@pytest.mark.backend_independent  # a layout parser
def test_class_names_with_spaces_and_unicode_work_even_in_another_normal_form(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Café Crème")  # a folder as macOS writes it
    classes = {"Playing Guitar": ["a.mp4", "b.mp4"], decomposed: ["c.mp4", "d.mp4"], "跳舞": ["e.mp4", "f.mp4"]}
    lists = {"classInd.txt": "1 Playing Guitar\n2 Café Crème\n3 跳舞\n",  # NFC in the lists
             "trainlist01.txt": "Playing Guitar/a.mp4 1\nCafé Crème/c.mp4 2\n跳舞/e.mp4 3\n",
             "testlist01.txt": "Playing Guitar/b.mp4\nCafé Crème/d.mp4\n跳舞/f.mp4\n"}
    labels = load_labels(str(layout(tmp_path / "u", classes, lists)))
    assert labels.classes == ["Playing Guitar", "Café Crème", "跳舞"]
    test = labels.select("test")
    assert sorted(test.values()) == sorted(labels.classes)
    assert (tmp_path / "u" / [k for k in test if test[k] == "Café Crème"][0]).exists()  # keys are on-disk paths


def _empty_class(classes, lists):
    classes["Empty"] = []
    lists["classInd.txt"] += "3 Empty\n"


BAD = [  # (what, change to the good layout, the reason that must be printed)
    ("empty class folder", _empty_class, "Empty: empty class folder (no clips)"),
    ("list names a missing clip", lambda c, l: l.update({"trainlist01.txt": "ApplyEyeMakeup/v_gone.avi 1\n"}),
     "trainlist01.txt:1: names ApplyEyeMakeup/v_gone.avi, which is not in"),
    ("list names an unknown class",
     lambda c, l: l.update({"testlist01.txt": "ApplyEyeMakeup/v_A_g03_c01.avi\nSurfing/v_S.avi\n"}),
     "testlist01.txt:2: unknown class 'Surfing'"),
    ("classInd names an unknown class", lambda c, l: l.update({"classInd.txt": l["classInd.txt"] + "3 Surfing\n"}),
     "classInd.txt:3: unknown class 'Surfing' (no folder of that name)"),
    ("label disagrees with classInd", lambda c, l: l.update({"trainlist01.txt": "ApplyEyeMakeup/v_A_g01_c01.avi 2\n"}),
     "trainlist01.txt:1: label 2 is 'Basketball', but the clip is in class 'ApplyEyeMakeup'"),
    ("clip in two classes", lambda c, l: c["Basketball"].append("v_A_g01_c01.avi"),
     "Basketball/v_A_g01_c01.avi: the same clip as"),
    ("clip in both lists", lambda c, l: l.update({"testlist01.txt": "ApplyEyeMakeup/v_A_g01_c01.avi\n"}),
     "testlist01.txt:1: ApplyEyeMakeup/v_A_g01_c01.avi is in both trainlist01.txt and testlist01.txt"),
    ("malformed classInd line", lambda c, l: l.update({"classInd.txt": "1 ApplyEyeMakeup\nBasketball\n"}),
     "classInd.txt:2: expected 'INDEX ClassName'"),
]


@pytest.mark.backend_independent  # a layout parser
@pytest.mark.parametrize("what,change,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_activity_data_is_one_line_naming_file_and_line(tmp_path, run_cli, what, change, reason):
    classes, lists = {c: list(v) for c, v in UCF.items()}, dict(LISTS)
    change(classes, lists)
    root = layout(tmp_path / "bad", classes, lists)
    with pytest.raises(DatasetError) as caught:
        load_labels(str(root))
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    code, _, err = run_cli("train", "--labels", root, "--cache", tmp_path / "c", "--out", tmp_path / "m",
                           "--weights", "random")
    assert code == 2 and err.startswith("error: ") and reason in err and "Traceback" not in err


@pytest.mark.backend_independent  # a layout parser
def test_one_list_without_the_other_is_refused(tmp_path):
    root = layout(tmp_path / "one", UCF, {"trainlist01.txt": LISTS["trainlist01.txt"]})
    with pytest.raises(DatasetError, match="trainlist01.txt without testlist01.txt"):
        load_labels(str(root))


# --- the head and its bundle -----------------------------------------------------------------------------
