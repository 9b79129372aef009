"""Self-critical fine-tuning's outer loop (`train_self_critical`) at stage level: a tiny untrained decoder saved as
the starting bundle, the synthetic set's captions on made-up feature vectors, two epochs (a few seconds). The
starting model's validation CIDEr-D is measured with the validation beam; the best epoch (or the starting model,
when none beats it) is what the bundle holds; a run stopped after one epoch and resumed is the run that was not
stopped; what cannot be fine-tuned is refused naming why."""

import contextlib
import dataclasses
import io
import itertools
import json
import os
import shutil
import types

import numpy as np
import pytest

from captioner.base.backend import import_keras
from captioner.base.errors import UsageError
from captioner.datasets import load_captions
from captioner.evaluation.cider_d import CiderD
from captioner.evaluation.ptb_tokens import PtbTokenizer
from captioner.features.clip_features import cached_inputs
from captioner.features.encoder import fingerprint
from captioner.models.bundle import load_bundle, save_bundle
from captioner.models.decoder import DecoderConfig, build_decoder
from captioner.search.captioning import Captioner
from captioner.search.searcher import Searcher, SearchSettings
from captioner.training import self_critical
from captioner.training.self_critical import ScstSettings, train_self_critical
from tests.support.log_lines import log_lines
from tests.support.same_run import assert_same_weights, without_seconds
from tests.support.made_features import SPEC, made_job_features, made_vectors, write_made_cache
from vocab import Vocabulary

keras = import_keras()
SETTINGS = ScstSettings(epochs=2, batch_size=8, learning_rate=5e-2, patience=5, samples=5, seed=1, val_beam_size=2)
LEFT_OUT = "shapes_00003.jpg"


