"""Probe result tables: per-basin scores gathered, medians over the ok basins with bootstrap
intervals, selectivity with its paired test, seeds."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from hydroprobe.report.tables import (
    PROBE_SUMMARY_COLUMNS,
    gather_probe_scores,
    probe_ensemble_table,
    probe_selectivity_table,
    summarise_probe_scores,
)
from hydroprobe.report.uncertainty import TOO_FEW_BASINS, bootstrap_median_intervals

BOOT = dict(draws=1000, seed=0, confidence=0.95)

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
    summary = summarise_probe_scores(scores, BOOT)
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
    summary = summarise_probe_scores(scores, BOOT).set_index("model")
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
    per_basin, medians = probe_selectivity_table(scores, BOOT)
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
    ensemble = probe_ensemble_table(summarise_probe_scores(scores, BOOT)).iloc[0]
    assert ensemble["n_seeds"] == 2
    assert (ensemble["min_median_r"], ensemble["max_median_r"]) == pytest.approx((0.6, 0.85))
    assert ensemble["mean_median_r"] == pytest.approx(0.725)


def test_summary_keeps_its_columns_and_adds_the_intervals_after_them():
    assert PROBE_SUMMARY_COLUMNS[:13] == [
        *["seed", "model", "probe", "control", "target", "features", "subset"],
        *["n_basins", "median_r", "median_r2", "median_nse", "n_no_variance", "n_no_data"],
    ]
    assert PROBE_SUMMARY_COLUMNS[13:] == ["median_r_lo", "median_r_hi", "median_nse_lo", "median_nse_hi"]


def test_summary_intervals_are_the_bootstrap_of_each_rows_ok_basins():
    rng = np.random.default_rng(3)
    status = ["ok"] * 37 + ["no_variance", "no_data", "no_prediction"]
    r = np.where(np.array(status) == "ok", rng.uniform(0.3, 0.95, 40), np.nan)
    scores = pd.concat(
        [job_scores(r, status), job_scores(rng.uniform(0, 0.6, 25), model="untrained")], ignore_index=True
    )
    summary = summarise_probe_scores(scores, BOOT).set_index("model")
    for model, group in scores.groupby("model"):
        ok = group[group["status"] == "ok"]
        row = summary.loc[model]
        for m in ("r", "nse"):
            low, high = bootstrap_median_intervals([ok[m].to_numpy()], **BOOT)
            assert (row[f"median_{m}_lo"], row[f"median_{m}_hi"]) == pytest.approx((low[0], high[0]))
            assert row[f"median_{m}_lo"] < row[f"median_{m}"] < row[f"median_{m}_hi"]
    # NSE is r - 0.5 per basin here, so its interval is r's moved by 0.5
    assert summary["median_nse_lo"].to_numpy() == pytest.approx(summary["median_r_lo"].to_numpy() - 0.5)


def test_summary_interval_is_nan_with_too_few_basins():
    row = summarise_probe_scores(job_scores([0.9, 0.8, np.nan], ["ok", "ok", "no_data"]), BOOT).iloc[0]
    assert row["median_r"] == pytest.approx(0.85)
    assert np.isnan(row["median_r_lo"]) and np.isnan(row["median_r_hi"])


def test_selectivity_gets_the_paired_test_and_the_win_count():
    rng = np.random.default_rng(4)
    trained = rng.uniform(0.6, 0.95, 30)
    mixed = trained + rng.normal(-0.05, 0.1, 30)
    scores = pd.concat(
        [
            job_scores(trained),
            job_scores(trained - rng.uniform(0.1, 0.4, 30), model="untrained"),  # trained always wins
            job_scores(trained, control="shuffle"),  # identical scores
            job_scores(mixed, control="shift"),
        ],
        ignore_index=True,
    )
    _, medians = probe_selectivity_table(scores, BOOT)
    got = medians.set_index("control")
    assert list(medians.columns[-6:]) == [
        *["median_delta_r_lo", "median_delta_r_hi", "n_trained_wins"],
        *["wilcoxon_statistic", "wilcoxon_p", "wilcoxon_note"],
    ]
    untrained = got.loc["untrained"]
    assert (untrained["n_trained_wins"], untrained["n_basins"]) == (30, 30)
    assert untrained["wilcoxon_p"] == pytest.approx(wilcoxon(trained, scores["r"][30:60]).pvalue)
    assert untrained["wilcoxon_p"] < 1e-6
    shuffle = got.loc["shuffle"]
    assert shuffle["n_trained_wins"] == 0 and np.isnan(shuffle["wilcoxon_p"])
    assert shuffle["wilcoxon_note"] == TOO_FEW_BASINS
    shift = got.loc["shift"]
    assert shift["n_trained_wins"] == int((trained > mixed).sum())
    assert shift["wilcoxon_p"] == pytest.approx(wilcoxon(trained, mixed).pvalue)
    assert shift["wilcoxon_statistic"] == pytest.approx(wilcoxon(trained, mixed).statistic)
    assert (medians["median_delta_r_lo"] <= medians["median_delta_r"]).all()
    assert (medians["median_delta_r"] <= medians["median_delta_r_hi"]).all()


def test_ensemble_adds_the_standard_deviation_across_seeds():
    scores = pd.concat(
        [job_scores([0.5, 0.7], seed=1), job_scores([0.8, 0.9], seed=2), job_scores([0.6, 0.6], seed=3)],
        ignore_index=True,
    )
    ensemble = probe_ensemble_table(summarise_probe_scores(scores, BOOT))
    assert list(ensemble.columns[-3:]) == ["std_median_r", "std_median_r2", "std_median_nse"]
    assert ensemble["mean_median_r"].iloc[-1] == pytest.approx(np.mean([0.6, 0.85, 0.6]))
    assert ensemble["std_median_r"].iloc[0] == pytest.approx(np.std([0.6, 0.85, 0.6], ddof=1))
    single = probe_ensemble_table(summarise_probe_scores(job_scores([0.5, 0.7]), BOOT))
    assert np.isnan(single["std_median_r"].iloc[0])
