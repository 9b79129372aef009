"""Activity recognition: the UCF101 layout and its split files, every bad input, the classifier head and bundle,
train/evaluate/classify end to end on drawn clips, and resume."""

import json
import logging
import unicodedata

import numpy as np
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

def tiny_config(frame_encoder="lstm"):
    from captioner.models.classifier import ClassifierConfig

    return ClassifierConfig(classes=3, frames=4, feature_dim=32, units=8, dropout=0.0, frame_encoder=frame_encoder)


@pytest.mark.parametrize("frame_encoder", ["lstm", "mean"])
def test_head_gives_probabilities_and_padding_frames_change_nothing(frame_encoder):
    from captioner.models.classifier import build_classifier, probabilities

    model = build_classifier(tiny_config(frame_encoder))
    rng = np.random.default_rng(0)
    clip = rng.normal(size=(1, 4, 32)).astype("float32")
    probs = probabilities(model, clip)
    assert probs.shape == (1, 3) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    short = clip.copy()
    short[0, 2:] = 0.0  # a clip of two frames, padded
    from captioner.models.classifier import ClassifierConfig, build_classifier as build

    two = build(ClassifierConfig(**{**tiny_config(frame_encoder).to_json(), "frames": 2}))
    two.set_weights(model.get_weights())
    assert np.allclose(probabilities(model, short), probabilities(two, short[:, :2]), atol=1e-5)


def test_classifier_bundle_round_trip_and_the_kinds_refuse_each_other(tmp_path):
    import dataclasses

    from captioner.features.encoder import fingerprint
    from captioner.models.bundle import BundleError, load_bundle
    from captioner.models.classifier import build_classifier, probabilities
    from captioner.models.classifier_bundle import load_classifier_bundle, save_classifier_bundle

    model = build_classifier(tiny_config())
    model.set_frame_statistics(np.random.default_rng(1).normal(size=(20, 32)))
    fp = dataclasses.replace(fingerprint("random", 0), dim=32)
    save_classifier_bundle(str(tmp_path / "m"), model, ["a", "b", "c"], fp, {"epochs": 1})
    bundle = load_classifier_bundle(str(tmp_path / "m"))
    x = np.random.default_rng(2).normal(size=(5, 4, 32)).astype("float32")
    assert bundle.classes == ["a", "b", "c"] and np.allclose(probabilities(bundle.model, x), probabilities(model, x))
    with pytest.raises(BundleError, match="an activity classifier, not a caption model"):
        load_bundle(str(tmp_path / "m"))
    (tmp_path / "m" / "labels.json").write_text('{"classes": ["a", "b", "x"]}')
    with pytest.raises(BundleError, match="labels.json: does not match config.json"):
        load_classifier_bundle(str(tmp_path / "m"))


# --- end to end on drawn clips ---------------------------------------------------------------------------

FRAMES = 2


@pytest.fixture(scope="module")
def activity(tmp_path_factory):
    """16 drawn clips as a 4-class UCF101 set, a classifier trained on them (2 frames, a few epochs)."""
    from captioner.cli import main
    from captioner.drawn.activities import write_activity_set

    work = tmp_path_factory.mktemp("activity")
    root = write_activity_set(str(work / "clips"), num_clips=16, seed=0)
    code = main(["train", "--labels", root, "--cache", str(work / "cache"), "--out", str(work / "model"),
                 "--weights", "random-tiny", "--frames", str(FRAMES), "--epochs", "3", "--units", "16", "--quiet"])
    assert code == 0
    return work


