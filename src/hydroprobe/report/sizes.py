"""Does size matter: the probe_by_size table from the per-(size, seed, model) rows, and its figure,
the discharge median NSE and the probe's median r per store against the hidden size (log axis),
trained and untrained, each seed a point and the median over seeds a line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hydroprobe.probes.sizes import SIZE_COLUMNS, SWEPT_MODELS
from hydroprobe.report.epochs import stacked_rows
from hydroprobe.report.style import MODEL_STYLES, PAGE_WIDTH_IN, TARGET_LABELS, save_figure, target_order

DISCHARGE_PANEL = "discharge"
# an untrained LSTM's discharge NSE can lie far below 0: drawn at this floor (as a triangle
# pointing down) so that it does not flatten the trained models' differences
NSE_FLOOR = -1.0
PANEL_COLUMNS = 3


def probe_by_size_table(frames: Iterable[pd.DataFrame], sources: Iterable[str] = ()) -> pd.DataFrame:
    """The rows of every (size, seed, model) job in one table, sorted by model (trained first),
    hidden size, seed and target (the paper's order); a frame without the `SIZE_COLUMNS` is an
    error naming its source."""
    return stacked_rows(
        frames, sources, SIZE_COLUMNS, ["model", "hidden_size", "seed", "target"], "probe-by-size"
    )


def _draw(ax, rows: pd.DataFrame, column: str, model: str, floor: float | None = None) -> None:
    """One model's `column` against the hidden size: each seed a point, the median over seeds a
    line; values below `floor` drawn at it as downward triangles."""
    style = MODEL_STYLES[model]
    values = rows[column] if floor is None else rows[column].clip(lower=floor)
    below = rows[column] < floor if floor is not None else pd.Series(False, index=rows.index)
    ax.scatter(rows.loc[~below, "hidden_size"], values[~below], s=9, color=style["color"], alpha=0.6, lw=0)
    ax.scatter(rows.loc[below, "hidden_size"], values[below], s=14, color=style["color"], marker="v", lw=0)
    median = values.groupby(rows["hidden_size"]).median()
    ax.plot(median.index, median.to_numpy(), color=style["color"], linestyle=style.get("linestyle", "-"))


def plot_probe_by_size(table: pd.DataFrame, path: str | Path, extra_paths: Iterable[str | Path] = ()) -> Path:
    """One panel for the discharge median NSE on the validation period and one per store for the
    linear probe's median r on the test period, against the hidden size on a log axis; trained
    (blue) and untrained (grey, dashed), each seed a point, the median over seeds a line."""
    targets = target_order(table["target"])
    panels = [DISCHARGE_PANEL, *targets]
    rows_of_panels = math.ceil(len(panels) / PANEL_COLUMNS)
    fig, axes = plt.subplots(
        rows_of_panels,
        PANEL_COLUMNS,
        figsize=(PAGE_WIDTH_IN, 2.3 * rows_of_panels),
        squeeze=False,
    )
    sizes = sorted(table["hidden_size"].unique())
    for ax, panel in zip(axes.flat, panels):
        for model in SWEPT_MODELS:
            rows = table[table["model"] == model]
            if panel == DISCHARGE_PANEL:
                # the discharge score is the same on every target's row
                _draw(
                    ax,
                    rows.drop_duplicates(["hidden_size", "seed"]),
                    "discharge_median_nse",
                    model,
                    NSE_FLOOR,
                )
            else:
                _draw(ax, rows[rows["target"] == panel], "median_r", model)
        if panel == DISCHARGE_PANEL:
            ax.set_title("discharge", fontsize="small")
            ax.set_ylabel("median NSE (validation)", fontsize="small")
            ax.set_ylim(NSE_FLOOR - 0.05, 1.0)
        else:
            ax.set_title(TARGET_LABELS.get(panel, panel), fontsize="small")
            ax.set_ylabel("probe median r (test)", fontsize="small")
            ax.set_ylim(min(0.0, float(table["median_r"].min()) - 0.05), 1.0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(size) for size in sizes], fontsize="x-small")
        ax.minorticks_off()
        ax.tick_params(axis="y", labelsize="x-small")
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    for ax in axes.flat[: len(panels)][-PANEL_COLUMNS:]:  # the lowest panel of each column
        ax.set_xlabel("hidden size", fontsize="small")
    handles = [
        plt.Line2D([], [], marker="o", markersize=3, **MODEL_STYLES[model], label=model)
        for model in SWEPT_MODELS
    ]
    axes.flat[0].legend(handles=handles, fontsize="x-small", loc="lower right", frameon=False)
    fig.suptitle("Does size matter? (points: seeds; lines: median over seeds)", fontsize="medium")
    return save_figure(fig, path, extra_paths)
