"""What decides the best epoch and when training stops: the per-epoch validation BLEU and CIDEr-D (against
nltk and pycocoevalcap, computed independently on the captions in tests/data), and early stopping with its
patience and least improvement (against hand-worked sequences of validation losses and CIDEr-D)."""

import json
import os
import pathlib

import pytest

from captioner.base.errors import UsageError
from captioner.training.checkpoints import Checkpointer, earlier_state, fresh_state, read_run, read_state, write_run
from tests.support.reference_scores import fixture_pairs

pytestmark = pytest.mark.backend_independent  # numpy, nltk, pycocoevalcap and a stand-in model: no Keras maths

@pytest.fixture(autouse=True)
def in_a_scratch_folder(tmp_path, monkeypatch):
    """Files written relative to the working folder (a mistake these tests look for) land in tmp_path."""
    monkeypatch.chdir(tmp_path)


def test_validation_cider_d_and_bleu_equal_pycocoevalcap_and_nltk_over_the_whole_split(monkeypatch):
    from nltk.translate.bleu_score import corpus_bleu
    from pycocoevalcap.cider.cider import Cider

    from captioner.evaluation.ptb_tokens import PtbTokenizer
    from captioner.training.validation_bleu import ValidationBleu

    references, hypotheses = fixture_pairs()
    per_epoch = ValidationBleu(None, None, references, "float32")
    monkeypatch.setattr(per_epoch, "captions", lambda decoder: hypotheses)  # what the search would have written
    measured = per_epoch(decoder=None)
    tok = PtbTokenizer()
    refs, hyps = [[tok(r) for r in rs] for rs in references], [tok(h) for h in hypotheses]
    cider, _ = Cider().compute_score({i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)})
    assert measured["val_cider"] == round(cider, 4)  # document frequencies of this split's references, not batches
    split = ([[r.split() for r in rs] for rs in refs], [h.split() for h in hyps])
    assert measured["val_bleu4"] == round(corpus_bleu(*split), 4)
    assert measured["val_bleu1"] == round(corpus_bleu(*split, weights=(1.0,)), 4)
    assert 0 < measured["val_bleu4"] < measured["val_bleu1"] and measured["val_cider"] > 0


class StandInModel:
    """What the checkpointer asks of a model: weights it can save, and a flag to stop training."""

    stop_training = False

    def save_weights(self, path):
        if not str(path).endswith(".weights.h5"):  # Keras refuses any other name
            raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
        pathlib.Path(path).write_text("weights")


def run_epochs(tmp_path, val_losses, patience, min_delta=0.0, stop_on="loss", val_ciders=None):
    """Feed one validation result per epoch until the callback stops training; -> (state, epochs run, files)."""
    state = fresh_state()
    ciders = iter(val_ciders or [])
    validation = (lambda model: {"val_cider": next(ciders)}) if val_ciders else None
    callback = Checkpointer(str(tmp_path), state, patience, validation, stop_on=stop_on, min_delta=min_delta)
    model = StandInModel()
    callback.set_model(model)
    ran = 0
    for epoch, val_loss in enumerate(val_losses):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val_loss})
        ran += 1
        if model.stop_training:
            break
    return state, ran, sorted(os.listdir(tmp_path))


def test_early_stopping_keeps_the_lowest_validation_loss_and_stops_after_patience_epochs_without_it(tmp_path):
    # epoch 1 5.0 best, 2 4.0 best, 3 4.5 (1 without), 4 4.2 (2 without: patience 2 reached), 5 never runs
    state, ran, files = run_epochs(tmp_path, [5.0, 4.0, 4.5, 4.2, 3.9], patience=2)
    assert ran == 4 and state["stopped_early"] and state["epochs_done"] == 4
    assert state["best_epoch"] == 2 and state["best_val_loss"] == 4.0 and state["wait"] == 2
    assert files == ["epoch-0002.weights.h5", "epoch-0004.weights.h5", "state.json"]  # the best and the newest
    assert [h["val_loss"] for h in state["history"]] == [5.0, 4.0, 4.5, 4.2]


def test_patience_counts_from_the_last_better_epoch(tmp_path):
    # a better epoch (4: 3.5) resets the count: 5 and 6 are worse, so patience 2 ends it after epoch 6
    state, ran, _ = run_epochs(tmp_path, [5.0, 4.0, 4.5, 3.5, 3.6, 3.7, 1.0], patience=2)
    assert ran == 6 and state["best_epoch"] == 4 and state["stopped_early"]
    (tmp_path / "p3").mkdir()
    state, ran, _ = run_epochs(tmp_path / "p3", [5.0, 4.0, 4.5, 3.5, 3.6, 3.7, 1.0], patience=3)
    assert ran == 7 and state["best_epoch"] == 7 and not state["stopped_early"]


def test_an_epoch_is_better_only_by_more_than_the_least_improvement(tmp_path):
    # min_delta 0.5: 4.6 is not below 5.0 - 0.5 (wait 1), 4.4 is (best, wait 0), 4.0 is not below 4.4 - 0.5
    state, ran, _ = run_epochs(tmp_path, [5.0, 4.6, 4.4, 4.0], patience=5, min_delta=0.5)
    assert ran == 4 and state["best_epoch"] == 3 and state["wait"] == 1 and not state["stopped_early"]


def test_stopping_on_cider_keeps_the_highest_validation_cider_d(tmp_path):
    # the loss falls every epoch, but CIDEr-D peaks at epoch 2: patience 2 stops after epoch 4, best epoch 2
    state, ran, _ = run_epochs(tmp_path, [5.0, 4.0, 3.0, 2.0, 1.0], patience=2, stop_on="cider",
                               val_ciders=[0.5, 0.9, 0.8, 0.85, 2.0])
    assert ran == 4 and state["best_epoch"] == 2 and state["best_val_cider"] == 0.9 and state["stopped_early"]
    assert state["best_val_loss"] == 4.0  # the loss of the kept epoch, for the summary


