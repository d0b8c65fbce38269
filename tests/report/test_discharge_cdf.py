"""The discharge CDF figure on a small hand-made discharge_scores table: a PNG with one line per
seed and the ensemble in each panel, the ensemble thicker, the medians of the table written."""

import numpy as np
import pandas as pd
import pytest

from hydroprobe.report.discharge_cdf import plot_discharge_cdfs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def discharge_table(seeds=("1", "2"), n_basins=8):
    rng = np.random.default_rng(3)
    rows = [
        dict(seed=seed, period=period, basin=basin, nse=rng.uniform(0.3, 0.95), kge=rng.uniform(0.2, 0.9))
        for seed in (*seeds, "ensemble")
        for period in ("validation", "test")
        for basin in range(n_basins)
    ]
    table = pd.DataFrame(rows)
    table.loc[0, "nse"] = -25.0  # a poor basin: drawn at the axis' left edge, still counted
    table.loc[1, "kge"] = np.nan  # too few days: skipped
    return table


@pytest.mark.parametrize("seeds", [("1", "2"), ("1",)])
def test_discharge_cdfs_one_line_per_member(tmp_path, keep_figure, seeds):
    table = discharge_table(seeds)
    path = plot_discharge_cdfs(
        table, tmp_path / "cdf.png", periods={"validation": ("1985-10-01", "1988-09-30")}
    )
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5_000
    fig = keep_figure[-1]
    axes = fig.axes
    assert len(axes) == 4  # (nse, kge) x (validation, test)
    assert "1985-10-01" in axes[0].get_title() and "validation" in axes[0].get_title()
    assert "test" in axes[1].get_title()
    for ax, (metric, period) in zip(axes, [(m, p) for m in ("nse", "kge") for p in ("validation", "test")]):
        steps = [line for line in ax.lines if ": " in line.get_label()]
        assert len(steps) == len(seeds) + 1
        widths = {line.get_label().split(":")[0]: line.get_linewidth() for line in steps}
        assert widths["ensemble"] > max(w for name, w in widths.items() if name != "ensemble")
        for member in (*seeds, "ensemble"):
            values = table.loc[(table["seed"] == member) & (table["period"] == period), metric].dropna()
            name = "ensemble" if member == "ensemble" else f"seed {member}"
            assert f"{name}: {values.median():.2f}" in [line.get_label() for line in steps]
        assert ax.get_xlim()[0] >= -1.0


def test_discharge_cdfs_numeric_seed_column(tmp_path):
    table = discharge_table(("1",))
    numeric = table[table["seed"] != "ensemble"].assign(seed=1)
    path = plot_discharge_cdfs(numeric, tmp_path / "cdf.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
