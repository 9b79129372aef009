"""Activity recognition: the classifier head and bundle, train/evaluate/classify end to end on drawn clips, and
resume. The UCF101 layout and its bad inputs: tests/datasets/test_ucf101_layout.py."""

import json
import logging

import numpy as np
import pytest


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
