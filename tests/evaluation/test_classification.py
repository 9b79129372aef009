"""An activity classifier's scores (captioner/evaluation/classification.py), on a hand-made table of class
probabilities: top-1, top-5, per-class accuracy, the confusion matrix, each clip's prediction, the printed table;
the top-k labels `classify` prints. The classifier's network is replaced by the table itself (its own tests are
in tests/commands/test_activity.py), so every number here is worked out by hand."""

import os
from types import SimpleNamespace

import numpy as np
import pytest

from captioner.base.errors import UsageError
from captioner.datasets.ucf101 import LabelSet
from captioner.evaluation import classification
from captioner.evaluation.classification import Labeller, evaluate_classifier
from captioner.features.encoder import fingerprint
from captioner.models.classifier_bundle import ClassifierBundle

pytestmark = pytest.mark.backend_independent  # no network runs: the probabilities are given

CLASSES = ["jump", "run", "swim", "climb", "throw", "kick"]
#                                jump  run   swim  climb throw kick
PROBABILITIES = {"jump/1.mp4": [0.50, 0.20, 0.10, 0.10, 0.05, 0.05],  # jump: right
                 "jump/2.mp4": [0.30, 0.40, 0.10, 0.10, 0.05, 0.05],  # run: wrong, jump 2nd (in the top 5)
                 "run/3.mp4": [0.02, 0.90, 0.02, 0.02, 0.02, 0.02],   # run: right
                 "swim/4.mp4": [0.20, 0.10, 0.01, 0.10, 0.09, 0.50]}  # kick: wrong, swim last (not in the top 5)

RANDOM = fingerprint("random", 0)


@pytest.fixture
def scored(monkeypatch, tmp_path):
    clips = {key: key.split("/")[0] for key in PROBABILITIES} | {"run/9.mp4": "run"}
    splits = {key: "test" for key in PROBABILITIES} | {"run/9.mp4": "train"}
    labels = LabelSet(str(tmp_path), list(CLASSES), clips, splits, "trainlist01.txt/testlist01.txt")
    bundle = ClassifierBundle(str(tmp_path / "model"), None, list(CLASSES), SimpleNamespace(frames=4),
                              RANDOM, {"feature_dtype": "float32", "epochs": 3})
    asked = []

    def split_features(cache_dir, encoder, keys, root, weights, show_progress, frames, *rest):
        asked.append((cache_dir, keys, frames))
        return keys, np.array([PROBABILITIES[k] for k in keys], np.float32), 1  # one clip could not be read

    monkeypatch.setattr(classification, "split_features", split_features)
    monkeypatch.setattr(classification, "probabilities", lambda model, features: np.asarray(features))
    report = evaluate_classifier(bundle, labels, "test", "CACHE", show_progress=False)
    return SimpleNamespace(report=report, labels=labels, bundle=bundle, asked=asked, root=str(tmp_path))


def test_top1_and_top5_count_the_right_clips_of_the_split(scored):
    assert scored.asked == [("CACHE", sorted(PROBABILITIES), 4)]  # the test split only, in order, N frames
    assert scored.report.top1 == 0.5  # jump/1 and run/3 of 4
    assert scored.report.top5 == 0.75  # all but swim/4, whose class came last
    assert scored.report.metrics == {"top1": 0.5, "top5": 0.75}
    assert scored.report.skipped == 1 and scored.report.split == "test" and scored.report.frames == 4


def test_the_confusion_matrix_has_true_classes_in_rows_and_predictions_in_columns(scored):
    assert scored.report.confusion == [[1, 1, 0, 0, 0, 0],
                                       [0, 1, 0, 0, 0, 0],
                                       [0, 0, 0, 0, 0, 1],
                                       [0] * 6, [0] * 6, [0] * 6]


def test_per_class_accuracy_is_correct_over_the_class_clips_and_none_without_clips(scored):
    per_class = scored.report.per_class
    assert per_class["jump"] == {"clips": 2, "correct": 1, "accuracy": 0.5}
    assert per_class["run"] == {"clips": 1, "correct": 1, "accuracy": 1.0}
    assert per_class["swim"] == {"clips": 1, "correct": 0, "accuracy": 0.0}
    assert per_class["kick"] == {"clips": 0, "correct": 0, "accuracy": None}
    assert list(per_class) == CLASSES


def test_each_clip_has_its_prediction_probability_and_top5(scored):
    by_clip = {p["input"]: p for p in scored.report.items}
    second = by_clip["jump/2.mp4"]
    assert second["truth"] == "jump" and second["label"] == "run" and second["probability"] == 0.4
    assert second["path"] == os.path.join(scored.root, "jump/2.mp4")
    assert [t["label"] for t in second["top"]] == ["run", "jump", "swim", "climb", "throw"]
    assert [t["probability"] for t in second["top"]] == [0.4, 0.3, 0.1, 0.1, 0.05]
    assert [t["label"] for t in by_clip["swim/4.mp4"]["top"]] == ["kick", "jump", "run", "climb", "throw"]


