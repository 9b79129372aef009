"""The activity classifier's outer loop (`train_classifier`) at stage level: 24 made-up clips of 3 classes (each
class its own mean frame, one clip short), a tiny model, three epochs (a few seconds). What a run records is what
it trained; the bundle holds the best epoch's weights and its top-1 is the summary's; a run stopped after two
epochs and resumed is the run that was not stopped; the settings reach the optimiser and the loss."""

import contextlib
import dataclasses
import io
import json
import os
import shutil

import numpy as np
import pytest

from captioner.base.errors import UsageError
from captioner.datasets.ucf101 import LabelSet
from captioner.features.clip_features import cached_rows, frame_sample, gather_rows
from captioner.models.classifier import build_classifier, probabilities
from captioner.models.classifier_bundle import load_classifier_bundle
from captioner.models.model_configs import ClassifierConfig
from captioner.training import train_classifier as trainer_module
from captioner.training.train import TrainSettings
from captioner.training.train_classifier import MIN_DELTA, ClipBatches, train_classifier
from tests.support.log_lines import log_lines
from tests.support.same_run import assert_same_weights, without_seconds
from tests.support.terminal import Terminal, keras_bar
from tests.support.made_features import SPEC, made_job_features, write_made_cache

FRAMES = 3
CLASSES = ["Jump", "Run", "Wave"]
SETTINGS = TrainSettings(epochs=3, patience=5, batch_size=4, learning_rate=1e-2, seed=5)
CONFIG = ClassifierConfig(classes=3, frames=FRAMES, feature_dim=SPEC.dim, units=8, dropout=0.0)
LEFT_OUT = "Run/clip_07.mp4"  # a clip that could not be read: no features


def label_set(root: str, classes=CLASSES) -> LabelSet:
    clips = {f"{CLASSES[i % 3]}/clip_{i:02d}.mp4": CLASSES[i % 3] for i in range(24)}
    splits = {key: "val" if i >= 18 else "train" for i, key in enumerate(sorted(clips))}
    return LabelSet(root, list(classes), clips, splits, "made-up split")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("classifier")
    labels = label_set(str(work / "clips"))
    rng = np.random.default_rng(0)
    centres = np.abs(rng.normal(size=(3, SPEC.dim)))
    vectors = {key: np.abs(centres[labels.label(key)] + 0.5 * rng.normal(size=(FRAMES - (i == 0), SPEC.dim)))
               for i, key in enumerate(sorted(labels.clips))}
    write_made_cache(str(work / "cache"), vectors, frames=FRAMES)
    failed = ((LEFT_OUT, "not a video"),)

    def features():
        return made_job_features(str(work / "cache"), set(labels.clips) - {LEFT_OUT}, FRAMES, failed)

    calls, made = {}, []

    class Recorded(ClipBatches):  # the batches each run makes: (seed, epoch, batch size)
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append((self.seed, self.epoch, self.batch_size))

    class Checkpoints(trainer_module.Checkpointer):
        def __init__(self, *args, min_delta=0.0, **kwargs):
            calls["min_delta"] = min_delta
            super().__init__(*args, min_delta=min_delta, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        keras = trainer_module.keras
        adam, seed = keras.optimizers.Adam, keras.utils.set_random_seed
        loss = keras.losses.SparseCategoricalCrossentropy
        patch.setattr(keras.optimizers, "Adam", lambda *a, **k: calls.setdefault("adam", (a, k)) and adam(*a, **k))
        patch.setattr(keras.losses, "SparseCategoricalCrossentropy",
                      lambda *a, **k: calls.setdefault("loss", (a, k)) and loss(*a, **k))
        patch.setattr(keras.utils, "set_random_seed", lambda s: calls.setdefault("seed", s) is not None and seed(s))
        sample = trainer_module.frame_sample
        patch.setattr(trainer_module, "frame_sample",
                      lambda m, r, limit=None: calls.setdefault("sample", limit) is not None and sample(m, r, limit))
        patch.setattr(trainer_module, "ClipBatches", Recorded)
        patch.setattr(trainer_module, "Checkpointer", Checkpoints)
        summary = Terminal()
        with log_lines() as whole_log, contextlib.redirect_stdout(summary):
            whole = train_classifier(labels, features(), str(work / "whole"), CONFIG, SETTINGS, summary=True)
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet):  # no summary unless asked
            part = train_classifier(labels, features(), str(work / "part"), CONFIG,
                                    dataclasses.replace(SETTINGS, epochs=2), show_progress=False)
        shown = io.StringIO()
        with log_lines() as resume_log, contextlib.redirect_stdout(shown):
            resumed = train_classifier(labels, features(), str(work / "part"), CONFIG, SETTINGS, resume=True)
    return dict(work=work, labels=labels, features=features, calls=calls, whole=whole, part=part, resumed=resumed,
                whole_log=whole_log, resume_log=resume_log, summary=summary.getvalue(), quiet=quiet.getvalue(),
                shown=shown.getvalue(), made=made)