@pytest.fixture(scope="module")
def runs(synthetic, tmp_path_factory):
    work = tmp_path_factory.mktemp("scst")
    captions = load_captions(str(synthetic / "captions.token.txt"))
    keys = captions.training_keys()
    write_made_cache(str(work / "images"), made_vectors(keys, seed=4))
    texts = [c for k in sorted(captions.select("train").captions) for c in captions.select("train").captions[k]]
    vocab = Vocabulary.build(texts)
    config = DecoderConfig(vocab_size=len(vocab), max_length=8, feature_dim=SPEC.dim, units=8, embed_dim=8,
                           dropout=0.0)
    keras.utils.set_random_seed(0)
    start = build_decoder(config)
    for weight in start.get_layer("classifier").weights:  # every word as likely: captions an epoch improves on
        weight.assign(np.zeros(weight.shape, "float32"))
    save_bundle(str(work / "init"), start, vocab, SPEC, {"objective": "xent", "marker": 7})
    failed = ((LEFT_OUT, "not a picture"),)

    def features():
        return made_job_features(str(work / "images"), set(keys) - {LEFT_OUT}, 0, failed)

    init = str(work / "init")
    shown, quiet, calls = io.StringIO(), io.StringIO(), {}
    with log_lines() as whole_log, contextlib.redirect_stderr(shown), pytest.MonkeyPatch.context() as patch:
        adam, loss = keras.optimizers.Adam, keras.losses.SparseCategoricalCrossentropy
        patch.setattr(keras.optimizers, "Adam", lambda *a, **k: calls.setdefault("adam", (a, k)) and adam(*a, **k))
        patch.setattr(keras.losses, "SparseCategoricalCrossentropy",
                      lambda *a, **k: calls.setdefault("loss", (a, k)) and loss(*a, **k))
        patch.setattr(self_critical, "Searcher", lambda *a, **k: calls.setdefault("searchers", []).append(
            (a[1:], k)) or Searcher(*a, **k))
        ticks = itertools.count(0.0, 3.257)  # the trainer's clock: 3.257 s from an epoch's start to its end
        patch.setattr(self_critical, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
        whole = train_self_critical(captions, features(), init, str(work / "whole"), SETTINGS)  # progress by default
    with contextlib.redirect_stderr(quiet):
        part = train_self_critical(captions, features(), init, str(work / "part"),
                                   dataclasses.replace(SETTINGS, epochs=1), show_progress=False)
    shutil.copy(work / "part" / "checkpoints" / "epoch-0001.weights.h5", work / "epoch-1.weights.h5")
    with log_lines() as resume_log:
        resumed = train_self_critical(captions, features(), init, str(work / "part"), SETTINGS, resume=True,
                                      show_progress=False)
    return dict(work=work, captions=captions, features=features, init=init, whole=whole, part=part, vocab=vocab,
                config=config, resumed=resumed, whole_log=whole_log, resume_log=resume_log, shown=shown.getvalue(),
                quiet=quiet.getvalue(), calls=calls)


def usable(runs, split):
    return {k: v for k, v in runs["captions"].select(split).captions.items() if k != LEFT_OUT}


def val_cider(runs, directory: str, beam_size: int, features=None, weights: str | None = None) -> float:
    """The corpus CIDEr-D of the bundle's captions (with `weights` instead of its own, if given) of the validation
    images (or clips, with their `features`), searched with `beam_size`."""
    bundle, val = load_bundle(directory), usable(runs, "val")
    if weights:
        bundle.decoder.load_weights(weights)
    images, tokenizer = sorted(val), PtbTokenizer()
    with features or runs["features"]() as features:
        captions = Captioner(bundle.decoder, bundle.vocab, beam_size=beam_size).best(
            cached_inputs(features.cache, images, features.frames))
    cider = CiderD([[tokenizer(c) for c in val[k]] for k in images])
    return float(np.mean(cider.scores([tokenizer(c) for c in captions], range(len(images)))))


def test_the_fine_tuning_runs_record_what_they_trained_and_resume_as_they_would_have_gone_on(runs):
    """Every check of the runs above, in one test: mutmut runs, for a mutant, the tests that called the mutated
    function, and the module's training runs are called in the setup of the first test that uses them."""
    for check in (
            a_run_records_what_it_fine_tuned_on_and_keeps_the_starting_bundles_record,
            the_settings_reach_the_optimiser_the_loss_and_the_searches,
            the_starting_models_validation_cider_is_measured_with_the_validation_beam,
            each_epochs_validation_cider_is_that_of_its_weights,
            the_bundle_holds_the_best_epochs_weights,
            each_epoch_is_logged_with_its_reward_and_validation_cider,
            a_run_stopped_after_one_epoch_and_resumed_is_the_run_that_was_not_stopped,
    ):
        check(runs)


def the_settings_reach_the_optimiser_the_loss_and_the_searches(runs):
    """The policy gradient's cross-entropy takes the decoder's logits and leaves out padding (token 0); captions
    are sampled greedily and validated with the validation beam, both reading the weights as they change (a
    backend's compiled search would otherwise keep those it was traced with)."""
    assert runs["calls"]["adam"] == ((SETTINGS.learning_rate,), {"clipnorm": 5.0})
    assert runs["calls"]["loss"] == ((), {"from_logits": True, "ignore_class": 0})
    assert runs["calls"]["searchers"] == [((8, SearchSettings(batch_size=256)), {"live_weights": True}),
                                          ((8, SearchSettings(beam_size=2, batch_size=256)), {"live_weights": True})]


def a_run_records_what_it_fine_tuned_on_and_keeps_the_starting_bundles_record(runs):
    whole = runs["whole"]
    assert whole["objective"] == "cider" and whole["marker"] == 7  # the starting bundle's record, updated
    assert whole["init"] == os.path.abspath(runs["init"]) and whole["captions"] == runs["captions"].source
    assert (whole["train_images"], whole["val_images"]) == (len(usable(runs, "train")), len(usable(runs, "val")))
    assert whole["skipped_images"] == 1 and whole["scst_settings"] == dataclasses.asdict(SETTINGS)
    history = whole["scst_history"]
    assert [h["epoch"] for h in history] == [1, 2] and whole["scst_epochs"] == 2 and not whole["scst_stopped_early"]
    assert all({"reward", "baseline", "loss", "val_cider", "seconds"} <= set(h) for h in history)
    assert [h["seconds"] for h in history] == [3.26, 3.26] and whole["scst_seconds_per_epoch"] == 3.26
    assert whole["scst_resumes"] == []
    assert load_bundle(str(runs["work"] / "whole")).training == whole  # the bundle stores what it returned
    run = json.loads((runs["work"] / "whole" / "checkpoints" / "run.json").read_text())
    assert run["init"] == whole["init"] and run["settings"] == whole["scst_settings"]
    assert run["encoder"] == SPEC.to_json() and run["captions"] == runs["captions"].source


def the_starting_models_validation_cider_is_measured_with_the_validation_beam(runs):
    start = val_cider(runs, runs["init"], SETTINGS.val_beam_size)
    assert f"self-critical training from {runs['init']}: validation CIDEr-D (beam 2) {start:.4f}" in runs["whole_log"]
    best, best_epoch = round(start, 4), 0  # rounded as every epoch's is
    for h in runs["whole"]["scst_history"]:
        if h["val_cider"] > best + 1e-9:
            best, best_epoch = h["val_cider"], h["epoch"]
    assert (runs["whole"]["scst_best_epoch"], runs["whole"]["best_val_cider"]) == (best_epoch, best)


def each_epochs_validation_cider_is_that_of_its_weights(runs):
    """Epoch 1's weights as the run stopped after it left them (the same as the whole run's epoch 1)."""
    epoch_1 = val_cider(runs, runs["init"], SETTINGS.val_beam_size, weights=str(runs["work"] / "epoch-1.weights.h5"))
    assert runs["whole"]["scst_history"][0]["val_cider"] == round(epoch_1, 4)


def the_bundle_holds_the_best_epochs_weights(runs):
    """(The starting model kept when no epoch beats it: the next test but one.)"""
    out = runs["work"] / "whole"
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    best = load_bundle(runs["init"]).decoder
    if runs["whole"]["scst_best_epoch"]:  # an epoch beat the start (under TensorFlow, the first)
        assert state["best_weights"] == f"epoch-{runs['whole']['scst_best_epoch']:04d}.weights.h5"
        best.load_weights(str(out / "checkpoints" / state["best_weights"]))
    assert_same_weights(load_bundle(str(out)).decoder, best)
    assert val_cider(runs, str(out), SETTINGS.val_beam_size) == pytest.approx(runs["whole"]["best_val_cider"],
                                                                               abs=1e-4)


def each_epoch_is_logged_with_its_reward_and_validation_cider(runs):
    assert "scst 1 " in runs["shown"] and "scst 2 " in runs["shown"] and "scst" not in runs["quiet"]
    assert [line for line in runs["whole_log"] if line.startswith("epoch ")] == [
        f"epoch {h['epoch']}: mean sample reward {h['reward']:.4f}, validation CIDEr-D {h['val_cider']:.4f}"
        for h in runs["whole"]["scst_history"]]


def a_run_stopped_after_one_epoch_and_resumed_is_the_run_that_was_not_stopped(runs):
    whole, resumed = runs["whole"], runs["resumed"]
    assert [h["epoch"] for h in runs["part"]["scst_history"]] == [1]
    assert without_seconds(whole["scst_history"]) == without_seconds(resumed["scst_history"])
    assert resumed["scst_resumes"] == [{"after_epoch": 1, "changed": {"epochs": [1, 2]}}]
    assert "resuming after epoch 1 (--epochs 1 -> 2)" in runs["resume_log"]
    assert resumed["init"] == whole["init"]
    assert_same_weights(load_bundle(str(runs["work"] / "whole")).decoder,
                        load_bundle(str(runs["work"] / "part")).decoder, exact=False)


def test_a_run_no_epoch_of_which_beats_the_start_keeps_the_starting_model_and_stops_after_patience(runs):
    """Fine-tuning the fine-tuned model again with a learning rate of 0: every epoch's validation CIDEr-D is the
    start's, which is no better (rounded alike), so the run stops after `patience` epochs and keeps the start."""
    work, start = runs["work"], str(runs["work"] / "whole")
    still = dataclasses.replace(SETTINGS, epochs=5, learning_rate=0.0, patience=2)
    summary = train_self_critical(runs["captions"], runs["features"](), start, str(work / "still"), still,
                                  show_progress=False)
    assert (summary["scst_best_epoch"], summary["scst_epochs"], summary["scst_stopped_early"]) == (0, 2, True)
    assert summary["best_val_cider"] == round(val_cider(runs, start, SETTINGS.val_beam_size), 4)
    assert [h["val_cider"] for h in summary["scst_history"]] == [summary["best_val_cider"]] * 2
    assert_same_weights(load_bundle(str(work / "still")).decoder, load_bundle(start).decoder)
    none = train_self_critical(runs["captions"], runs["features"](), start, str(work / "no-epoch"),
                               dataclasses.replace(still, epochs=0), show_progress=False)  # the start measured
    assert (none["scst_epochs"], none["scst_history"], none["scst_seconds_per_epoch"]) == (0, [], None)
    assert none["best_val_cider"] == summary["best_val_cider"]


def test_what_cannot_be_fine_tuned_is_refused_naming_why(runs):
    work, captions, init = runs["work"], runs["captions"], runs["init"]
    with pytest.raises(UsageError, match=f"^--out {init} is the --init model: write the fine-tuned one elsewhere$"):
        train_self_critical(captions, runs["features"](), init, init, SETTINGS, show_progress=False)
    with pytest.raises(UsageError, match="^--baseline mean needs --samples 2 or more"):
        train_self_critical(captions, runs["features"](), init, str(work / "x"),
                            dataclasses.replace(SETTINGS, samples=1), show_progress=False)
    with pytest.raises(UsageError, match=f"^{init}: reads 0 frames a clip; the features given, 2$"):
        train_self_critical(captions, dataclasses.replace(runs["features"](), frames=2), init, str(work / "x"),
                            SETTINGS, show_progress=False)
    other = str(work / "other-encoder")
    save_bundle(other, load_bundle(init).decoder, load_bundle(init).vocab, fingerprint("random-tiny", seed=5), {})
    differs = "weights_id: model has 'seed=5 he-uniform-numpy-v1', features have 'seed=0 he-uniform-numpy-v1'"
    with pytest.raises(UsageError, match=f"^{other}: its encoder is not the features' \\({differs}\\)$"):
        train_self_critical(captions, runs["features"](), other, str(work / "x"), SETTINGS, show_progress=False)
    with pytest.raises(UsageError, match=f"^{work / 'whole'}: holds an earlier training run \\(2 epochs done\\)"):
        train_self_critical(captions, runs["features"](), init, str(work / "whole"), SETTINGS)  # resumed if asked
    for split in ("train", "val"):
        keys = set(captions.training_keys()) - set(captions.select(split).captions)
        with pytest.raises(UsageError, match=f"^{captions.source}: self-critical training needs training and "
                                             "validation images with features \\(split from "):
            train_self_critical(captions, made_job_features(str(work / "images"), keys), init, str(work / "x"),
                                SETTINGS, show_progress=False)
    assert not os.path.exists(work / "x" / "config.json")


def test_a_clip_model_is_fine_tuned_on_its_clips_frames(runs):
    """A model that reads 2 frames a clip (one clip has only 1): its starting and fine-tuned validation CIDEr-D
    are those of its captions of the clips' frames."""
    work, captions, keys = runs["work"], runs["captions"], sorted(runs["captions"].training_keys())
    write_made_cache(str(work / "clips"), made_vectors(keys, 2, 6, frozenset(keys[:1])), frames=2)
    config = dataclasses.replace(runs["config"], frames=2)  # the image model's sizes, reading 2 frames a clip
    keras.utils.set_random_seed(0)
    save_bundle(str(work / "clip-init"), build_decoder(config), runs["vocab"], SPEC, {"objective": "xent"})

    def clips():
        return made_job_features(str(work / "clips"), set(keys) - {LEFT_OUT}, 2)

    settings = dataclasses.replace(SETTINGS, epochs=1, val_beam_size=1)
    with log_lines() as lines:
        summary = train_self_critical(captions, clips(), str(work / "clip-init"), str(work / "clip-out"), settings,
                                      show_progress=False)
    start = val_cider(runs, str(work / "clip-init"), 1, clips())
    assert f"self-critical training from {work / 'clip-init'}: validation CIDEr-D (beam 1) {start:.4f}" in lines
    assert summary["train_images"] == len(usable(runs, "train")) and summary["scst_epochs"] == 1
    assert val_cider(runs, str(work / "clip-out"), 1, clips()) == pytest.approx(summary["best_val_cider"], abs=1e-4)