TABLE = """\
clips 4 (4 frames each), classes 6, split test, encoder weights RANDOM (not ImageNet)
| metric | score |
| --- | --- |
| top-1 accuracy | 0.5000 |
| top-5 accuracy | 0.7500 |

| class | clips | correct | accuracy |
| --- | --- | --- | --- |
| jump | 2 | 1 | 0.5000 |
| run | 1 | 1 | 1.0000 |
| swim | 1 | 0 | 0.0000 |
| climb | 0 | 0 | — |
| throw | 0 | 0 | — |
| kick | 0 | 0 | — |

confusion (rows: true class, columns: predicted)
| | jump | run | swim | climb | throw | kick |
| --- | --- | --- | --- | --- | --- | --- |
| jump | 1 | 1 | 0 | 0 | 0 | 0 |
| run | 0 | 1 | 0 | 0 | 0 | 0 |
| swim | 0 | 0 | 0 | 0 | 0 | 1 |
| climb | 0 | 0 | 0 | 0 | 0 | 0 |
| throw | 0 | 0 | 0 | 0 | 0 | 0 |
| kick | 0 | 0 | 0 | 0 | 0 | 0 |"""


def test_the_table_prints_the_scores_classes_and_confusion(scored):
    assert scored.report.table() == TABLE


def test_the_table_names_other_weights_all_clips_and_the_top_k_of_fewer_classes(scored):
    report = scored.report
    few = classification.ClassReport(1.0, 1.0, ["a", "b"], {"a": {"clips": 1, "correct": 1, "accuracy": 1.0},
                                                            "b": {"clips": 0, "correct": 0, "accuracy": None}},
                                     [[1, 0], [0, 0]], report.predictions[:1], None, 8, fingerprint("imagenet"))
    lines = few.table().splitlines()
    assert lines[0] == "clips 1 (8 frames each), classes 2, split all, encoder weights imagenet"
    assert lines[4] == "| top-2 accuracy | 1.0000 |"


def test_the_json_holds_every_score_and_prediction(scored):
    report = scored.report
    assert report.to_json() == {
        "top1": 0.5, "top5": 0.75, "classes": CLASSES, "per_class": report.per_class,
        "confusion": report.confusion, "split": "test", "frames": 4, "encoder_weights": "random",
        "encoder": RANDOM.to_json(), "skipped_clips": 1, "training": {"feature_dtype": "float32", "epochs": 3},
        "predictions": report.predictions}


def test_a_model_of_other_classes_or_an_empty_split_is_refused(scored, monkeypatch):
    other = LabelSet(scored.root, ["a", "b"], {}, {}, "seeded 70/10/20")
    with pytest.raises(UsageError, match=r"its classes \['a', 'b'\] are not the model's"):
        evaluate_classifier(scored.bundle, other, "test", "CACHE", show_progress=False)
    with pytest.raises(UsageError, match=r"no clips in split 'val' \(trainlist01.txt/testlist01.txt\)"):
        evaluate_classifier(scored.bundle, scored.labels, "val", "CACHE", show_progress=False)


@pytest.fixture
def labeller_of(monkeypatch):
    monkeypatch.setattr(classification, "probabilities", lambda model, features: np.asarray(features))
    bundle = ClassifierBundle("m", None, list(CLASSES), SimpleNamespace(frames=4), RANDOM,
                              {"feature_dtype": "float32"})
    return lambda k: Labeller(bundle, k)


def test_classify_gives_the_most_likely_label_and_with_top_k_the_k_best(labeller_of):
    rows = np.array([PROBABILITIES["jump/2.mp4"], PROBABILITIES["run/3.mp4"]], np.float32)
    assert labeller_of(1).records(rows) == [{"label": "run", "probability": 0.4},
                                            {"label": "run", "probability": 0.9}]
    two = labeller_of(2).records(rows)[0]
    assert two == {"label": "run", "probability": 0.4,
                   "top": [{"label": "run", "probability": 0.4}, {"label": "jump", "probability": 0.3}]}
    assert labeller_of(50).top_k == len(CLASSES)  # more than the classes: all of them


def test_evaluate_classifier_passes_the_bundle_and_split_to_the_cache_counts_repeats_and_rounds_to_4(monkeypatch,
                                                                                                     tmp_path):
    """Found by the mutation run: the cache's arguments, a confusion cell above 1 and the rounding were unchecked."""
    probabilities = {"jump/1.mp4": [0.123456, 0.0, 0.0, 0.0, 0.0, 0.0], "jump/2.mp4": [0.9, 0.1, 0, 0, 0, 0]}
    labels = LabelSet(str(tmp_path), list(CLASSES), {k: "jump" for k in probabilities},
                      {k: "test" for k in probabilities}, "lists")
    model = object()
    bundle = ClassifierBundle("m", model, list(CLASSES), SimpleNamespace(frames=2), RANDOM,
                              {"feature_dtype": "float32"})
    asked, seen_models = [], []

    def split_features(*args):
        asked.append(args)
        return sorted(probabilities), np.array([probabilities[k] for k in sorted(probabilities)], np.float32), 0

    def fake_probabilities(given, features):
        seen_models.append(given)
        return np.asarray(features)

    monkeypatch.setattr(classification, "split_features", split_features)
    monkeypatch.setattr(classification, "probabilities", fake_probabilities)
    report = evaluate_classifier(bundle, labels, "test", "CACHE", "w.h5")
    assert asked == [("CACHE", RANDOM, sorted(probabilities), str(tmp_path), "w.h5", True, 2,
                      str(tmp_path), "clips")]
    assert seen_models == [model]
    assert report.confusion[0][0] == 2 and report.per_class["jump"] == {"clips": 2, "correct": 2, "accuracy": 1.0}
    first = report.items[0]
    assert first["probability"] == 0.1235 and first["top"][0] == {"label": "jump", "probability": 0.1235}
    assert report.training == {"feature_dtype": "float32"}


