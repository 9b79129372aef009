"""The caption trainer's outer loop (`train`) at stage level: the synthetic set's captions on made-up feature
vectors, a tiny decoder, three epochs (a few seconds). What a run records is what it trained; the bundle holds the
best epoch's weights; a run stopped after two epochs and resumed is the run that was not stopped; the settings
reach the optimiser and the loss; a clip model standardises its frames with its training clips' statistics."""

import contextlib
import dataclasses
import io
import json
import os
import pathlib
import shutil

import numpy as np
import pytest

from captioner.base.errors import UsageError
from captioner.datasets import load_captions
from captioner.evaluation.metrics import corpus_bleu_scores
from captioner.features.encoder_spec import PixelSpec
from captioner.features.clip_features import cached_inputs, cached_rows, frame_sample
from captioner.models.bundle import load_bundle
from captioner.models.decoder import DecoderConfig, build_decoder
from captioner.models.model_configs import FrameCnn
from captioner.search.captioning import Captioner
from captioner.training import train as train_module
from captioner.training.train import DecoderChoices, TrainSettings, train
from captioner.training.training_data import caption_pairs
from tests.support.log_lines import log_lines
from tests.support.same_run import assert_same_weights, without_seconds
from tests.support.terminal import Terminal, keras_bar
from tests.support.made_features import SPEC, made_job_features, made_vectors, write_made_cache
from vocab import Vocabulary, caption_stats

TINY = DecoderChoices(units=8, embed_dim=8, dropout=0.0)  # no dropout: a resumed run repeats the whole one exactly
PIXELS = PixelSpec.of_size(8)  # a clip model with its own CNN reads its frames as 8x8 pixels, merging (not injecting)
TINY_CNN = DecoderChoices(units=8, embed_dim=8, dropout=0.0, design="merge", frame_encoder="cnn",
                          cnn=FrameCnn(frame_size=8, filters=2, blocks=1, dense=8))
SETTINGS = TrainSettings(epochs=3, patience=5, batch_size=16, learning_rate=5e-3, seed=3, label_smoothing=0.1,
                         min_count=2)
LEFT_OUT = "shapes_00003.jpg"  # a training image whose file could not be read: no features


@pytest.fixture(scope="module")
def runs(synthetic, tmp_path_factory):
    """The same training three ways: whole (3 epochs, progress shown), stopped after 2 and resumed to 3, and a
    clip model (2 frames a clip, one clip short, captions cut to 4 words, stopping on CIDEr-D, its summary)."""
    work = tmp_path_factory.mktemp("loops")
    captions = load_captions(str(synthetic / "captions.token.txt"))
    keys = captions.training_keys()
    write_made_cache(str(work / "images"), made_vectors(keys, seed=1))
    write_made_cache(str(work / "clips"), made_vectors(keys, 2, 2, {keys[0]}, PIXELS), frames=2, spec=PIXELS)
    failed = ((LEFT_OUT, "not a picture"),)

    def features(kind="images", frames=0):
        return made_job_features(str(work / kind), set(keys) - {LEFT_OUT}, frames, failed,
                                 PIXELS if frames else SPEC)

    calls = {"batches": []}
    batches, sample = train_module._batches, train_module.frame_sample

    def recorded_batches(*args):  # (batch size, seed, epoch) of each run's batches
        calls["batches"].append(tuple(args[5:]))
        return batches(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_module, "_batches", recorded_batches)
        patch.setattr(train_module, "frame_sample",
                      lambda m, r, limit=None: calls.setdefault("sample", limit) is not None and sample(m, r, limit))
        runs = _train_each_way(work, captions, features, calls)
    return runs