def split(labels, name):
    return sorted(k for k in labels.select(name) if k != LEFT_OUT)


def test_the_classifier_trainers_runs_record_what_they_trained_and_resume_as_they_would_have_gone_on(runs):
    """Every check of the runs above, in one test: mutmut runs, for a mutant, the tests that called the mutated
    function, and the module's training runs are called in the setup of the first test that uses them."""
    for check in (
            a_run_records_the_clips_it_trained_on_and_its_epochs,
            the_settings_reach_the_optimiser_the_loss_the_seed_and_the_batches,
            the_bundle_holds_the_best_epochs_weights_and_its_top1_is_the_summarys,
            the_run_record_holds_what_a_resume_needs,
            the_model_standardises_frames_with_its_training_clips,
            a_run_stopped_after_two_epochs_and_resumed_is_the_run_that_was_not_stopped,
            progress_and_the_summary_are_shown_when_asked_and_only_then,
    ):
        check(runs)


def a_run_records_the_clips_it_trained_on_and_its_epochs(runs):
    whole, labels = runs["whole"], runs["labels"]
    assert (whole["train_clips"], whole["val_clips"]) == (len(split(labels, "train")), len(split(labels, "val")))
    assert (whole["train_clips"], whole["val_clips"]) == (17, 6)
    assert whole["labels"] == labels.root and whole["split"] == "made-up split" and whole["classes"] == CLASSES
    assert whole["skipped_clips"] == 1 and whole["feature_dtype"] == "float16" and whole["resumes"] == []
    assert whole["settings"] == dataclasses.asdict(SETTINGS)
    history = whole["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3] and whole["epochs"] == 3 and not whole["stopped_early"]
    best, best_loss = None, None
    for h in history:  # a fall smaller than MIN_DELTA is no better epoch
        if best_loss is None or h["val_loss"] < best_loss - MIN_DELTA:
            best, best_loss = h["epoch"], h["val_loss"]
    assert (whole["best_epoch"], whole["best_val_loss"]) == (best, best_loss)
    assert whole["seconds_per_epoch"] == round(float(np.median([h["seconds"] for h in history])), 2)
    assert all("val_top1" in h for h in history)


def the_settings_reach_the_optimiser_the_loss_the_seed_and_the_batches(runs):
    assert runs["calls"]["adam"] == ((SETTINGS.learning_rate,), {"clipnorm": 5.0})
    assert runs["calls"]["min_delta"] == MIN_DELTA
    train_batches, val_batches = (SETTINGS.seed, 0, SETTINGS.batch_size), (None, 0, 256)
    assert runs["made"] == [train_batches, val_batches] * 2 + [(SETTINGS.seed, 2, SETTINGS.batch_size), val_batches]
    assert runs["calls"]["loss"] == ((), {"from_logits": True}) and runs["calls"]["seed"] == SETTINGS.seed


def the_bundle_holds_the_best_epochs_weights_and_its_top1_is_the_summarys(runs):
    out, labels = runs["work"] / "whole", runs["labels"]
    bundle = load_classifier_bundle(str(out))
    assert bundle.training == runs["whole"] and bundle.classes == CLASSES  # the summary is stored with the model
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["best_weights"] == f"epoch-{runs['whole']['best_epoch']:04d}.weights.h5"
    best = build_classifier(bundle.config)
    best.load_weights(str(out / "checkpoints" / state["best_weights"]))
    assert_same_weights(bundle.model, best)
    val = split(labels, "val")
    with runs["features"]() as features:
        vectors, rows = cached_rows(features.cache, val, FRAMES)
        predicted = probabilities(bundle.model, gather_rows(vectors, rows)).argmax(-1)
    top1 = round(float(np.mean(predicted == np.array([labels.label(k) for k in val]))), 4)
    assert runs["whole"]["val_top1"] == top1 == runs["whole"]["history"][state["best_epoch"] - 1]["val_top1"]
    with runs["features"]() as features:  # the best validation loss is the bundle's loss on the validation clips
        vectors, rows = cached_rows(features.cache, val, FRAMES)
        p = probabilities(bundle.model, gather_rows(vectors, rows))
    loss = -np.mean(np.log(p[np.arange(len(val)), [labels.label(k) for k in val]]))
    assert runs["whole"]["best_val_loss"] == pytest.approx(loss, rel=1e-4)


def the_run_record_holds_what_a_resume_needs(runs):
    run = json.loads((runs["work"] / "whole" / "checkpoints" / "run.json").read_text())
    assert run == {"classifier": CONFIG.to_json(), "settings": dataclasses.asdict(SETTINGS), "classes": CLASSES,
                   "encoder": SPEC.to_json(), "labels": runs["labels"].root}


def the_model_standardises_frames_with_its_training_clips(runs):
    model = load_classifier_bundle(str(runs["work"] / "whole")).model
    assert runs["calls"]["sample"] == model.statistics_sample  # as many frames as the model asks for
    with runs["features"]() as features:
        vectors, rows = cached_rows(features.cache, split(runs["labels"], "train"), FRAMES)
        frames = frame_sample(vectors, rows).astype(np.float64)
    assert len(frames) == FRAMES * 17 - 1  # the short clip's padding is no frame
    np.testing.assert_allclose(np.asarray(model.frame_mean), frames.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model.frame_scale), frames.std(axis=0) + 1e-3, rtol=1e-5, atol=1e-6)


