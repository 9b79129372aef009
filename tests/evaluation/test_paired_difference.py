"""The paired standard error and the paired bootstrap that every "± s.e." in the docs comes from."""

import math

import numpy as np
import pytest

from captioner.evaluation.paired_difference import paired_bootstrap, paired_mean_difference

pytestmark = pytest.mark.backend_independent  # numpy only


def test_paired_standard_error_on_a_hand_worked_example():
    # differences 1 0 2 0: mean 0.75, sd (n - 1) sqrt(2.75 / 3) = 0.957427, over sqrt(4): 0.478714
    result = paired_mean_difference([1, 2, 3, 4], [2, 2, 5, 4])
    assert (result.base, result.other, result.items) == (2.5, 3.25, 4)
    assert result.difference == pytest.approx(0.75)
    assert result.standard_error == pytest.approx(math.sqrt(2.75 / 3) / 2, abs=1e-12)
    assert result.relative == pytest.approx(0.3) and result.relative_standard_error == pytest.approx(0.191485, abs=1e-6)
    assert result.percent() == "+30.0% ± 19.1%" and result.absolute(2) == "+0.75 ± 0.48"
    assert paired_mean_difference([2, 2, 5, 4], [1, 2, 3, 4]).difference == pytest.approx(-0.75)  # order matters


def test_pairing_removes_what_the_items_share():
    rng = np.random.default_rng(0)
    hardness = rng.normal(0, 1.0, 500)  # per-item difficulty both systems feel
    base = 2.0 + hardness + rng.normal(0, 0.1, 500)
    other = 2.1 + hardness + rng.normal(0, 0.1, 500)
    paired = paired_mean_difference(base, other).standard_error
    unpaired = math.sqrt(base.var(ddof=1) / 500 + other.var(ddof=1) / 500)
    assert paired < unpaired / 5  # ~0.0063 against ~0.064
    assert paired == pytest.approx(0.1 * math.sqrt(2) / math.sqrt(500), rel=0.15)


def test_paired_mean_difference_refuses_unpaired_or_too_few_scores():
    with pytest.raises(ValueError, match="one score per item"):
        paired_mean_difference([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least two items"):
        paired_mean_difference([1], [2])


def test_the_bootstrap_of_a_mean_agrees_with_the_paired_standard_error():
    rng = np.random.default_rng(1)
    base = rng.normal(1.0, 1.0, 400)
    other = base + rng.normal(0.05, 0.3, 400)
    analytic = paired_mean_difference(base, other)
    boot = paired_bootstrap(lambda idx: base[idx].mean(), lambda idx: other[idx].mean(), 400, resamples=2000, seed=0)
    assert boot.base == pytest.approx(analytic.base) and boot.other == pytest.approx(analytic.other)
    assert boot.standard_error == pytest.approx(analytic.standard_error, rel=0.1)


def test_the_bootstrap_scores_both_systems_on_the_same_draw():
    """A system that is the other plus a constant on every item differs by that constant on any draw: a paired
    bootstrap gives a standard error of 0; drawing each system's items separately would not."""
    base = np.random.default_rng(2).normal(0, 1, 300)
    boot = paired_bootstrap(lambda idx: base[idx].mean(), lambda idx: base[idx].mean() + 0.1, 300, resamples=50)
    assert boot.difference == pytest.approx(0.1) and boot.standard_error < 1e-12


def test_the_bootstrap_of_corpus_bleu_is_seeded_and_finite():
    from nltk.translate.bleu_score import corpus_bleu

    refs = [[["a", "dog", "runs", "on", "grass"]], [["two", "cats", "sit", "on", "a", "mat"]],
            [["a", "man", "rides", "a", "bike"]], [["a", "red", "ball", "on", "the", "floor"]]] * 10
    base = [r[0][:-1] for r in refs]  # each reference less its last word
    other = [r[0] for r in refs]  # each reference itself

    def bleu(hyps):
        return lambda idx: corpus_bleu([refs[i] for i in idx], [hyps[i] for i in idx])

    first = paired_bootstrap(bleu(base), bleu(other), len(refs), resamples=30, seed=3)
    again = paired_bootstrap(bleu(base), bleu(other), len(refs), resamples=30, seed=3)
    assert first == again and first.other == pytest.approx(1.0) and 0 < first.difference < 1
    assert 0 < first.standard_error < first.difference


def test_per_item_right_or_wrong_compares_as_shares():
    """Booleans (a caption names the right colour or not) compare as 0/1 shares; numpy cannot subtract booleans."""
    result = paired_mean_difference(np.array([True, False, False, True]), np.array([True, True, False, True]))
    assert (result.base, result.other, result.difference) == (0.5, 0.75, 0.25)


def test_refusals_name_what_is_missing_and_two_is_enough():
    with pytest.raises(ValueError, match="^a standard error needs at least two items$"):
        paired_mean_difference([1.0], [2.0])
    assert paired_mean_difference([1.0, 2.0], [2.0, 4.0]).standard_error == pytest.approx(0.5)
    mean = lambda idx: float(len(idx))  # noqa: E731
    for items, resamples in ((1, 10), (10, 1)):
        with pytest.raises(ValueError, match="^the paired bootstrap needs at least two items and two resamples$"):
            paired_bootstrap(mean, mean, items, resamples=resamples)
    assert paired_bootstrap(mean, mean, 2, resamples=2).items == 2


def test_the_bootstrap_draws_every_item_with_replacement_and_reports_the_sd_of_its_differences():
    rng = np.random.default_rng(4)
    base, other = rng.normal(0, 1, 50), rng.normal(0.2, 1, 50)
    seen, diffs = set(), []

    def recording_other(idx):
        if len(diffs) < 100:  # the resamples; the last call scores every item once
            seen.update(idx.tolist())
        diffs.append(other[idx].mean() - base[idx].mean())
        return other[idx].mean()

    result = paired_bootstrap(lambda idx: base[idx].mean(), recording_other, 50, resamples=100, seed=5)
    assert seen == set(range(50)) and result.items == 50  # the resamples draw item 0 and the last item too
    resampled = diffs[:100]  # the last call scores all the items once
    assert result.standard_error == pytest.approx(np.std(resampled, ddof=1), abs=1e-12)
    default = paired_bootstrap(lambda idx: base[idx].mean(), lambda idx: other[idx].mean(), 50)
    explicit = paired_bootstrap(lambda idx: base[idx].mean(), lambda idx: other[idx].mean(), 50, resamples=200, seed=0)
    assert default == explicit  # 200 resamples, seed 0: what the docs' tables were made with
    assert result.absolute() == f"{result.difference:+.4f} ± {result.standard_error:.4f}"
