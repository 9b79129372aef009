"""Self-critical training (`train --init M --objective cider`): fine-tunes a caption bundle on its own samples
with CIDEr-D as the reward, records it in the bundle, and resumes after an interruption with the same result."""

import json

import numpy as np
import pytest

from captioner.training import self_critical


def _args(trained, synthetic, out, *extra):
    return ["train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
            "--cache", trained / "cache", "--init", trained / "model", "--objective", "cider", "--out", out,
            "--epochs", "2", "--patience", "5", "--batch-size", "8", "--samples", "3", "--quiet", *extra]


def test_scst_fine_tunes_records_rewards_and_captions(trained, synthetic, tmp_path, run_cli):
    code, out, err = run_cli(*_args(trained, synthetic, tmp_path / "scst"))
    assert code == 0, err
    assert "self-critical training: 2 epochs" in out and "validation CIDEr-D (beam 3)" in err
    training = json.loads((tmp_path / "scst" / "config.json").read_text())["training"]
    init = json.loads((trained / "model" / "config.json").read_text())
    assert training["objective"] == "cider" and training["init"] == str(trained / "model")
    assert [h["epoch"] for h in training["scst_history"]] == [1, 2]
    assert all({"reward", "baseline", "val_cider", "loss", "seconds"} <= set(h) for h in training["scst_history"])
    assert training["best_epoch"] == init["training"]["best_epoch"]  # the cross-entropy summary is kept
    assert training["scst_settings"]["learning_rate"] == self_critical.ScstSettings.learning_rate  # no flag: default
    if training["scst_best_epoch"]:  # an epoch beat the start: its weights, not the init model's
        weights = (tmp_path / "scst" / "decoder.weights.h5").read_bytes()
        assert weights != (trained / "model" / "decoder.weights.h5").read_bytes()
    code, out, _ = run_cli("caption", "--model", tmp_path / "scst", synthetic / "Images" / "shapes_00000.jpg")
    assert code == 0 and out.count("\t") == 1


@pytest.mark.backend_independent  # argument checks
def test_scst_refuses_what_it_cannot_do(trained, synthetic, tmp_path, run_cli):
    code, _, err = run_cli(*_args(trained, synthetic, tmp_path / "x")[:-12], "--quiet")  # --init without cider
    assert code == 2
    code, _, err = run_cli("train", "--captions", synthetic / "captions.token.txt", "--images", synthetic / "Images",
                           "--cache", trained / "cache", "--objective", "cider", "--out", tmp_path / "y")
    assert code == 2 and "--init" in err
    code, _, err = run_cli(*_args(trained, synthetic, tmp_path / "z", "--baseline", "mean", "--samples", "1"))
    assert code == 2 and "--samples 2 or more" in err
    code, _, err = run_cli(*_args(trained, synthetic, trained / "model"))
    assert code == 2 and "is the --init model" in err


def test_scst_interrupted_then_resumed_gives_the_uninterrupted_result(trained, synthetic, tmp_path, run_cli,
                                                                      monkeypatch):
    code, _, err = run_cli(*_args(trained, synthetic, tmp_path / "whole", "--epochs", "3"))
    assert code == 0, err
    real = self_critical._epoch
    calls = []

    def dies_in_epoch_two(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(self_critical, "_epoch", dies_in_epoch_two)
    code, _, _ = run_cli(*_args(trained, synthetic, tmp_path / "cut", "--epochs", "3"))
    assert code == 130 and not (tmp_path / "cut" / "config.json").exists()
    monkeypatch.setattr(self_critical, "_epoch", real)
    code, _, err = run_cli(*_args(trained, synthetic, tmp_path / "cut", "--epochs", "3", "--resume"))
    assert code == 0 and "resuming after epoch 1" in err
    whole, cut = (json.loads((tmp_path / d / "config.json").read_text())["training"] for d in ("whole", "cut"))
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in whole["scst_history"]]
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in cut["scst_history"]] == strip
    assert np.isclose(whole["best_val_cider"], cut["best_val_cider"])
