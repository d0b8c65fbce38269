"""Skill scores against values computed by hand."""

import numpy as np
import pytest

from hydroprobe.metrics import DISCHARGE_METRICS, fhv, flv, fms, kge, nse, pearson_r, percent_bias

OBS = np.array([1.0, 2.0, 3.0, 4.0])
SIM = np.array([1.5, 2.0, 2.5, 5.0])


def test_nse_by_hand():
    # Σ(s-o)² = 0.25+0+0.25+1 = 1.5 ; Σ(o-2.5)² = 5  -> 1 - 0.3
    assert nse(OBS, SIM) == pytest.approx(0.7)
    assert nse(OBS, OBS) == 1.0
    assert nse(OBS, np.full(4, OBS.mean())) == pytest.approx(0.0)


def test_pearson_r_by_hand():
    # sim - mean(2.75) = [-1.25,-0.75,-0.25,2.25]; obs - 2.5 = [-1.5,-0.5,0.5,1.5]
    cov = 1.875 + 0.375 - 0.125 + 3.375
    expected = cov / np.sqrt(5.0 * (1.5625 + 0.5625 + 0.0625 + 5.0625))
    assert pearson_r(OBS, SIM) == pytest.approx(expected)


def test_kge_by_hand():
    r = pearson_r(OBS, SIM)
    alpha = SIM.std() / OBS.std()
    beta = 2.75 / 2.5
    assert kge(OBS, SIM) == pytest.approx(1 - np.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2))
    assert kge(OBS, OBS) == pytest.approx(1.0)


def test_nan_pairs_are_skipped_and_degenerate_cases_are_nan():
    obs = np.array([1.0, np.nan, 2.0, 3.0, 4.0])
    sim = np.array([1.5, 7.0, 2.0, 2.5, 5.0])
    assert nse(obs, sim) == pytest.approx(0.7)
    assert np.isnan(nse(np.ones(5), np.arange(5.0)))  # no variance
    assert np.isnan(pearson_r([1.0], [2.0]))  # too few values


def test_percent_bias_by_hand():
    # Σsim = 11, Σobs = 10 -> +10 %
    assert percent_bias(OBS, SIM) == pytest.approx(10.0)
    assert percent_bias(OBS, OBS) == 0.0


# Ten days; the flow duration curve (descending) of OBS10 is 10, 9, …, 1.
OBS10 = np.arange(1.0, 11.0)


def test_fhv_by_hand():
    # h = 0.2 -> the top 2 of 10 flows: obs 10 + 9 = 19, sim 14 + 9 = 23 -> 100·4/19.
    sim = OBS10.copy()
    sim[-1] = 14.0
    assert fhv(OBS10, sim, h=0.2) == pytest.approx(100 * 4 / 19)
    # Sorted independently: shuffling the simulated days changes nothing.
    assert fhv(OBS10, sim[::-1], h=0.2) == pytest.approx(100 * 4 / 19)
    # Default h = 0.02 of 10 values rounds to no flow at all -> NaN, not 0.
    assert np.isnan(fhv(OBS10, sim))


def test_flv_by_hand():
    # l = 0.3 -> the lowest 3 flows: obs 3, 2, 1; log distances to log 1: ln3 + ln2.
    # sim low flows 3, 2, 2 (the 1 raised to 2): ln(3/2) + 0.
    sim = OBS10.copy()
    sim[0] = 2.0
    qol = np.log(3) + np.log(2)
    qsl = np.log(1.5)
    assert flv(OBS10, sim, l=0.3) == pytest.approx(-100 * (qsl - qol) / qol)
    assert flv(OBS10, sim, l=0.3) > 0  # a too-flat low-flow segment is positive
    assert flv(OBS10, OBS10, l=0.3) == pytest.approx(0.0)
    # Zero and negative flows are floored at 1e-6 before the logarithm, not dropped.
    sim_zero = OBS10.copy()
    sim_zero[0] = -0.5
    qsl_zero = np.log(3 / 1e-6) + np.log(2 / 1e-6)
    assert flv(OBS10, sim_zero, l=0.3) == pytest.approx(-100 * (qsl_zero - qol) / qol)


def test_fms_by_hand():
    # lower 0.2 -> index 2 of the curve (obs 8), upper 0.7 -> index 7 (obs 3).
    # sim doubled: log slopes are equal -> 0; sim squared: slope doubles -> +100 %.
    assert fms(OBS10, 2 * OBS10) == pytest.approx(0.0)
    assert fms(OBS10, OBS10**2) == pytest.approx(100.0)
    obs_slope = np.log(8) - np.log(3)
    sim = OBS10.copy()
    sim[7] = 9.5  # the curve becomes 10, 9.5, 9, 7, …: index 2 -> 9, index 7 -> 3
    assert fms(OBS10, sim) == pytest.approx(100 * ((np.log(9) - np.log(3)) - obs_slope) / obs_slope)


def test_discharge_metrics_table_is_complete():
    assert set(DISCHARGE_METRICS) == {"nse", "kge", "r", "pbias", "fhv", "fms", "flv"}
    obs = np.array([1.0, np.nan, 2.0, 3.0, 4.0])
    sim = np.array([1.5, 7.0, 2.0, 2.5, 5.0])
    for name, metric in DISCHARGE_METRICS.items():
        assert metric(obs, sim) == pytest.approx(metric(OBS, SIM), nan_ok=True), name
