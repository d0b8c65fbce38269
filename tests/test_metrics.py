"""Skill scores against values computed by hand."""
import numpy as np
import pytest

from hydroprobe.metrics import kge, nse, pearson_r

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