def a_run_stopped_after_two_epochs_and_resumed_is_the_run_that_was_not_stopped(runs):
    whole, resumed = runs["whole"], runs["resumed"]
    assert [h["epoch"] for h in runs["part"]["history"]] == [1, 2]
    assert without_seconds(whole["history"]) == without_seconds(resumed["history"])
    assert resumed["resumes"] == [{"after_epoch": 2, "changed": {"epochs": [2, 3]}}]
    assert "resuming after epoch 2 (--epochs 2 -> 3)" in runs["resume_log"]
    assert_same_weights(load_classifier_bundle(str(runs["work"] / "whole")).model,
                        load_classifier_bundle(str(runs["work"] / "part")).model, exact=False)


def progress_and_the_summary_are_shown_when_asked_and_only_then(runs):
    announced = [line for line in runs["whole_log"] if line.startswith("epoch ")]
    assert [line.split(" (")[0] for line in announced] == [
        f"epoch {h['epoch']}: val loss {h['val_loss']:.4f}, val top-1 {h['val_top1']:.4f}"
        for h in runs["whole"]["history"]]
    assert [line.split(":")[0] for line in runs["resume_log"] if line.startswith("epoch ")] == ["epoch 3"]
    assert "Total params" in runs["summary"] and "Epoch 1/3" in runs["summary"]
    assert keras_bar(runs["summary"]) and not keras_bar(runs["shown"])  # a bar on a terminal, else a line an epoch
    assert "Epoch 3/3" in runs["shown"]
    assert "Total params" not in runs["quiet"] and "Epoch" not in runs["quiet"]