def _train_each_way(work, captions, features, calls):
    with log_lines() as whole_log, pytest.MonkeyPatch.context() as patch:
        keras = train_module.keras
        adam, loss, seed = keras.optimizers.Adam, train_module.token_loss, keras.utils.set_random_seed
        patch.setattr(keras.optimizers, "Adam", lambda *a, **k: calls.setdefault("adam", (a, k)) and adam(*a, **k))
        patch.setattr(train_module, "token_loss", lambda s: calls.setdefault("smoothing", s) is not None and loss(s))
        patch.setattr(keras.utils, "set_random_seed", lambda s: calls.setdefault("seed", s) is not None and seed(s))
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            whole = train(captions, features(), str(work / "whole"), SETTINGS, TINY)  # progress shown by default
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        part = train(captions, features(), str(work / "part"), dataclasses.replace(SETTINGS, epochs=2), TINY,
                     show_progress=False)
    further = TrainSettings(**{**part["settings"], "epochs": 3})  # the run's own settings, a larger cap
    terminal = Terminal()
    with log_lines() as resume_log, contextlib.redirect_stdout(terminal):
        resumed = train(captions, features(), str(work / "part"), further, TINY, resume=True)
    clip_settings = dataclasses.replace(SETTINGS, epochs=2, max_length=4, stop_on="cider")
    summary = io.StringIO()
    with log_lines() as clip_log, contextlib.redirect_stdout(summary):
        clip = train(captions, features("clips", 2), str(work / "clip"), clip_settings, TINY_CNN,
                     show_progress=False, summary=True)
    return dict(work=work, captions=captions, features=features, calls=calls, whole=whole, part=part,
                resumed=resumed, clip=clip, whole_log=whole_log, resume_log=resume_log, clip_log=clip_log,
                terminal=terminal.getvalue(),
                stdout=stdout.getvalue(), summary=summary.getvalue(), quiet=quiet.getvalue())


def usable(captions, split):
    return {k: v for k, v in captions.select(split).captions.items() if k != LEFT_OUT}


def test_the_caption_trainers_runs_record_what_they_trained_and_resume_as_they_would_have_gone_on(runs):
    """Every check of the runs above, in one test: mutmut runs, for a mutant, the tests that called the mutated
    function, and the module's training runs are called in the setup of the first test that uses them."""
    for check in (
            a_run_records_the_images_captions_and_files_it_trained_on,
            a_run_records_its_epochs_and_its_best_one,
            the_settings_reach_the_optimiser_the_loss_and_the_seed_and_the_caption_length_is_the_99th_percentile,
            the_bundle_holds_the_best_epochs_weights_and_its_greedy_bleu_is_the_summarys,
            a_run_stopped_after_two_epochs_and_resumed_is_the_run_that_was_not_stopped,
            progress_is_shown_when_asked_and_only_then,
            a_clip_model_with_its_own_cnn_standardises_frames_with_its_training_clips_and_cuts_long_captions,
            a_clip_run_stopping_on_cider_keeps_its_best_cider_epoch,
    ):
        check(runs)


def a_run_records_the_images_captions_and_files_it_trained_on(runs):
    whole, captions = runs["whole"], runs["captions"]
    train_caps, val_caps = usable(captions, "train"), usable(captions, "val")
    assert (whole["train_images"], whole["val_images"]) == (len(train_caps), len(val_caps)) == (15, 2)
    assert whole["train_captions"] == sum(map(len, train_caps.values()))
    assert whole["val_captions"] == sum(map(len, val_caps.values()))
    assert whole["captions"] == captions.source and whole["skipped_images"] == 1
    assert whole["feature_dtype"] == "float16" and whole["resumes"] == []