def test_features_are_read_as_the_model_was_trained_on_them(monkeypatch):
    """A model trained on float16 features sees float16-rounded values."""
    seen = []
    monkeypatch.setattr(classification, "probabilities", lambda model, features: seen.append(features) or features)
    bundle = ClassifierBundle("m", None, list(CLASSES), SimpleNamespace(frames=4), RANDOM,
                              {"feature_dtype": "float16"})
    Labeller(bundle, 1).top(np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]], np.float64))
    assert seen[0].dtype == np.float32
    assert seen[0][0, 0] == np.float32(np.float16(0.1)) != np.float32(0.1)


def test_classify_gives_one_label_unless_asked_for_more_rounded_to_four_places(labeller_of, monkeypatch):
    bundle = ClassifierBundle("m", None, list(CLASSES), SimpleNamespace(frames=4), RANDOM,
                              {"feature_dtype": "float32"})
    rows = np.array([[0.123456, 0.0, 0.0, 0.0, 0.0, 0.0]], np.float32)
    labeller_of(1)  # patches the network away
    assert Labeller(bundle).records(rows) == [{"label": "jump", "probability": 0.1235}]
    assert labeller_of(2).records(rows)[0]["top"][0] == {"label": "jump", "probability": 0.1235}


def test_per_class_accuracy_is_rounded_to_four_places(monkeypatch, tmp_path):
    probabilities = {"jump/1.mp4": [1, 0, 0, 0, 0, 0], "jump/2.mp4": [0, 1, 0, 0, 0, 0],
                     "jump/3.mp4": [0, 1, 0, 0, 0, 0]}
    labels = LabelSet(str(tmp_path), list(CLASSES), {k: "jump" for k in probabilities},
                      {k: "test" for k in probabilities}, "lists")
    bundle = ClassifierBundle("m", None, list(CLASSES), SimpleNamespace(frames=2), RANDOM, {})
    monkeypatch.setattr(classification, "split_features", lambda *a: (
        sorted(probabilities), np.array([probabilities[k] for k in sorted(probabilities)], np.float32), 0))
    monkeypatch.setattr(classification, "probabilities", lambda model, features: np.asarray(features))
    report = evaluate_classifier(bundle, labels, "test", "CACHE", show_progress=False)
    assert report.per_class["jump"]["accuracy"] == 0.3333


def test_a_clip_is_ranked_from_its_frames_rows_padded_to_the_models_frames(labeller_of, monkeypatch):
    """The encoder's rows of every frame in order, `counts` a clip: each clip zero-padded to the model's 4 frames.
    The stand-in model adds its frames' rows up, so a clip's scores are its frames' sum (worked out by hand)."""
    seen = []
    monkeypatch.setattr(classification, "probabilities",
                        lambda model, clips: seen.append(clips.shape) or np.asarray(clips).sum(axis=1))
    rows = np.zeros((5, len(CLASSES)), np.float32)
    rows[[0, 1, 2], [1, 1, 2]] = 0.3  # clip 1 (3 frames): run 0.6, swim 0.3
    rows[[3, 4], [5, 0]] = [0.7, 0.2]  # clip 2 (2 frames): kick 0.7, jump 0.2
    labeller = labeller_of(2)
    tops = labeller.top_of_rows(rows, [3, 2])
    assert seen == [(2, 4, len(CLASSES))]
    assert tops == [[("run", pytest.approx(0.6)), ("swim", pytest.approx(0.3))],
                    [("kick", pytest.approx(0.7)), ("jump", pytest.approx(0.2))]]
    assert labeller.records_of_rows(rows, [3, 2]) == labeller.records_of(tops)
    assert labeller.records_of_rows(rows, [3, 2])[1]["label"] == "kick"


def test_probabilities_are_the_classifiers_softmax():
    from captioner.base.backend import import_keras
    from captioner.models.classifier import build_classifier
    from captioner.models.model_configs import ClassifierConfig

    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = build_classifier(ClassifierConfig(classes=3, frames=2, feature_dim=4, units=4, dropout=0.0))
    clips = np.random.default_rng(0).normal(size=(5, 2, 4)).astype(np.float32)
    probs = classification.probabilities(model, clips)
    logits = np.asarray(model(clips), np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-5)
