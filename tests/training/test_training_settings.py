"""A training job's settings: one frozen object per job, built once by the command (or by `captioner.train` from
its keywords) and passed whole to `train_captions`, `train_classifier` or `fine_tune`."""

import inspect

import pytest

import captioner
from captioner.api import train_job
from captioner.api.training_settings import CaptionTraining, ClassifierTraining, FineTuning
from captioner.base.errors import UsageError

pytestmark = pytest.mark.backend_independent  # the jobs are replaced: nothing trains


@pytest.fixture
def jobs(monkeypatch):
    """Each job replaced by a record of what it was given."""
    calls = []
    for name in ("train_captions", "train_classifier", "fine_tune"):
        monkeypatch.setattr(train_job, name, lambda *args, _name=name: calls.append((_name, args)) or {"ok": 1})
    return calls


def test_train_builds_the_jobs_settings_from_its_keywords_and_hands_them_over_whole(jobs):
    assert captioner.train("m", "c", captions="f.txt", images="i", epochs=3, embed_dim=8, resume=True) == {"ok": 1}
    assert captioner.train("m", "c", labels="ucf", frames=4, units=16, show_progress=True) == {"ok": 1}
    captioner.train("m", "c", captions="f.txt", images="i", objective="cider", init="xe", samples=2)
    assert jobs == [
        ("train_captions", ("m", "c", "f.txt", "i", CaptionTraining(epochs=3, embed_dim=8), True, False)),
        ("train_classifier", ("m", "c", "ucf", ClassifierTraining(frames=4, units=16), False, True)),
        ("fine_tune", ("m", "c", "f.txt", "i", FineTuning(init="xe", samples=2), False, False))]


@pytest.mark.parametrize("keywords, reason", [
    ({"labels": "ucf", "embed_dim": 8}, "embed_dim: not a choice when training an activity classifier (its choices: "
     "batch_size, cnn, dropout, encoder_seed, epochs, frame_encoder, frame_size, frames, learning_rate, patience, "
     "precision, seed, summary, units, weights)"),
    ({"captions": "f", "images": "i", "objective": "cider", "init": "m0", "units": 8, "design": "merge"},
     "design, units: not a choice when training fine-tuning (objective cider) (its choices: baseline, batch_size, "
     "epochs, init, learning_rate, patience, samples, seed, weights)"),
    ({"captions": "f", "images": "i", "samples": 3}, "samples: not a choice when training a caption model (its "
     "choices: batch_size, cnn, design, dropout, embed_dim, encoder_seed, epochs, frame_encoder, frame_size, frames, "
     "label_smoothing, learning_rate, max_length, min_count, patience, precision, seed, stop_on, summary, units, "
     "weights)"),
    ({"captions": "f", "images": "i", "objective": "mle"}, "objective 'mle': xe or cider"),
    ({"captions": "f", "images": "i", "labels": "ucf"}, "train needs captions (with images) or labels, not both"),
])
def test_a_choice_that_is_not_the_jobs_is_refused_naming_it(jobs, keywords, reason):
    with pytest.raises(UsageError) as error:
        captioner.train("m", "c", **keywords)
    assert str(error.value) == reason and jobs == []


def test_the_command_builds_each_settings_object_once_from_its_flags(run_cli, monkeypatch):
    calls = []

    def recorded(name):
        def job(*args):
            calls.append((name, args))
            raise UsageError("recorded")  # the command stops here: nothing trains
        return job

    for name in ("train_captions", "train_classifier", "fine_tune"):
        monkeypatch.setattr(train_job, name, recorded(name))
    monkeypatch.setattr("captioner.datasets.load_captions", lambda path: _Captions())
    monkeypatch.setattr("captioner.datasets.ucf101.load_labels", lambda path, seed: _Labels())
    dataset = ["--captions", "f.txt", "--images", "i"]
    for flags in ([*dataset, "--epochs", "3", "--embed-dim", "8", "--weights", "random-tiny", "--stop-on", "cider"],
                  ["--labels", "ucf", "--frames", "4", "--units", "16", "--frame-encoder", "cnn", "--cnn-blocks", "2"],
                  [*dataset, "--objective", "cider", "--init", "m0", "--samples", "2", "--resume"]):
        assert run_cli("train", *flags, "--cache", "c", "--out", "m", "--quiet")[2].endswith("error: recorded\n")
    assert calls == [
        ("train_captions", ("m", "c", calls[0][1][2], "i",
                            CaptionTraining(epochs=3, embed_dim=8, weights="random-tiny", stop_on="cider"), False,
                            False)),
        ("train_classifier", ("m", "c", calls[1][1][2], ClassifierTraining(frames=4, units=16, frame_encoder="cnn",
                                                                           cnn={"blocks": 2}), False, False)),
        ("fine_tune", ("m", "c", calls[2][1][2], "i", FineTuning(init="m0", samples=2), True, False))]


def test_each_job_takes_its_settings_whole():
    for job in (train_job.train_captions, train_job.train_classifier, train_job.fine_tune):
        assert len(inspect.signature(job).parameters) <= 7, job.__name__
    assert len(inspect.signature(captioner.train).parameters) == 8  # the keywords (**options) are the settings'


class _Captions:
    skipped, source, layout, kind, captions, num_captions = [], "f.txt", "flickr8k", "image", {}, 0

    def describe_split(self):
        return "split: none"


class _Labels:
    skipped, clips, classes, split_source = [], {}, ["a", "b"], "none"

    def select(self, split):
        return []
