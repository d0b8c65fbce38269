"""When do the concepts form: the probe_by_epoch table from the per-(seed, epoch) rows, and its
figure, the probe's median r per store and the discharge median NSE against the training epoch."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hydroprobe.errors import InputDataError
from hydroprobe.probes.epochs import EPOCH_COLUMNS
from hydroprobe.report.style import PAGE_WIDTH_IN, TARGET_LABELS, save_figure, target_order

DISCHARGE_STYLE = dict(color="black", linestyle=":", marker="s")
# one line style per seed (the colours stand for the stores)
SEED_LINESTYLES = ["-", "--", "-.", (0, (1, 1)), (0, (5, 1))]


def stacked_rows(
    frames: Iterable[pd.DataFrame],
    sources: Iterable[str],
    columns: list[str],
    order_by: list[str],
    kind: str,
) -> pd.DataFrame:
    """The per-job row files of one table (`columns`) stacked, sorted by `order_by` with the
    targets in the paper's order; a frame without the columns is an error naming its source and
    the `kind` of row it should hold."""
    frames, sources = list(frames), list(sources)
    for i, frame in enumerate(frames):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            name = sources[i] if i < len(sources) else f"table {i}"
            raise InputDataError(f"{name}: lacks the column(s) {', '.join(missing)} of a {kind} row")
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat([f[columns] for f in frames], ignore_index=True)
    order = {t: i for i, t in enumerate(target_order(table["target"]))}
    table = table.sort_values(order_by, key=lambda c: c.map(order) if c.name == "target" else c)
    return table.reset_index(drop=True)


def probe_by_epoch_table(frames: Iterable[pd.DataFrame], sources: Iterable[str] = ()) -> pd.DataFrame:
    """The rows of every (seed, epoch) job in one table, sorted by seed, epoch and target (the
    paper's order); a frame without the `EPOCH_COLUMNS` is an error naming its source."""
    return stacked_rows(frames, sources, EPOCH_COLUMNS, ["seed", "epoch", "target"], "probe-by-epoch")


def plot_probe_by_epoch(
    table: pd.DataFrame, path: str | Path, extra_paths: Iterable[str | Path] = ()
) -> Path:
    """Median r of the linear probe per store (one colour, left axis) and the discharge median NSE
    on the validation period (black, dotted, squares, right axis: an untrained model's NSE can lie
    far below 0) against the epoch (0 = untrained), one line style per seed."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 3.2))
    nse_ax = ax.twinx()
    seeds = sorted(table["seed"].unique())
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for s, seed in enumerate(seeds):
        rows = table[table["seed"] == seed].sort_values("epoch")
        style = SEED_LINESTYLES[s % len(SEED_LINESTYLES)]
        first = s == 0  # the colours are labelled once; the seeds by their line style below
        for t, target in enumerate(target_order(table["target"])):
            line = rows[rows["target"] == target]
            ax.plot(
                line["epoch"],
                line["median_r"],
                color=colours[t % len(colours)],
                linestyle=style,
                marker="o",
                markersize=3,
                label=TARGET_LABELS.get(target, target) if first else None,
            )
        discharge = rows.drop_duplicates("epoch")
        nse_ax.plot(
            discharge["epoch"],
            discharge["discharge_median_nse"],
            **dict(DISCHARGE_STYLE, linestyle=style if len(seeds) > 1 else DISCHARGE_STYLE["linestyle"]),
            markersize=3,
            label="discharge NSE (validation)" if first else None,
        )
        if len(seeds) > 1:
            ax.plot([], [], color="grey", linestyle=style, label=f"seed {seed}")
    ax.set_xticks(sorted(table["epoch"].unique()))
    ax.set_xlabel("epoch (0 = untrained)")
    ax.set_ylabel("probe median r (test)")
    ax.set_ylim(min(0.0, float(table["median_r"].min()) - 0.05), 1.0)
    nse_ax.set_ylabel("discharge median NSE (validation)")
    nse_ax.set_ylim(top=1.0)
    handles, labels = ax.get_legend_handles_labels()
    nse_handles, nse_labels = nse_ax.get_legend_handles_labels()
    ax.legend(
        handles + nse_handles,
        labels + nse_labels,
        fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.2, 1.0),
        frameon=False,
    )
    ax.set_title("When do the stores form?", fontsize="medium")
    return save_figure(fig, path, extra_paths)
