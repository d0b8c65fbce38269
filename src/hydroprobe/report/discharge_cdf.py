"""The discharge-skill CDF figure: per period, the empirical CDF over basins of NSE and KGE, one
line per seed and one (thicker) for the seed ensemble's mean simulation (style and saving:
hydroprobe.report.style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hydroprobe.report.style import PAGE_WIDTH_IN, SEQUENTIAL_CMAP, save_figure

METRIC_LABELS = {"nse": "NSE (–)", "kge": "KGE (–)"}
PERIOD_ORDER = ["validation", "test"]
# NSE and KGE below this are drawn at the axis' left edge (the CDF still counts them)
LOWER_LIMIT = -1.0


def _members(seeds) -> list[str]:
    """Seed numbers in numeric order, then the ensemble."""
    seeds = [str(s) for s in dict.fromkeys(seeds)]
    numbered = sorted(
        (s for s in seeds if s != "ensemble"), key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else s)
    )
    return numbered + (["ensemble"] if "ensemble" in seeds else [])


def plot_discharge_cdfs(
    scores: pd.DataFrame,
    path: str | Path,
    metrics: tuple[str, ...] = ("nse", "kge"),
    periods: dict[str, tuple[str, str]] | None = None,
    extra_paths: tuple[str, ...] = (),
) -> Path:
    """Rows: metrics; columns: periods (validation, test). Each panel: the empirical CDF over
    basins of the metric for each seed (thin lines, colours from the sequential map) and the seed
    ensemble (thick black), the median of each marked with a dot at 0.5 and written in the legend.
    `scores`: discharge_scores.csv (seed incl. `ensemble`); `periods` (name -> dates) adds the
    dates to the panel titles."""
    scores = scores.assign(seed=scores["seed"].astype(str))
    present = set(scores["period"])
    period_names = [p for p in PERIOD_ORDER if p in present] + sorted(present - set(PERIOD_ORDER))
    members = _members(scores["seed"])
    numbered = [m for m in members if m != "ensemble"]
    cmap = plt.get_cmap(SEQUENTIAL_CMAP)
    colours = {m: cmap(0.15 + 0.6 * i / max(1, len(numbered) - 1)) for i, m in enumerate(numbered)}
    colours["ensemble"] = "black"
    fig, axes = plt.subplots(
        len(metrics),
        len(period_names),
        figsize=(PAGE_WIDTH_IN, 0.6 + 2.3 * len(metrics)),
        squeeze=False,
        sharey=True,
    )
    for row, metric in enumerate(metrics):
        finite = scores[metric].replace([np.inf, -np.inf], np.nan).dropna()
        low = max(LOWER_LIMIT, float(finite.min()) - 0.02) if len(finite) else LOWER_LIMIT
        for col, period in enumerate(period_names):
            ax = axes[row][col]
            for member in members:
                values = np.sort(
                    scores.loc[(scores["seed"] == member) & (scores["period"] == period), metric]
                    .replace([np.inf, -np.inf], np.nan)
                    .dropna()
                    .to_numpy()
                )
                if values.size == 0:
                    continue
                cdf = np.arange(1, values.size + 1) / values.size
                median = float(np.median(values))
                ensemble = member == "ensemble"
                name = "ensemble" if ensemble else f"seed {member}"
                ax.step(
                    np.clip(values, low, None),
                    cdf,
                    where="post",
                    color=colours[member],
                    linewidth=2.2 if ensemble else 1.0,
                    label=f"{name}: {median:.2f}",
                    zorder=2 if ensemble else 3,  # seeds on top: one seed equals the ensemble
                )
                ax.plot(
                    [max(median, low)], [0.5], "o", color=colours[member], ms=4 if ensemble else 3, zorder=4
                )
            dates = f" ({periods[period][0]} – {periods[period][1]})" if periods and period in periods else ""
            ax.set_title(f"{metric.upper()}, {period} period{dates}", fontsize=8)
            ax.set_xlim(low, 1.0)
            ax.set_xlabel(f"per-basin {METRIC_LABELS.get(metric, metric)}", fontsize=7)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6, loc="upper left", title="median", title_fontsize=6)
        axes[row][0].set_ylabel("fraction of basins", fontsize=7)
    fig.suptitle("Discharge skill over basins: each seed and the seed ensemble", fontsize=9)
    return save_figure(fig, path, extra_paths)
