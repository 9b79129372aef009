"""One self-critical epoch's bookkeeping, on the tiny problem of test_self_critical.py: what it returns (the mean
reward, baseline and loss of its steps, rounded), its random numbers (fixed by the seed and the epoch), each
dropout layer's seed, and the progress line it prints."""

import dataclasses
import re

import numpy as np
import pytest

from captioner.training import self_critical
from tests.training.test_self_critical import SCENES, TinyProblem


def _epoch(problem: TinyProblem, epoch: int = 1, show_progress: bool = False) -> dict:
    return self_critical._epoch(problem.decoder, problem.searcher, problem.reward, problem.vocab, problem.tokenizer,
                                problem.features, np.arange(len(SCENES)), problem.settings, epoch, show_progress)


def test_an_epoch_returns_the_mean_reward_baseline_and_loss_of_its_steps_rounded(monkeypatch):
    problem = TinyProblem()
    problem.settings = dataclasses.replace(problem.settings, batch_size=4)  # two steps: 4 images, then 2
    seen = {"rewards": [], "baselines": [], "losses": []}
    scores, baselines, train = problem.reward.scores, self_critical.baseline_rewards, problem.decoder.train_on_batch

    def recorded_scores(hypotheses, images):
        out = scores(hypotheses, images)
        seen["rewards"].append(out.mean())
        return out

    def recorded_baselines(sampled, kind, greedy=None):
        out = baselines(sampled, kind, greedy)
        seen["baselines"].append(out.mean())
        return out

    def recorded_train(x, y, sample_weight=None):
        out = train(x, y, sample_weight=sample_weight)
        seen["losses"].append(float(np.asarray(out).ravel()[0]))
        return out

    monkeypatch.setattr(problem.reward, "scores", recorded_scores)
    monkeypatch.setattr(self_critical, "baseline_rewards", recorded_baselines)
    monkeypatch.setattr(problem.decoder, "train_on_batch", recorded_train)
    result = _epoch(problem)
    assert len(seen["losses"]) == 2
    assert result == {"reward": round(float(np.mean(seen["rewards"])), 4),
                      "baseline": round(float(np.mean(seen["baselines"])), 4),
                      "loss": round(float(np.mean(seen["losses"])), 6)}
    assert result["reward"] != round(result["reward"], 3) or result["loss"] != round(result["loss"], 5)


def test_an_epochs_random_numbers_are_fixed_by_the_seed_and_the_epoch():
    first, again = _epoch(TinyProblem(seed=0)), _epoch(TinyProblem(seed=0))
    assert first == again  # the order and the samples come from (seed, epoch), not from whatever ran before
    assert _epoch(TinyProblem(seed=0), epoch=2) != first


@pytest.mark.backend_independent
def test_each_dropout_layer_is_seeded_from_the_seed_the_epoch_and_its_place():
    from captioner.models.decoder import DecoderConfig, build_decoder

    decoder = build_decoder(DecoderConfig(vocab_size=12, max_length=5, feature_dim=6, units=8, embed_dim=4,
                                          dropout=0.3))
    layers = [(i, layer) for i, layer in enumerate(decoder._flatten_layers())
              if getattr(layer, "seed_generator", None) is not None]
    assert len(layers) >= 2
    dtypes = [layer.seed_generator.state.dtype for _, layer in layers]
    self_critical._seed_dropout(decoder, 5, 3)
    for (index, layer), dtype in zip(layers, dtypes):
        state = layer.seed_generator.state
        assert state.dtype == dtype
        np.testing.assert_array_equal(np.asarray(state.value), [5 * 7919 + index, 3])


def test_the_progress_line_counts_images_and_shows_the_running_reward(capsys):
    problem = TinyProblem()
    result = _epoch(problem, show_progress=False)
    assert capsys.readouterr().err == ""  # --quiet: nothing
    result = _epoch(TinyProblem(), show_progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    match = re.fullmatch(r"scst 1 \[=+\] 6/6 [\d.]+ img/s ETA \S+ reward (\d+\.\d{4})", lines[0])
    assert match and float(match.group(1)) == result["reward"], lines[0]


@pytest.mark.backend_independent  # no Keras
def test_settings_that_cannot_fine_tune_are_refused_each_with_its_reason(tmp_path):
    from captioner.base.errors import UsageError

    good = self_critical.ScstSettings()
    init, out = str(tmp_path / "init"), str(tmp_path / "out")
    self_critical.check_fine_tuning(good, init, out)  # the defaults fine-tune
    self_critical.check_fine_tuning(dataclasses.replace(good, baseline="mean", samples=2), init, out)
    self_critical.check_fine_tuning(dataclasses.replace(good, baseline="greedy", samples=1), init, out)
    cases = [(dataclasses.replace(good, baseline="median"), init, out,
              f"--baseline median: choose one of {', '.join(self_critical.BASELINES)}"),
             (dataclasses.replace(good, baseline="mean", samples=1), init, out,
              "--baseline mean needs --samples 2 or more (it is the mean of the other samples)"),
             (good, init, str(tmp_path / "x" / ".." / "init"),
              f"--out {tmp_path / 'x' / '..' / 'init'} is the --init model: write the fine-tuned one elsewhere")]
    for settings, init_dir, out_dir, reason in cases:
        with pytest.raises(UsageError) as refused:
            self_critical.check_fine_tuning(settings, init_dir, out_dir)
        assert str(refused.value) == reason
    self_critical.refuse_init_as_out(None, out)  # no --init (a resumed run reads its own): nothing to compare
