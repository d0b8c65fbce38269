"""The joint-gain table: the joint probe (state + inputs_all lags) minus the inputs_all baseline,
trained and untrained, from probe_scores.csv rows."""

import numpy as np
import pandas as pd

from hydroprobe.probes.job import PROBE_SCORE_COLUMNS
from hydroprobe.report.tables import JOINT_GAIN_COLUMNS, probe_joint_gain_table


def rows(model, features, control, r, status=None, target="swvl1", subset="all"):
    """Score rows of one probe job for basins 1, 2, 3, … with per-basin `r`."""
    status = status or ["ok"] * len(r)
    r = np.asarray(r, dtype=float)
    frame = pd.DataFrame(
        {
            "seed": 1,
            "model": model,
            "probe": "linear",
            "control": control,
            "target": target,
            "features": features,
            "subset": subset,
            "basin": np.arange(1, len(r) + 1),
            "status": status,
            "r": np.where(np.array(status) == "ok", r, np.nan),
            "nse": 0.5,
        }
    )
    frame["r2"] = frame["r"] ** 2
    return frame[PROBE_SCORE_COLUMNS]


def test_gain_over_the_inputs_per_model_as_median_of_differences_and_difference_of_medians():
    scores = pd.concat(
        [
            rows("inputs", "raw", "inputs_all", [0.5, 0.6, 0.9, 0.4]),
            rows(
                "trained", "cell+inputs_all", "none", [0.9, 0.62, 0.91, 0.8], status=["ok"] * 3 + ["no_data"]
            ),
            rows("untrained", "cell+inputs_all", "none", [0.5, 0.6, 0.92, 0.4]),
            rows("trained", "cell", "none", [0.95, 0.95, 0.95, 0.95]),  # not a joint probe: no row
        ],
        ignore_index=True,
    )
    table = probe_joint_gain_table(scores)
    assert list(table.columns) == JOINT_GAIN_COLUMNS
    assert list(table["model"]) == ["trained", "untrained"]
    assert set(table["features"]) == {"cell+inputs_all"}
    trained, untrained = table.iloc[0], table.iloc[1]
    # trained: basin 4 is not ok, so basins 1-3: differences 0.4, 0.02, 0.01
    assert trained["n_basins"] == 3 and trained["n_joint_better"] == 3
    np.testing.assert_allclose(trained["median_delta_r"], 0.02)
    np.testing.assert_allclose(trained["median_r_joint"], 0.9)
    np.testing.assert_allclose(trained["median_r_inputs"], 0.6)
    np.testing.assert_allclose(trained["delta_median_r"], 0.3)  # differs from the median of differences
    np.testing.assert_allclose(
        trained["median_delta_r2"], np.median([0.81 - 0.25, 0.62**2 - 0.36, 0.91**2 - 0.81])
    )
    np.testing.assert_allclose(trained["delta_median_r2"], 0.81 - 0.36)
    # untrained: nothing gained but basin 3
    assert untrained["n_basins"] == 4 and untrained["n_joint_better"] == 1
    np.testing.assert_allclose(untrained["median_delta_r"], 0.0)
    np.testing.assert_allclose(untrained["delta_median_r"], 0.0)


def test_pairs_match_target_and_subset_and_no_joint_probe_gives_an_empty_table():
    scores = pd.concat(
        [
            rows("inputs", "raw", "inputs_all", [0.5, 0.6], target="sd"),
            rows("inputs", "raw", "inputs_all", [0.1], target="sd", subset="snow"),
            rows("trained", "cell+inputs_all", "none", [0.7, 0.9], target="sd"),
            rows("trained", "cell+inputs_all", "none", [0.4], target="sd", subset="snow"),
            rows("trained", "cell+inputs_all", "none", [0.7, 0.9], target="swvl1"),  # no baseline: left out
        ],
        ignore_index=True,
    )
    table = probe_joint_gain_table(scores)
    assert list(zip(table["target"], table["subset"])) == [("sd", "all"), ("sd", "snow")]
    np.testing.assert_allclose(table["median_delta_r"], [0.25, 0.3])
    empty = probe_joint_gain_table(scores[scores["features"] != "cell+inputs_all"])
    assert empty.empty and list(empty.columns) == JOINT_GAIN_COLUMNS
