"""Probe comparison figures on small hand-made tables: each writes a PNG, and draws what the table
holds (one box per comparison present, the Δr < 0 counts of the table, one point per seed, the
snow subset beside all basins)."""

import numpy as np
import pandas as pd
import pytest

from hydroprobe.report import probe_comparisons as pc

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TARGETS = ["swvl1", "sd"]


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 5_000


def scores_table(seeds=(1,), controls=("shuffle", "shift"), inputs=(), n_basins=6, snow=3):
    """probe_scores.csv rows: trained/untrained (no control), trained with `controls`, the input
    baselines `inputs`; for sd also the snow subset (the first `snow` basins)."""
    rng = np.random.default_rng(1)
    jobs = [("trained", "none", "cell"), ("untrained", "none", "cell")]
    jobs += [("trained", c, "cell") for c in controls] + [("inputs", c, "raw") for c in inputs]
    rows = []
    for seed in seeds:
        for model, control, features in jobs:
            for target in TARGETS:
                subsets = [("all", n_basins)] + ([("snow", snow)] if target == "sd" and snow else [])
                for subset, n in subsets:
                    for basin in range(1, n + 1):
                        r = float(rng.uniform(0.2, 0.95))
                        rows.append(
                            dict(
                                seed=seed,
                                model=model,
                                probe="linear",
                                control=control,
                                target=target,
                                features=features,
                                subset=subset,
                                basin=basin,
                                status="ok",
                                r=r,
                                r2=r * r,
                                nse=r - 0.1,
                            )
                        )
    # a basin whose target is constant: no score, and never drawn
    rows.append({**rows[0], "basin": 99, "status": "no_variance", "r": np.nan, "r2": np.nan, "nse": np.nan})
    return pd.DataFrame(rows)


def selectivity_table(deltas):
    """probe_selectivity_basins.csv rows from {(target, control): [Δr per basin]}."""
    rows = []
    for (target, control), values in deltas.items():
        for basin, d in enumerate(values, start=1):
            rows.append(
                dict(
                    seed=1,
                    features="cell",
                    probe="linear",
                    target=target,
                    subset="all",
                    control=control,
                    basin=basin,
                    r_trained=0.8,
                    r_control=0.8 - d,
                    nse_trained=0.5,
                    nse_control=0.5 - d,
                    delta_r=d,
                    delta_nse=d,
                )
            )
    return pd.DataFrame(rows)


def test_comparison_rows_names_every_control():
    scores = scores_table(controls=("shuffle",), inputs=("inputs", "inputs_all"))
    rows = pc.comparison_rows(scores, "linear", "cell")
    assert set(rows["comparison"]) == {"trained", "untrained", "shuffle", "inputs", "inputs_all"}
    # the raw-input rows come in although their features are `raw`
    assert (rows.loc[rows["comparison"] == "inputs", "features"] == "raw").all()
    assert len(rows) == len(scores)


@pytest.mark.parametrize("inputs", [(), ("inputs", "inputs_all")])
def test_control_r_draws_one_box_per_comparison(tmp_path, keep_figure, inputs):
    rows = pc.comparison_rows(scores_table(inputs=inputs), "linear", "cell")
    rows = rows[rows["subset"] == "all"]
    path = pc.plot_control_r(rows, tmp_path / "controls_r.png")
    assert_png(path)
    fig = keep_figure[-1]
    expected = ["trained", "untrained", "shuffle", "shift", *inputs]
    for ax in fig.axes[: len(TARGETS)]:
        assert len(ax.patches) == len(expected)  # one box per comparison
        # a median written per box
        assert len(ax.texts) == len(expected)
    # the panels share the comparison axis: its labels on the first
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        pc.COMPARISON_LABELS[c] for c in expected
    ]
    ok = rows[(rows["status"] == "ok") & (rows["target"] == "swvl1") & (rows["comparison"] == "trained")]
    assert f"{ok['r'].median():.2f}" in [t.get_text() for t in fig.axes[0].texts]


def test_control_delta_r_writes_the_negative_counts_of_the_table(tmp_path, keep_figure):
    deltas = {
        ("swvl1", "untrained"): [0.1, 0.2, -0.05, 0.3],
        ("swvl1", "inputs_all"): [-0.1, -0.2, -0.05, 0.01],
        ("sd", "untrained"): [0.4, 0.5, 0.3, 0.2],
        ("sd", "inputs_all"): [0.1, -0.02, 0.0, 0.2],
    }
    table = selectivity_table(deltas)
    assert_png(pc.plot_control_delta_r(table, tmp_path / "delta_r.png"))
    fig = keep_figure[-1]
    for ax, target in zip(fig.axes, TARGETS):  # panels in the paper's order: swvl1, sd
        labels = [t.get_text() for t in ax.get_yticklabels()]
        for control in ("untrained", "inputs_all"):
            values = np.asarray(deltas[(target, control)])
            count = int((values < 0).sum())  # Δr = 0 is not below 0
            assert f"{pc.COMPARISON_LABELS[control]}\nΔr<0: {count}/{values.size}" in labels
    # symmetric around 0, with the zero line
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        assert lo == pytest.approx(-hi)
        assert any(np.allclose(line.get_xdata(), 0.0) for line in ax.lines)


def test_seed_medians_one_point_per_seed_and_model(tmp_path, keep_figure):
    scores = scores_table(seeds=(1, 2, 3))
    lstm = scores[(scores["control"] == "none") & (scores["subset"] == "all")]
    assert_png(pc.plot_seed_medians(lstm, tmp_path / "seeds.png"))
    medians = pc.seed_medians(lstm)
    assert len(medians) == 3 * 2 * len(TARGETS)
    ax = keep_figure[-1].axes[0]
    points = [
        line for line in ax.lines if line.get_marker() not in ("None", None, "") and len(line.get_xdata())
    ]
    assert len(points) == len(medians)
    drawn = sorted(float(line.get_ydata()[0]) for line in points)
    assert drawn == pytest.approx(sorted(medians["median_r"]))


def test_seed_medians_draws_with_one_seed(tmp_path):
    scores = scores_table(seeds=(1,))
    assert_png(pc.plot_seed_medians(scores[scores["control"] == "none"], tmp_path / "one_seed.png"))


@pytest.mark.parametrize("snow", [3, 0])
def test_snow_subset_beside_all_basins(tmp_path, keep_figure, snow):
    scores = scores_table(snow=snow)
    lstm = scores[scores["control"] == "none"]
    assert_png(pc.plot_snow_subset(lstm, tmp_path / "snow.png", snow_threshold=0.05))
    ax = keep_figure[-1].axes[0]
    written = [t.get_text() for t in ax.texts]
    groups = 4 if snow else 2  # (all, snow) x (trained, untrained)
    assert len(ax.patches) == groups
    assert sum("n = 6" in t for t in written) == 2
    assert sum(f"n = {snow}" in t for t in written) == (2 if snow else 0)
    if not snow:
        assert "no snow subset in the table" in written
