"""Continuing a training run with --resume: a finished run trained further with a larger --epochs, a flag that
would change the model refused with both values, the changeable settings applied and recorded; --encoder-seed."""

import json
import shutil

import numpy as np
import pytest

from captioner.base.errors import UsageError
from captioner.training.resume import RunChoices, continue_run, nothing_left, resuming_line
from captioner.training.train import TrainSettings


def _train_args(synthetic, tmp_path, *extra, units=("--units", "8")):
    return ["train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images", "--cache",
            tmp_path / "cache", "--out", tmp_path / "m", "--weights", "random-tiny", *units, "--embed-dim", "8",
            "--quiet", *extra]


def test_a_finished_run_is_trained_further_with_resume_and_a_larger_epochs(synthetic, run_cli, tmp_path, trained):
    shutil.copytree(trained / "cache", tmp_path / "cache")
    code, out, _ = run_cli(*_train_args(synthetic, tmp_path, "--epochs", "1"))
    assert code == 0 and "the same command with --resume --epochs 2" in out
    first = json.loads((tmp_path / "m" / "config.json").read_text())["training"]

    # the advice, as printed: the same command, --resume, the larger cap; --units left out keeps the run's 8
    code, out, err = run_cli(*_train_args(synthetic, tmp_path, "--resume", "--epochs", "2", units=()))
    assert code == 0, err
    assert "resuming after epoch 1 (--epochs 1 -> 2)" in err and "trained 2 epochs" in out
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    training = config["training"]
    assert [h["epoch"] for h in training["history"]] == [1, 2]
    assert training["history"][0] == first["history"][0]  # epoch 1 is the first session's, not trained again
    assert training["settings"]["epochs"] == 2 and config["decoder"]["units"] == 8
    assert training["resumes"] == [{"after_epoch": 1, "changed": {"epochs": [1, 2]}}]
    run = json.loads((tmp_path / "m" / "checkpoints" / "run.json").read_text())
    assert run["settings"]["epochs"] == 2  # the next --resume compares with the latest settings

    # a flag that changes the model is refused, naming the flag and both values; nothing is trained
    code, _, err = run_cli(*_train_args(synthetic, tmp_path, "--resume", "--epochs", "3", "--units", "64"))
    assert code == 2 and err.count("\n") == 1
    assert f"--units 64: the run in {tmp_path / 'm'} was trained with --units 8" in err
    assert json.loads((tmp_path / "m" / "checkpoints" / "state.json").read_text())["epochs_done"] == 2
    for flag, value, recorded in (("--design", "merge", "inject"), ("--min-count", "2", "1"),
                                  ("--seed", "4", "0"), ("--encoder-seed", "4", "0"), ("--weights", "random", None)):
        code, _, err = run_cli(*_train_args(synthetic, tmp_path, "--resume", flag, value))
        assert code == 2 and f"{flag} {value}: the run in" in err, (flag, err)
        assert recorded is None or f"was trained with {flag} {recorded}" in err


def _run(tmp_path, settings: TrainSettings, state: dict) -> str:
    ckpt = tmp_path / "m" / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "run.json").write_text(json.dumps({"decoder": {"units": 8, "cnn": None}, "settings": settings.__dict__}))
    (ckpt / "state.json").write_text(json.dumps(state))
    return str(ckpt)


def _state(done: int, wait: int, stopped: bool) -> dict:
    return {"epochs_done": done, "best_epoch": done - wait, "wait": wait, "stopped_early": stopped,
            "best_val_loss": 1.0, "history": [], "weights": f"epoch-{done:04d}.weights.h5", "best_weights": None}


def test_choices_of_a_resumed_run_are_its_own_and_a_new_run_takes_the_defaults(tmp_path):
    ckpt = _run(tmp_path, TrainSettings(epochs=12, learning_rate=0.01), _state(12, 0, False))
    new = RunChoices(str(tmp_path / "m"), resume=False)  # without --resume, run.json is not read
    assert not new.resuming and new.pick("--units", None, "decoder.units", 256) == 256
    assert new.pick("--units", 64, "decoder.units", 256) == 64
    run = RunChoices(str(tmp_path / "m"), resume=True)
    assert run.resuming and run.pick("--units", None, "decoder.units", 256) == 8  # not asked: the run's value
    assert run.pick("--units", 8, "decoder.units", 256) == 8
    assert run.pick("--epochs", None, "settings.epochs", 200) == 12
    assert run.pick("--epochs", 30, "settings.epochs", 200) == 30  # may change
    assert run.pick("--learning-rate", 0.001, "settings.learning_rate", 3e-3) == 0.001
    assert run.pick("--frame-size", None, "decoder.cnn.frame_size", 64) == 64  # the run has none: the default
    assert run.pick("--frame-size", 32, "decoder.cnn.frame_size", 64) == 32  # ... or what is asked
    with pytest.raises(UsageError) as refused:
        run.pick("--units", 64, "decoder.units", 256)
    assert str(refused.value) == (f"--units 64: the run in {tmp_path / 'm'} was trained with --units 8, and a resumed "
                                  "run keeps its model and data (leave --units out, or train a new model with a new "
                                  "--out)")
    with pytest.raises(UsageError, match="was trained with --max-length none"):
        RunChoices.refuse(run, "--max-length", 5, None)
    assert ckpt.endswith("checkpoints")
    (tmp_path / "m" / "checkpoints" / "state.json").unlink()  # run.json alone: no epoch finished, nothing to resume
    assert not RunChoices(str(tmp_path / "m"), resume=True).resuming