@pytest.mark.slow  # trains the classifier
def test_train_evaluate_and_classify_agree(activity, run_cli, tmp_path):
    root, model, cache = activity / "clips", activity / "model", activity / "cache"
    config = json.loads((model / "config.json").read_text())
    assert config["classifier"]["frames"] == FRAMES and set(config["sha256"]) == {"labels.json", "classifier.weights.h5"}
    assert all("val_top1" in h for h in config["training"]["history"])
    code, out, _ = run_cli("evaluate", "--model", model, "--labels", root, "--cache", cache, "--split", "test",
                           "--json", tmp_path / "e.json", "--quiet")
    assert code == 0 and "| top-1 accuracy |" in out and "| top-4 accuracy |" in out and "confusion" in out
    report = json.loads((tmp_path / "e.json").read_text())
    assert {"top1", "top5", "per_class", "confusion", "predictions"} <= set(report)
    assert report["classes"] == ["left", "right", "up", "down"] and report["top5"] == 1.0  # 4 classes: top-4 all
    assert sum(map(sum, report["confusion"])) == len(report["predictions"]) == 4
    assert report["top1"] == pytest.approx(sum(p["truth"] == p["label"] for p in report["predictions"]) / 4)
    predicted = {p["input"]: p["label"] for p in report["predictions"]}

    files = [str(root / clip) for clip in sorted(predicted)]
    code, out, err = run_cli("classify", "--model", model, *files)
    assert code == 0 and "RANDOM" in err
    lines = [line.split("\t") for line in out.splitlines()]
    assert {row[0]: row[1] for row in lines} == {str(root / c): p for c, p in predicted.items()}
    assert all(0 <= float(row[2]) <= 1 for row in lines)

    code, out, _ = run_cli("classify", "--model", model, files[0], "--top-k", "3", "--json")
    record = json.loads(out)
    probs = [t["probability"] for t in record["top"]]
    assert len(record["top"]) == 3 and probs == sorted(probs, reverse=True) and record["label"] == record["top"][0]["label"]

    (root / "up" / "broken.mp4").write_bytes(b"not a video at all")
    try:
        code, out, err = run_cli("classify", "--model", model, root, "--out", tmp_path / "all.jsonl", "--quiet")
    finally:
        (root / "up" / "broken.mp4").unlink()
    records = [json.loads(x) for x in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert code == 1 and "broken.mp4" in err and len(records) == 17  # every clip once, the broken one with its reason
    assert [r for r in records if r["input"] == "up/broken.mp4"][0]["error"]
    assert {r["input"]: r["label"] for r in records if "label" in r and r["input"] in predicted} == predicted


@pytest.mark.slow  # trains the classifier
@pytest.mark.backend_independent  # refusals before any Keras
def test_commands_name_the_other_kind_of_model(activity, trained, synthetic, run_cli):
    code, _, err = run_cli("caption", "--model", activity / "model", synthetic / "Images" / "shapes_00000.jpg")
    assert code == 2 and "an activity classifier, not a caption model" in err
    code, _, err = run_cli("classify", "--model", trained / "model", synthetic / "Images" / "shapes_00000.jpg")
    assert code == 2 and "a caption model, not an activity classifier" in err
    (activity / "nothing").mkdir(exist_ok=True)
    code, _, err = run_cli("classify", "--model", activity / "model", activity / "nothing")
    assert code == 2 and "no clip files found" in err
    code, _, err = run_cli("evaluate", "--model", activity / "model", "--labels", activity / "clips",
                           "--captions", "x.txt", "--cache", activity / "cache")
    assert code == 2 and "without --captions/--images" in err


@pytest.mark.slow  # trains the classifier
def test_training_killed_midway_resumes_from_its_last_epoch(activity, tmp_path, monkeypatch, caplog):
    from captioner.datasets.ucf101 import load_labels
    from captioner.features.encoder import fingerprint
    from captioner.features.features_for import features_for_job
    from captioner.models.model_configs import ClassifierConfig
    from captioner.training.train import TrainSettings
    from captioner.training.train_classifier import ClipBatches, train_classifier

    labels = load_labels(str(activity / "clips"))
    settings = TrainSettings(epochs=4, patience=4, batch_size=4)
    spec = fingerprint("random-tiny")
    config = ClassifierConfig(classes=len(labels.classes), frames=FRAMES, feature_dim=spec.dim, units=16)

    def features():
        return features_for_job(str(activity / "cache"), spec, labels.training_keys(), labels.root, "random-tiny",
                                False, FRAMES)
    real = ClipBatches.__getitem__

    state_file = tmp_path / "m" / "checkpoints" / "state.json"

    def dies_in_epoch_three(self, index):
        if self.seed is not None and state_file.exists() and json.loads(state_file.read_text())["epochs_done"] == 2:
            raise KeyboardInterrupt  # a kill in the third epoch (TensorFlow re-raises it as its own error, JAX as is)
        return real(self, index)

    monkeypatch.setattr(ClipBatches, "__getitem__", dies_in_epoch_three)
    with pytest.raises((Exception, KeyboardInterrupt)):
        train_classifier(labels, features(), str(tmp_path / "m"), config, settings, show_progress=False)
    state = json.loads((tmp_path / "m" / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2 and not (tmp_path / "m" / "config.json").exists()
    monkeypatch.setattr(ClipBatches, "__getitem__", real)
    caplog.set_level(logging.INFO, logger="captioner")
    summary = train_classifier(labels, features(), str(tmp_path / "m"), config, settings, resume=True,
                               show_progress=False)
    assert any(r.getMessage().startswith("resuming after epoch 2") for r in caplog.records)
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3, 4]
    assert (tmp_path / "m" / "config.json").exists()


@pytest.mark.slow  # trains the classifier
@pytest.mark.backend_independent  # the demo's glue; the classifier per backend above
def test_activity_demo_on_a_finished_run_scores_and_classifies(activity, run_cli, tmp_path):
    import shutil

    shutil.copytree(activity, tmp_path / "a")  # the demo's own layout: clips/, cache/, model/
    code, out, _ = run_cli("demo", "--activity", "--workdir", tmp_path / "a", "--frames", str(FRAMES), "--quiet",
                           "--weights", "random-tiny")
    assert code == 0 and "4 classes (left, right, up, down)" in out and "| top-1 accuracy |" in out
    assert "4. a few test clips:" in out and "RANDOM" in out


@pytest.mark.slow  # trains the classifier
def test_the_python_api_classifies_as_the_command_does(activity, run_cli, tmp_path):
    import captioner

    root = activity / "clips"
    files = sorted(str(p) for p in root.rglob("*") if p.suffix in (".mp4", ".gif"))[:4]
    code, out, _ = run_cli("classify", "--model", activity / "model", *files, "--top-k", "3", "--json")
    assert code == 0
    cli = [json.loads(line) for line in out.splitlines()]
    clf = captioner.load(str(activity / "model"))
    assert clf.classes == ["left", "right", "up", "down"] and clf.frames == FRAMES
    results = clf.classify(files + [str(tmp_path / "gone.mp4")], top_k=3)
    assert [(r.input, r.label) for r in results[:4]] == [(c["input"], c["label"]) for c in cli]
    assert [[label for label, _ in r.top] for r in results[:4]] == [[t["label"] for t in c["top"]] for c in cli]
    assert all(abs(r.probability - c["probability"]) < 1e-3 for r, c in zip(results, cli))
    assert results[4].error == "file not found" and results[4].label is None
    with pytest.raises(captioner.BundleError, match="an activity classifier, not a caption model"):
        captioner.load(str(activity / "model"), expect="caption")
