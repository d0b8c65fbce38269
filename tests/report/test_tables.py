"""Probe result tables: per-basin scores gathered, medians over the ok basins, selectivity, seeds."""

import numpy as np
import pandas as pd
import pytest

from hydroprobe.report.tables import (
    PROBE_SUMMARY_COLUMNS,
    gather_probe_scores,
    probe_ensemble_table,
    probe_selectivity_table,
    summarise_probe_scores,
)

JOB = dict(
    seed=1, model="trained", probe="linear", control="none", target="sd", features="cell", subset="all"
)


def job_scores(r, status=None, **job):
    """Per-basin scores of one probe job, as the probe jobs write them (basins 1, 2, ...)."""
    r = np.asarray(r, dtype=float)
    status = ["ok"] * len(r) if status is None else status
    return pd.DataFrame(
        {
            **JOB,
            **job,
            "basin": np.arange(1, len(r) + 1),
            "status": status,
            "r": r,
            "r2": r * r,
            "nse": r - 0.5,
        }
    )


def test_summary_counts_ok_basins_and_why_others_are_left_out():
    scores = job_scores(
        [0.9, 0.7, np.nan, np.nan, np.nan], ["ok", "ok", "no_variance", "no_data", "no_prediction"]
    )
    summary = summarise_probe_scores(scores)
    assert list(summary.columns) == PROBE_SUMMARY_COLUMNS
    row = summary.iloc[0]
    assert (row["n_basins"], row["n_no_variance"], row["n_no_data"]) == (2, 1, 2)
    assert row["median_r"] == pytest.approx(0.8)
    assert row["median_nse"] == pytest.approx(0.3)


def test_summary_medians_match_per_basin_rows():
    rng = np.random.default_rng(2)
    scores = pd.concat(
        [job_scores(rng.uniform(0, 1, 5), model=model) for model in ("trained", "untrained")],
        ignore_index=True,
    )
    summary = summarise_probe_scores(scores).set_index("model")
    assert summary.loc["trained", "median_r"] == pytest.approx(np.median(scores["r"][:5]))
    assert summary.loc["untrained", "median_nse"] == pytest.approx(np.median(scores["nse"][5:]))
    assert (summary["n_basins"] == 5).all()


def test_gather_sorts_by_keys_and_basin(tmp_path):
    paths = []
    for i, model in enumerate(["untrained", "trained"]):
        path = tmp_path / f"{i}.csv"
        job_scores([0.5, 0.6], model=model).iloc[::-1].to_csv(path, index=False)
        paths.append(path)
    scores = gather_probe_scores(paths)
    assert scores["model"].tolist() == ["trained"] * 2 + ["untrained"] * 2
    assert scores["basin"].tolist() == [1, 2, 1, 2]


def test_selectivity_pairs_each_control_with_the_trained_probe_of_its_features():
    scores = pd.concat(
        [
            job_scores([0.9, 0.8, 0.7]),
            job_scores([0.9, 0.8, 0.7], features="hidden"),
            job_scores([0.1, 0.2, 0.3], model="untrained"),
            job_scores([0.0, 0.0, 0.0], control="shift"),
            job_scores(
                [0.5, 0.5, np.nan], ["ok", "ok", "no_data"], model="inputs", features="raw", control="inputs"
            ),
        ],
        ignore_index=True,
    )
    per_basin, medians = probe_selectivity_table(scores)
    got = medians.set_index(["features", "control"])
    assert set(got.index) == {
        ("cell", "untrained"),
        ("cell", "shift"),
        ("cell", "inputs"),
        ("hidden", "inputs"),  # the raw-input baseline serves every features setting
    }
    assert got.loc[("cell", "untrained"), "median_delta_r"] == pytest.approx(0.6)
    assert got.loc[("cell", "shift"), "median_delta_r"] == pytest.approx(0.8)
    assert got.loc[("cell", "inputs"), "n_basins"] == 2  # only basins ok on both sides
    assert got.loc[("hidden", "inputs"), "median_delta_r"] == pytest.approx(np.median([0.4, 0.3]))
    assert ((per_basin["delta_r"] - (per_basin["r_trained"] - per_basin["r_control"])).abs() < 1e-12).all()


def test_ensemble_spreads_the_medians_over_seeds():
    scores = pd.concat([job_scores([0.5, 0.7], seed=1), job_scores([0.8, 0.9], seed=2)], ignore_index=True)
    ensemble = probe_ensemble_table(summarise_probe_scores(scores)).iloc[0]
    assert ensemble["n_seeds"] == 2
    assert (ensemble["min_median_r"], ensemble["max_median_r"]) == pytest.approx((0.6, 0.85))
    assert ensemble["mean_median_r"] == pytest.approx(0.725)