def test_a_run_is_written_once_read_back_and_resumed_only_when_asked(tmp_path, caplog):
    from vocab import Vocabulary

    ckpt = tmp_path / "model" / "checkpoints"
    assert read_state(str(ckpt)) is None and earlier_state(str(ckpt), "model", resume=False) is None
    assert earlier_state(str(ckpt), "model", resume=True) is None  # nothing to resume: a new run, said once
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == \
        [("captioner.training.checkpoints", "WARNING", "note: nothing to resume in model; starting a new run")]
    vocab = Vocabulary.build(["a red circle", "a blue square"])
    write_run(str(ckpt), vocab, {"settings": {"epochs": 9}, "decoder": {"units": 8}})
    run, again = read_run(str(ckpt))
    assert run == {"settings": {"epochs": 9}, "decoder": {"units": 8}} and again.tokens == vocab.tokens
    state = run_epochs(ckpt, [5.0, 4.0], patience=3)[0]
    assert read_state(str(ckpt)) == json.loads((ckpt / "state.json").read_text()) == state
    assert earlier_state(str(ckpt), "model", resume=True) == state  # --resume: the run goes on from here
    with pytest.raises(UsageError, match=r"^model: holds an earlier training run \(2 epochs done\); pass --resume "
                                         r"to continue it, or choose a new --out$"):
        earlier_state(str(ckpt), "model", resume=False)


def test_a_new_state_is_nothing_done_yet():
    assert fresh_state() == {"epochs_done": 0, "best_val_loss": None, "best_epoch": None, "wait": 0, "history": [],
                             "weights": None, "best_weights": None, "stopped_early": False}


def test_each_epoch_records_its_losses_seconds_and_validation_measures(tmp_path, monkeypatch):
    from captioner.training import checkpoints

    clock = iter([0.0, 10.0, 12.345, 20.0, 20.5])  # made; epoch 1 begins, ends; epoch 2 begins, ends
    monkeypatch.setattr(checkpoints.time, "perf_counter", lambda: next(clock))
    state, model, seen = fresh_state(), StandInModel(), []
    callback = Checkpointer(str(tmp_path), state, patience=3,
                            validation=lambda m: seen.append(m) or {"val_cider": 0.5})  # defaults: loss, no least delta
    callback.set_model(model)
    callback.on_epoch_begin(0)
    callback.on_epoch_end(0, {"loss": 2.0})  # no validation loss: the training loss stands in
    callback.on_epoch_begin(1)
    callback.on_epoch_end(1, {"val_loss": 1.9999})  # better by a hair: better, with no least delta by default
    assert state["history"] == [
        {"epoch": 1, "loss": 2.0, "val_loss": 2.0, "val_cider": 0.5, "seconds": 2.35},
        {"epoch": 2, "loss": pytest.approx(float("nan"), nan_ok=True), "val_loss": 1.9999, "val_cider": 0.5,
         "seconds": 0.5}]
    assert state["best_epoch"] == 2 and seen == [model, model]  # the validation measures the model being trained


def test_a_run_can_be_written_again_into_its_folder(tmp_path):
    from vocab import Vocabulary

    vocab = Vocabulary.build(["a dog"])
    write_run(str(tmp_path / "ckpt"), vocab, {"n": 1})
    write_run(str(tmp_path / "ckpt"), vocab, {"n": 2})  # the folder exists: no error
    assert read_run(str(tmp_path / "ckpt"))[0] == {"n": 2}


def test_an_equal_result_is_no_better_and_an_old_best_is_deleted_when_a_new_one_comes(tmp_path):
    for name, losses, ciders in (("loss", [4.0, 4.0], None), ("cider", [4.0, 3.0], [0.5, 0.5])):
        (tmp_path / name).mkdir()
        state, _, _ = run_epochs(tmp_path / name, losses, patience=5, stop_on=name, val_ciders=ciders)
        assert state["best_epoch"] == 1 and state["wait"] == 1, name
    (tmp_path / "new-best").mkdir()
    state, _, files = run_epochs(tmp_path / "new-best", [5.0, 4.0, 4.5, 3.0], patience=5)
    assert state["best_epoch"] == 4 and files == ["epoch-0004.weights.h5", "state.json"]  # epoch 2's best: gone


def test_each_epoch_is_announced_with_its_measures_and_the_best_epoch_so_far(tmp_path):
    """Found by the mutation run: the line train prints per epoch."""
    from captioner.training.checkpoints import epoch_line

    state, model, said = fresh_state(), StandInModel(), []
    measures = iter([{"val_bleu4": 0.25, "val_cider": 1.5}, {"val_bleu4": 0.2, "val_cider": 1.25}])
    callback = Checkpointer(str(tmp_path), state, 3, lambda m: next(measures), announce=said.append)
    callback.set_model(model)
    for epoch, loss in enumerate([0.75, 0.8]):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, "val_loss": loss})
    assert said == ["epoch 1: val loss 0.7500, val BLEU-4 0.2500, val CIDEr-D 1.5000 (best epoch 1)",
                    "epoch 2: val loss 0.8000, val BLEU-4 0.2000, val CIDEr-D 1.2500 (best epoch 1)"]
    assert epoch_line({"epoch": 4, "val_loss": 0.5, "val_top1": 0.75}, 2) == \
        "epoch 4: val loss 0.5000, val top-1 0.7500 (best epoch 2)"
