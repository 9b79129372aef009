"""A training job extracts first, as a step of its own, and hands the trainer what it extracted (`JobFeatures`):
the trainers read the cache and build no encoder; a job refused by its folders is refused before any extraction."""

import dataclasses
import inspect
import json
import shutil

import pytest

from captioner.base.errors import UsageError
from captioner.datasets import load_captions
from captioner.features import encoder as encoder_module
from captioner.features.encoder import fingerprint
from captioner.features.features_for import features_for_job
from captioner.training.self_critical import train_self_critical
from captioner.training.train import DecoderChoices, TrainSettings, train
from captioner.training.train_classifier import train_classifier

TINY = DecoderChoices(units=8, embed_dim=8)


@pytest.fixture
def features(synthetic, tmp_path):
    """The synthetic set's train and validation images extracted with the tiny encoder: the job's first step."""
    captions = load_captions(str(synthetic / "captions.token.txt"))
    with features_for_job(str(tmp_path / "cache"), fingerprint("random-tiny"), captions.training_keys(),
                          str(synthetic / "Images"), "random-tiny", show_progress=False) as extracted:
        yield captions, extracted


def test_the_trainer_reads_the_extracted_features_and_builds_no_encoder(features, tmp_path, monkeypatch):
    captions, extracted = features
    assert extracted.keys == set(captions.training_keys()) and not extracted.failed

    def no_encoder(*args, **kwargs):
        raise AssertionError("the trainer built an encoder")

    monkeypatch.setattr(encoder_module.Encoder, "__init__", no_encoder)
    summary = train(captions, extracted, str(tmp_path / "m"), TrainSettings(epochs=1), TINY, show_progress=False)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["encoder"] == fingerprint("random-tiny").to_json()  # the bundle records the features' encoder
    assert config["decoder"]["units"] == 8 and config["decoder"]["feature_dim"] == extracted.cache.dim
    assert summary["train_images"] + summary["val_images"] == len(extracted.keys)


def test_a_file_that_could_not_be_read_is_named_once_by_the_extraction_step(synthetic, tmp_path, caplog):
    captions = load_captions(str(synthetic / "captions.token.txt"))
    keys = captions.training_keys()
    images = tmp_path / "Images"
    images.mkdir()
    for key in keys:
        shutil.copy(synthetic / "Images" / key, images / key)
    broken = keys[1]
    (images / broken).write_bytes(b"not a picture")
    with features_for_job(str(tmp_path / "cache"), fingerprint("random-tiny"), keys, str(images), "random-tiny",
                          show_progress=False) as extracted:
        assert broken not in extracted.keys and [path for path, _ in extracted.failed] == [str(images / broken)]
    named = [r.getMessage() for r in caplog.records if broken in r.getMessage()]
    assert len(named) == 1 and named[0].startswith("skipped")
    assert extracted.usable([keys[0], broken, keys[2]]) == sorted([keys[0], keys[2]])


def test_a_run_of_other_frames_is_refused_naming_both(features, tmp_path):
    captions, extracted = features
    first = train(captions, extracted, str(tmp_path / "m"), TrainSettings(epochs=1), TINY, show_progress=False)
    further = TrainSettings(**{**first["settings"], "epochs": 2})  # the run's own settings, a larger cap
    as_clips = dataclasses.replace(extracted, frames=4)
    with pytest.raises(UsageError, match="the run reads 0 frames a clip; the features given, 4"):
        train(captions, as_clips, str(tmp_path / "m"), further, resume=True, show_progress=False)


def test_the_trainers_take_features_not_folders_to_extract_from():
    for trainer in (train, train_classifier, train_self_critical):
        parameters = inspect.signature(trainer).parameters
        assert "features" in parameters and len(parameters) <= 8, trainer.__name__
        assert not {"weights", "images_root", "cache_dir", "fingerprint"} & set(parameters), trainer.__name__


def test_an_earlier_run_without_resume_is_refused_before_anything_is_extracted(synthetic, run_cli, tmp_path):
    (tmp_path / "m" / "checkpoints").mkdir(parents=True)
    (tmp_path / "m" / "checkpoints" / "state.json").write_text(json.dumps({"epochs_done": 2}))
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random-tiny")
    assert code == 2 and "holds an earlier training run (2 epochs done); pass --resume" in err
    assert not (tmp_path / "cache").exists()  # refused at the door: no extraction was started


def test_fine_tuning_settings_are_refused_before_anything_is_extracted(trained, synthetic, run_cli, tmp_path):
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", tmp_path / "cache", "--out", tmp_path / "scst", "--init", trained / "model",
                           "--objective", "cider", "--baseline", "mean", "--samples", "1")
    assert code == 2 and "--baseline mean needs --samples 2 or more" in err
    assert not (tmp_path / "cache").exists()
