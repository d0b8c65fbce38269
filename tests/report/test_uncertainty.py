"""Uncertainty of the probe medians: bootstrap intervals over basins and the paired Wilcoxon test."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import binom, wilcoxon

from hydroprobe.config import ConfigError, validate_config
from hydroprobe.report.uncertainty import (
    MIN_BOOTSTRAP_BASINS,
    MIN_PAIRED_BASINS,
    TOO_FEW_BASINS,
    bootstrap_median_intervals,
    median_rank_draws,
    paired_wilcoxon,
)

ROOT = Path(__file__).resolve().parents[2]
BOOT = dict(draws=2000, seed=0, confidence=0.95)


def interval(values, **settings):
    low, high = bootstrap_median_intervals([np.asarray(values, dtype=float)], **{**BOOT, **settings})
    return low[0], high[0]


@pytest.mark.parametrize("n", [7, 8])
def test_rank_draws_give_the_median_of_each_resample(n):
    """Same generator state: the ranks pick exactly np.median of the resampled sorted values."""
    values = np.sort(np.random.default_rng(1).normal(size=n))
    low, high = median_rank_draws(n, 300, np.random.default_rng(5))
    picks = np.random.default_rng(5).integers(0, n, size=(300, n))
    np.testing.assert_allclose((values[low] + values[high]) / 2, np.median(values[picks], axis=1))
    assert (low == high).all() == (n % 2 == 1)


def test_rank_draws_are_exact_across_memory_chunks(monkeypatch):
    """Chunking the draws (large tables) continues the same stream of picks."""
    import hydroprobe.report.uncertainty as uncertainty

    whole = median_rank_draws(9, 40, np.random.default_rng(3))
    monkeypatch.setattr(uncertainty, "DRAW_ELEMENTS", 9 * 7)  # chunks of 7 draws
    chunked = median_rank_draws(9, 40, np.random.default_rng(3))
    np.testing.assert_array_equal(whole[0], chunked[0])
    np.testing.assert_array_equal(whole[1], chunked[1])


def test_interval_matches_the_exact_bootstrap_distribution():
    """For odd n, P(resampled median <= x_(j)) = P(Binomial(n, j/n) >= (n+1)/2): the Monte
    Carlo 5 % and 95 % points land on the order statistics the exact distribution names."""
    n = 31
    values = np.sort(np.random.default_rng(2).normal(size=n))
    cdf = binom.sf((n + 1) // 2 - 1, n, np.arange(1, n + 1) / n)
    low, high = interval(values, draws=20000, seed=1, confidence=0.9)
    assert low == pytest.approx(values[np.searchsorted(cdf, 0.05)])
    assert high == pytest.approx(values[np.searchsorted(cdf, 0.95)])


def test_interval_contains_the_median():
    rng = np.random.default_rng(4)
    groups = [rng.normal(rng.uniform(-1, 1), rng.uniform(0.05, 1), rng.integers(3, 200)) for _ in range(60)]
    low, high = bootstrap_median_intervals(groups, **BOOT)
    medians = np.array([np.median(g) for g in groups])
    assert (low <= medians).all() and (medians <= high).all()
    assert (low < high).all()


def test_interval_narrows_as_basins_increase():
    rng = np.random.default_rng(5)
    widths = [np.subtract(*interval(rng.normal(0.8, 0.1, n))[::-1]) for n in (20, 80, 320, 1280)]
    assert all(a > b for a, b in zip(widths, widths[1:])), widths
    # a median's standard error falls as 1/sqrt(n): 64 times the basins, about 1/8 the width
    assert widths[-1] / widths[0] == pytest.approx(1 / 8, rel=0.5)


def test_interval_is_reproducible_with_its_seed_and_moves_with_another():
    """At CAMELS-GB's size; with few basins the resampled medians fall on a handful of order
    statistics and another seed often picks the same ones."""
    values = np.random.default_rng(6).uniform(0, 1, 670)
    assert interval(values, seed=0) == interval(values, seed=0)
    assert interval(values, seed=0) != interval(values, seed=1)


def test_interval_depends_only_on_its_own_group():
    """Adding rows to a table does not move the interval of an existing row."""
    rng = np.random.default_rng(7)
    target, other_same_size, other_size = rng.normal(size=50), rng.normal(size=50), rng.normal(size=30)
    alone = bootstrap_median_intervals([target], **BOOT)
    together = bootstrap_median_intervals([other_size, target, other_same_size], **BOOT)
    assert (alone[0][0], alone[1][0]) == (together[0][1], together[1][1])


def test_interval_leaves_out_nan_and_is_nan_for_too_few_basins():
    values = np.random.default_rng(8).normal(size=40)
    with_gaps = np.concatenate([values, [np.nan, np.nan]])
    assert interval(with_gaps) == interval(values)
    low, high = interval([0.1] * (MIN_BOOTSTRAP_BASINS - 1) + [np.nan])
    assert np.isnan(low) and np.isnan(high)
    low, high = bootstrap_median_intervals([], **BOOT)
    assert len(low) == len(high) == 0


def test_wilcoxon_when_the_trained_probe_always_wins():
    trained = np.linspace(0.7, 0.95, 10)
    control = trained - np.linspace(0.05, 0.5, 10)  # distinct differences: the exact test
    result = paired_wilcoxon(trained - control)
    assert result["n_trained_wins"] == 10
    assert result["wilcoxon_p"] == pytest.approx(wilcoxon(trained, control).pvalue)
    assert result["wilcoxon_p"] == pytest.approx(2 / 2**10)  # only the all-positive sign pattern
    assert result["wilcoxon_statistic"] == 0
    assert result["wilcoxon_note"] == ""


def test_wilcoxon_of_identical_scores_is_nan_with_its_reason():
    result = paired_wilcoxon(np.zeros(50))
    assert np.isnan(result["wilcoxon_p"]) and np.isnan(result["wilcoxon_statistic"])
    assert result["wilcoxon_note"] == TOO_FEW_BASINS
    assert result["n_trained_wins"] == 0


def test_wilcoxon_drops_zero_differences_and_needs_enough_basins():
    rng = np.random.default_rng(9)
    d = np.round(rng.normal(0.05, 0.1, 40), 2)  # rounded: ties and zeros among the differences
    d[:5] = 0.0
    d[5] = np.nan
    result = paired_wilcoxon(d)
    finite = d[np.isfinite(d)]
    assert result["wilcoxon_p"] == pytest.approx(wilcoxon(finite[finite != 0]).pvalue)
    assert result["n_trained_wins"] == int((finite > 0).sum())
    few = np.r_[np.arange(1, MIN_PAIRED_BASINS) / 10, np.zeros(20)]
    assert np.isnan(paired_wilcoxon(few)["wilcoxon_p"])
    # one more non-zero difference, all of one sign: the exact test's smallest two-sided p
    assert paired_wilcoxon(np.r_[few, 0.9])["wilcoxon_p"] == pytest.approx(2 / 2**MIN_PAIRED_BASINS)


def test_bootstrap_config_is_checked():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert validate_config(config)["report"]["bootstrap"] == {"confidence": 0.95, "draws": 2000, "seed": 0}
    config.setdefault("report", {})["bootstrap"] = {"draws": 100}
    with pytest.raises(ConfigError, match=r"report\.bootstrap\.draws"):
        validate_config(config)


def test_probe_tables_benchmark_runs():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "probe_tables.py"), "--basins", "12", "--seeds", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "summary:       160 rows" in out, out
    assert "selectivity:   120 rows" in out, out