def test_a_batch_is_its_clips_frames_and_labels(runs):
    with runs["features"]() as features:
        keys = split(runs["labels"], "train")
        vectors, rows = cached_rows(features.cache, keys, FRAMES)
        labels = np.array([runs["labels"].label(k) for k in keys])
        batches = ClipBatches(vectors, rows, labels, 4, seed=1, epoch=2)
        assert len(batches) == 5 and batches.epoch == 2
        n = len(keys)  # shuffled from (seed, epoch); a new one starts at epoch 0
        np.testing.assert_array_equal(batches.order, np.random.default_rng([1, 2]).permutation(n))
        np.testing.assert_array_equal(ClipBatches(vectors, rows, labels, 4, seed=1).order,
                                      np.random.default_rng([1, 0]).permutation(n))
        x, y = batches[1]
        chosen = batches.chosen(1)
        np.testing.assert_array_equal(x, gather_rows(vectors, rows[chosen]))
        np.testing.assert_array_equal(y, labels[chosen])


def test_what_cannot_train_is_refused_naming_why(runs):
    work, labels = runs["work"], runs["labels"]
    with pytest.raises(UsageError, match="the model reads 2 frames a clip; the features given, 3$"):
        train_classifier(labels, runs["features"](), str(work / "two"), dataclasses.replace(CONFIG, frames=2),
                         SETTINGS, show_progress=False)
    for name, keys in (("training", split(labels, "val")), ("validation", split(labels, "train"))):
        features = made_job_features(str(work / "cache"), keys, FRAMES)
        with pytest.raises(UsageError, match=f"^{labels.root}: no {name} clips with features \\(made-up split\\)$"):
            train_classifier(labels, features, str(work / name), CONFIG, SETTINGS, show_progress=False)
        assert not os.path.exists(work / name / "config.json")
    with pytest.raises(UsageError, match=f"^{work / 'whole'}: holds an earlier training run \\(3 epochs done\\)"):
        train_classifier(labels, runs["features"](), str(work / "whole"), CONFIG, SETTINGS)  # resumed only if asked
    other = label_set(labels.root, ["Jump", "Run", "Swim"])
    further = dataclasses.replace(SETTINGS, epochs=4)
    with pytest.raises(UsageError, match=f"^{labels.root}: its classes differ from the run being resumed in "):
        train_classifier(other, runs["features"](), str(work / "part"), CONFIG, further, resume=True,
                         show_progress=False)


def test_a_run_killed_before_its_first_epoch_ended_starts_afresh_in_its_folder(runs):
    """Its checkpoints/ holds run.json and no state.json: --resume has nothing to resume and says so."""
    work = runs["work"]
    (work / "killed" / "checkpoints").mkdir(parents=True)
    (work / "killed" / "checkpoints" / "run.json").write_text("{}")
    one = dataclasses.replace(SETTINGS, epochs=1)
    with log_lines() as lines:
        summary = train_classifier(runs["labels"], runs["features"](), str(work / "killed"), CONFIG, one, resume=True,
                                   show_progress=False)
    assert f"note: nothing to resume in {work / 'killed'}; starting a new run" in lines
    assert summary["epochs"] == 1 and summary["resumes"] == []
    assert json.loads((work / "killed" / "checkpoints" / "run.json").read_text())["settings"]["epochs"] == 1


def test_a_run_that_early_stopping_ended_trains_no_further_when_resumed_with_the_same_patience(runs):
    work = runs["work"]
    shutil.copytree(work / "whole", work / "stopped")
    state_file = work / "stopped" / "checkpoints" / "state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "wait": SETTINGS.patience, "stopped_early": True}))
    with log_lines() as lines:
        summary = train_classifier(runs["labels"], runs["features"](), str(work / "stopped"), CONFIG,
                                   dataclasses.replace(SETTINGS, epochs=5), resume=True, show_progress=False)
    assert summary["epochs"] == 3 and summary["stopped_early"] and summary["history"] == runs["whole"]["history"]
    assert any("nothing to train: the run ended by early stopping" in line for line in lines)