def a_run_records_its_epochs_and_its_best_one(runs):
    whole = runs["whole"]
    history = whole["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3] and whole["epochs"] == 3 and not whole["stopped_early"]
    losses = [h["val_loss"] for h in history]
    assert whole["best_epoch"] == 1 + int(np.argmin(losses)) and whole["best_val_loss"] == min(losses)
    assert whole["seconds_per_epoch"] == round(float(np.median([h["seconds"] for h in history])), 2)
    assert all({"loss", "val_bleu1", "val_bleu4", "val_cider"} <= set(h) for h in history)
    assert all(h["val_loss"] != h["loss"] for h in history)  # measured on the validation captions
    speed = whole["val_greedy_captions_per_s"]
    assert isinstance(speed, float) and speed > 0 and round(speed, 1) == speed  # given to one decimal


def the_settings_reach_the_optimiser_the_loss_and_the_seed_and_the_caption_length_is_the_99th_percentile(runs):
    args, kwargs = runs["calls"]["adam"]
    train_batches, val_batches = (SETTINGS.batch_size, SETTINGS.seed, 0), (256,)
    assert runs["calls"]["batches"][:6] == [train_batches, val_batches] * 2 + [(16, 3, 2), val_batches]
    assert args == (SETTINGS.learning_rate,) and kwargs == {"clipnorm": 5.0}
    assert runs["calls"]["smoothing"] == SETTINGS.label_smoothing and runs["calls"]["seed"] == SETTINGS.seed
    _, texts = caption_pairs(usable(runs["captions"], "train"))
    vocab = Vocabulary.build(texts, SETTINGS.min_count)  # words seen once are <unk>
    length = caption_stats(vocab, texts).length_percentiles[99]
    assert load_bundle(str(runs["work"] / "whole")).vocab.to_json() == vocab.to_json()
    assert runs["whole"]["settings"] == {**dataclasses.asdict(SETTINGS), "max_length": length}
    config = json.loads((runs["work"] / "whole" / "config.json").read_text())
    run = json.loads((runs["work"] / "whole" / "checkpoints" / "run.json").read_text())  # what a resume reads
    assert run == {"decoder": config["decoder"], "settings": runs["whole"]["settings"], "encoder": SPEC.to_json(),
                   "captions": runs["captions"].source}
    assert config["decoder"]["max_length"] == length and config["decoder"]["units"] == TINY.units


def the_bundle_holds_the_best_epochs_weights_and_its_greedy_bleu_is_the_summarys(runs):
    out = runs["work"] / "whole"
    bundle = load_bundle(str(out))
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["best_weights"] == f"epoch-{runs['whole']['best_epoch']:04d}.weights.h5"
    best = build_decoder(DecoderConfig.from_json(json.loads((out / "config.json").read_text())["decoder"]))
    best.load_weights(str(out / "checkpoints" / state["best_weights"]))
    assert_same_weights(bundle.decoder, best)
    val_caps = usable(runs["captions"], "val")
    images = sorted(val_caps)
    with runs["features"]() as features:
        greedy = Captioner(bundle.decoder, bundle.vocab).best(cached_inputs(features.cache, images, 0))
    assert runs["whole"]["val_bleu_greedy"] == corpus_bleu_scores([val_caps[k] for k in images], greedy)


def a_run_stopped_after_two_epochs_and_resumed_is_the_run_that_was_not_stopped(runs):
    whole, resumed = runs["whole"], runs["resumed"]
    assert [h["epoch"] for h in runs["part"]["history"]] == [1, 2]
    assert without_seconds(whole["history"]) == without_seconds(resumed["history"])
    assert resumed["resumes"] == [{"after_epoch": 2, "changed": {"epochs": [2, 3]}}]
    assert "resuming after epoch 2 (--epochs 2 -> 3)" in runs["resume_log"]
    assert_same_weights(load_bundle(str(runs["work"] / "whole")).decoder,
                        load_bundle(str(runs["work"] / "part")).decoder, exact=False)


def progress_is_shown_when_asked_and_only_then(runs):
    announced = [line for line in runs["whole_log"] if line.startswith("epoch ")]
    assert [line.split(",")[0] for line in announced] == [
        f"epoch {h['epoch']}: val loss {h['val_loss']:.4f}" for h in runs["whole"]["history"]]
    assert "Epoch 1/3" in runs["stdout"] and "Epoch" not in runs["summary"] + runs["quiet"]  # Keras' own lines
    assert not keras_bar(runs["stdout"])  # a line an epoch, not Keras' bar, off a terminal
    assert not [line for line in runs["whole_log"] if "truncated" in line]  # no caption was cut
    assert [line.split(":")[0] for line in runs["resume_log"] if line.startswith("epoch ")] == ["epoch 3"]
    assert keras_bar(runs["terminal"])  # on a terminal, Keras' progress bar
    _, texts = caption_pairs(usable(runs["captions"], "train"))
    assert caption_stats(Vocabulary.build(texts, SETTINGS.min_count), texts).summary() in runs["whole_log"]


def a_clip_model_with_its_own_cnn_standardises_frames_with_its_training_clips_and_cuts_long_captions(runs):
    clip, captions = runs["clip"], runs["captions"]
    out = runs["work"] / "clip"
    decoder = load_bundle(str(out)).decoder
    train_keys = sorted(usable(captions, "train"))
    with runs["features"]("clips", 2) as features:
        vectors, rows = cached_rows(features.cache, train_keys, 2)
        frames = frame_sample(vectors, rows).astype(np.float64)
    assert len(frames) == 2 * len(train_keys) - 1  # the short clip's padding is no frame
    np.testing.assert_allclose(np.asarray(decoder.frame_mean), frames.mean(axis=0), rtol=1e-5, atol=1e-4)
    spread = np.full(PIXELS.dim, frames.std()) + 1e-3  # a pixel's spread is that of all the frames' values
    np.testing.assert_allclose(np.asarray(decoder.frame_scale), spread, rtol=1e-5)
    config = json.loads((out / "config.json").read_text())["decoder"]
    assert (config["frames"], config["design"], config["frame_encoder"]) == (2, "merge", "cnn")
    assert config["cnn"] == dataclasses.asdict(TINY_CNN.cnn) and clip["settings"]["max_length"] == 4
    _, texts = caption_pairs(usable(captions, "train"))
    cut = sum(len(t.split()) > 4 for t in texts)
    assert f"note: {cut} training captions longer than 4 words were truncated" in runs["clip_log"]
    assert "Total params" in runs["summary"] and "Total params" not in runs["stdout"]
    assert "frame_conv1" in runs["summary"]  # the summary opens the CNN the model nests
    assert runs["calls"]["sample"] == decoder.statistics_sample  # as many frames as the model asks for


def a_clip_run_stopping_on_cider_keeps_its_best_cider_epoch(runs):
    clip = runs["clip"]
    ciders = [h["val_cider"] for h in clip["history"]]
    assert clip["best_epoch"] == 1 + int(np.argmax(ciders)) and clip["best_val_cider"] == max(ciders)


def test_a_run_with_no_training_or_no_validation_images_is_refused_naming_the_caption_file(runs):
    captions, work = runs["captions"], runs["work"]
    shutil.copytree(work / "whole", work / "other-frames")
    further = TrainSettings(**{**runs["whole"]["settings"], "epochs": 4})
    with pytest.raises(UsageError, match=f"^{work / 'other-frames'}: the run reads 0 frames a clip; the features "
                                         "given, 2$"):
        train(captions, runs["features"]("clips", 2), str(work / "other-frames"), further, TINY, resume=True)
    with pytest.raises(UsageError, match=f"^{work / 'whole'}: holds an earlier training run \\(3 epochs done\\)"):
        train(captions, runs["features"](), str(work / "whole"), SETTINGS, TINY)  # not resumed unless asked
    for split, missing in (("train", "no training images with features"), ("val", "no validation images")):
        keys = set(captions.training_keys()) - set(captions.select(split).captions)
        features = made_job_features(str(work / "images"), keys)
        with pytest.raises(UsageError, match=f"^{captions.source}: {missing} \\(split from "):
            train(captions, features, str(work / f"none-{split}"), SETTINGS, TINY, show_progress=False)
        assert not os.path.exists(work / f"none-{split}" / "config.json")


def test_the_caption_length_is_the_training_captions_99th_percentile_and_at_least_one_word(runs, tmp_path):
    """120 one-word training captions and one of three words: the 99th percentile is 1 word, the longest 3."""
    source = pathlib.Path(runs["captions"].source)
    for split in source.parent.glob("*Images.txt"):
        shutil.copy(split, tmp_path / split.name)
    keys = runs["captions"].training_keys()
    lines = [f"{key}#{i}\tcircle" for key in keys for i in range(8)] + [f"{keys[0]}#8\ta red circle"]
    (tmp_path / source.name).write_text("\n".join(lines) + "\n")
    captions = load_captions(str(tmp_path / source.name))
    assert len(usable(captions, "train")) == 15 and sum(map(len, usable(captions, "train").values())) == 121
    one = dataclasses.replace(SETTINGS, epochs=1, min_count=1)
    summary = train(captions, runs["features"](), str(tmp_path / "m"), one, TINY, show_progress=False)
    assert summary["settings"]["max_length"] == 1


def test_a_run_that_early_stopping_ended_trains_no_further_when_resumed_with_the_same_patience(runs):
    work = runs["work"]
    shutil.copytree(work / "whole", work / "stopped")
    state_file = work / "stopped" / "checkpoints" / "state.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "wait": SETTINGS.patience, "stopped_early": True}))
    further = TrainSettings(**{**runs["whole"]["settings"], "epochs": 5})
    with log_lines() as lines:
        summary = train(runs["captions"], runs["features"](), str(work / "stopped"), further, TINY, resume=True,
                        show_progress=False)
    assert summary["epochs"] == 3 and summary["stopped_early"] and summary["history"] == runs["whole"]["history"]
    assert any("nothing to train: the run ended by early stopping" in line for line in lines)