def test_changed_settings_are_applied_recorded_and_a_larger_patience_restarts_a_stopped_run(tmp_path):
    before = TrainSettings(epochs=12, patience=3)
    ckpt = _run(tmp_path, before, _state(9, 3, True))
    state = json.loads((tmp_path / "m" / "checkpoints" / "state.json").read_text())
    run = json.loads((tmp_path / "m" / "checkpoints" / "run.json").read_text())
    assert nothing_left(state, before).startswith("the run ended by early stopping (3 epochs without a better one")

    after = TrainSettings(epochs=12, patience=5, learning_rate=1e-3)
    changes = continue_run(ckpt, run, after, state)
    assert changes == {"patience": [3, 5], "learning_rate": [3e-3, 1e-3]}
    assert state["stopped_early"] is False and nothing_left(state, after) is None  # wait 3 < patience 5
    assert state["resumes"] == [{"after_epoch": 9, "changed": changes}]
    assert json.loads((tmp_path / "m" / "checkpoints" / "state.json").read_text())["resumes"] == state["resumes"]
    assert json.loads((tmp_path / "m" / "checkpoints" / "run.json").read_text())["settings"]["patience"] == 5
    assert resuming_line(state, after, changes) == \
        "resuming after epoch 9 (--learning-rate 0.003 -> 0.001, --patience 3 -> 5)"

    # the same patience again: still stopped, and the line says what would train it further
    same = {**state, "stopped_early": True, "wait": 5}
    assert continue_run(ckpt, json.loads((tmp_path / "m" / "checkpoints" / "run.json").read_text()), after, same) == {}
    assert same["stopped_early"] is True
    assert resuming_line(same, after, {}).endswith("nothing to train: the run ended by early stopping (5 epochs "
                                                   "without a better one, --patience 5): a larger --patience trains "
                                                   "it further")
    waited = {**state, "stopped_early": True, "wait": 5, "resumes": []}  # 5 epochs without a better one
    continue_run(ckpt, {**run, "settings": {**run["settings"], "patience": 3}}, after, waited)
    assert waited["stopped_early"] is True  # a patience of 5 is used up by 5 epochs: it stays stopped
    capped = {**state, "epochs_done": 12}
    assert nothing_left(capped, after) == ("the run has trained its 12 epochs (--epochs): a larger --epochs trains "
                                           "it further")
    with pytest.raises(UsageError, match="min_count 2: the run in .* was trained with min_count 1"):
        continue_run(ckpt, run, TrainSettings(epochs=12, patience=5, min_count=2), state)


def test_a_restored_optimizer_takes_the_learning_rate_asked_now(tmp_path):
    from captioner.base.backend import import_keras
    from captioner.training.checkpoints import restore

    keras = import_keras()

    def model(lr):
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
        return m

    first = model(0.1)
    first.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    first.save_weights(str(tmp_path / "epoch-0001.weights.h5"))
    again = model(0.5)
    restore(again, str(tmp_path), {"weights": "epoch-0001.weights.h5"}, 0.01)
    assert float(keras.ops.convert_to_numpy(again.optimizer.learning_rate)) == pytest.approx(0.01)
    assert int(keras.ops.convert_to_numpy(again.optimizer.iterations)) == 1  # the run's optimizer state is kept
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again.layers[0].kernel),
                               keras.ops.convert_to_numpy(first.layers[0].kernel))


def test_the_encoder_seed_is_its_own_flag_and_the_training_seed_leaves_the_encoder_alone(tmp_path):
    from captioner.api.train_job import model_inputs
    from captioner.api.training_settings import CaptionTraining
    from captioner.cli import build_parser

    def fp(encoder_seed):
        return model_inputs(RunChoices(str(tmp_path / "m"), False), "decoder",
                            CaptionTraining(weights="random-tiny", encoder_seed=encoder_seed))[0]

    assert fp(None) == fp(0) and fp(3).weights_id.startswith("seed=3 ") and fp(None).weights_id.startswith("seed=0 ")
    parser = build_parser()
    args = parser.parse_args(["train", "--captions", "c", "--images", "i", "--cache", "x", "--out", "o", "--seed", "5"])
    assert args.seed == 5 and args.encoder_seed is None
    for flag in ("--encoder-seed", "--seed"):  # extract's --seed (only ever the encoder's) still reads
        assert parser.parse_args(["extract", "p", "--cache", "c", flag, "7"]).encoder_seed == 7


def test_a_resumed_runs_encoder_is_read_from_its_record_and_an_unreadable_one_names_the_file(tmp_path):
    """(Found by the mutation run: only a readable record's encoder was read.)"""
    from captioner.features.encoder import fingerprint

    ckpt = _run(tmp_path, TrainSettings(), _state(1, 0, False))
    run = json.loads((tmp_path / "m" / "checkpoints" / "run.json").read_text())
    (tmp_path / "m" / "checkpoints" / "run.json").write_text(json.dumps({**run, "encoder": fingerprint(
        "random-tiny").to_json()}))
    assert RunChoices(str(tmp_path / "m"), resume=True).recorded_encoder() == fingerprint("random-tiny")
    (tmp_path / "m" / "checkpoints" / "run.json").write_text(json.dumps({**run, "encoder": {"dim": 4}}))
    with pytest.raises(UsageError, match=f"^{ckpt}/run.json: encoder fingerprint lacks architecture, layer, "):
        RunChoices(str(tmp_path / "m"), resume=True).recorded_encoder()
