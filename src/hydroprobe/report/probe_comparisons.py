"""Probe comparison figures from the probe tables: the per-basin r of the trained LSTM beside each
control, the per-basin Δr (trained − control), the seed spread of the median r, and the snow
subset's sd r (style and saving: hydroprobe.report.style).

The functions take the tables as the report writes them (probe_scores.csv,
probe_selectivity_basins.csv; docs/contracts.md §6) already restricted to one probe kind and one
feature set; `comparison_rows` does that selection.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from hydroprobe.report.style import (
    CONTROL_COLOURS,
    DIVERGING_CMAP,
    MODEL_STYLES,
    PAGE_WIDTH_IN,
    TARGET_LABELS,
    save_figure,
    target_order,
)

# the comparisons in the order drawn: the trained LSTM first, then each control
COMPARISON_ORDER = ["trained", "untrained", "shuffle", "shift", "inputs", "inputs_all"]
COMPARISON_LABELS = {
    "trained": "trained",
    "untrained": "untrained",
    "shuffle": "shuffle",
    "shift": "shift",
    "inputs": "inputs (P)",
    "inputs_all": "inputs (all)",
}


# horizontal boxes: `orientation` from Matplotlib 3.10 on, `vert` before
_HORIZONTAL = (
    dict(orientation="horizontal")
    if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    else dict(vert=False)
)


def comparison_rows(scores: pd.DataFrame, probe: str, features: str) -> pd.DataFrame:
    """The rows of probe_scores.csv that the control figure compares, with a `comparison` column:
    `trained`/`untrained` (the LSTM's `features` states, no control), `shuffle`/`shift` (trained
    states, that control) and `inputs`/`inputs_all` (the raw-input baselines); all of probe kind
    `probe`."""
    rows = scores[scores["probe"] == probe]
    lstm = rows[rows["features"] == features]
    raw = rows[rows["model"] == "inputs"]
    parts = [
        lstm[(lstm["control"] == "none")].assign(comparison=lambda f: f["model"]),
        lstm[(lstm["model"] == "trained") & (lstm["control"] != "none")].assign(
            comparison=lambda f: f["control"]
        ),
        raw.assign(comparison=lambda f: f["control"]),
    ]
    return pd.concat(parts, ignore_index=True)


def _ordered(values) -> list[str]:
    present = list(dict.fromkeys(values))
    return [c for c in COMPARISON_ORDER if c in present] + [c for c in present if c not in COMPARISON_ORDER]


def _grid(n_panels: int, row_height: float, ncols: int = 3, sharey: bool = True):
    ncols = min(ncols, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(PAGE_WIDTH_IN, 0.9 + row_height * nrows), squeeze=False, sharey=sharey
    )
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _box_strip(ax, values: list[np.ndarray], colours: list, point_colours=None, norm=None, cmap=None):
    """Horizontal boxes at y = 0, 1, ... with every value as a jittered point (median line black)."""
    positions = np.arange(len(values))
    nonempty = [i for i, v in enumerate(values) if v.size]
    if nonempty:
        boxes = ax.boxplot(
            [values[i] for i in nonempty],
            positions=positions[nonempty],
            **_HORIZONTAL,
            widths=0.5,
            patch_artist=True,
            showfliers=False,
            medianprops=dict(color="black", linewidth=1.4),
            whiskerprops=dict(linewidth=0.8),
            capprops=dict(linewidth=0.8),
        )
        for patch, i in zip(boxes["boxes"], nonempty):
            patch.set_facecolor(colours[i])
            patch.set_alpha(0.35)
            patch.set_edgecolor("0.3")
    rng = np.random.default_rng(0)
    for i in nonempty:
        v = values[i]
        y = i + rng.uniform(-0.15, 0.15, v.size)
        if point_colours is None:
            ax.scatter(v, y, s=7, color=colours[i], edgecolor="none", alpha=0.9, zorder=3)
        else:
            ax.scatter(v, y, s=8, c=v, cmap=cmap, norm=norm, edgecolor="0.3", linewidth=0.3, zorder=3)


def negative_count(delta_r: np.ndarray) -> int:
    """Basins (rows) where the control reads the store better than the trained LSTM: Δr < 0."""
    return int((np.asarray(delta_r) < 0).sum())


def _write_medians(ax, values: list[np.ndarray], fmt: str) -> None:
    """Each box's median written just above it, centred on the median."""
    for i, v in enumerate(values):
        if v.size:
            median = float(np.median(v))
            ax.text(median, i - 0.3, fmt.format(median), fontsize=6.5, va="bottom", ha="center", color="0.1")


def plot_control_r(
    rows: pd.DataFrame, path: str | Path, title: str = "", extra_paths: tuple[str, ...] = ()
) -> Path:
    """Per target (panels), the per-basin test-period r of the trained LSTM and of every control
    present in `rows` (a `comparison_rows` table), as horizontal boxes with every basin a point
    and the median written above each box. Rows of several seeds are pooled (one point per basin
    and seed)."""
    ok = rows[rows["status"] == "ok"]
    targets = target_order(rows["target"])
    comparisons = _ordered(rows["comparison"])
    fig, axes = _grid(len(targets), row_height=0.32 * len(comparisons) + 0.6)
    low = min(-0.1, float(np.nanmin(ok["r"])) - 0.05) if len(ok) else -0.1
    for ax, target in zip(axes, targets):
        here = ok[ok["target"] == target]
        values = [here.loc[here["comparison"] == c, "r"].dropna().to_numpy() for c in comparisons]
        colours = [CONTROL_COLOURS.get(c, "0.5") for c in comparisons]
        _box_strip(ax, values, colours)
        _write_medians(ax, values, "{:.2f}")
        ax.axvline(0.0, color="0.6", linewidth=0.6, zorder=0)
        ax.set_xlim(low, 1.0)
        ax.set_ylim(len(comparisons) - 0.5, -0.75)
        ax.set_yticks(range(len(comparisons)), [COMPARISON_LABELS.get(c, c) for c in comparisons], fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(TARGET_LABELS.get(target, target), fontsize=8)
        ax.set_xlabel("per-basin r (–), test period", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(title or "Probe r of the trained LSTM and the controls (median written)", fontsize=9)
    return save_figure(fig, path, extra_paths)


def plot_control_delta_r(
    selectivity: pd.DataFrame, path: str | Path, title: str = "", extra_paths: tuple[str, ...] = ()
) -> Path:
    """Per target (panels), the per-basin Δr = r(trained) − r(control) of each control in
    `selectivity` (rows of probe_selectivity_basins.csv), on an axis symmetric around 0 with a
    zero line; points coloured by Δr on the diverging map. Beside each box: the median Δr and the
    number of basins where the control reads the store better (Δr < 0) out of all."""
    targets = target_order(selectivity["target"])
    controls = _ordered(selectivity["control"])
    # each panel its own labels: they carry that panel's counts
    fig, axes = _grid(len(targets), row_height=0.32 * len(controls) + 0.6, sharey=False)
    finite = selectivity["delta_r"].dropna()
    lim = max(0.1, float(finite.abs().max()) * 1.08) if len(finite) else 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    for ax, target in zip(axes, targets):
        here = selectivity[selectivity["target"] == target]
        values = [here.loc[here["control"] == c, "delta_r"].dropna().to_numpy() for c in controls]
        ax.axvspan(-lim, 0.0, color="0.93", zorder=0)
        ax.axvline(0.0, color="black", linewidth=0.9, zorder=1)
        _box_strip(ax, values, ["0.75"] * len(values), point_colours=True, norm=norm, cmap=DIVERGING_CMAP)
        _write_medians(ax, values, "{:+.2f}")
        labels = [
            f"{COMPARISON_LABELS.get(c, c)}\nΔr<0: {negative_count(v)}/{v.size}"
            for c, v in zip(controls, values)
        ]
        ax.set_xlim(-lim, lim)
        ax.set_ylim(len(controls) - 0.5, -0.75)
        ax.set_yticks(range(len(controls)), labels, fontsize=6.5)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(TARGET_LABELS.get(target, target), fontsize=8)
        ax.set_xlabel("Δr = r(trained) − r(control) (–)", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        title or "Where the trained cell state holds more than each control (Δr > 0) and where not (Δr < 0)",
        fontsize=9,
    )
    return save_figure(fig, path, extra_paths)


def seed_medians(scores: pd.DataFrame) -> pd.DataFrame:
    """Median r over the ok basins per model, target and seed: columns model, target, seed, median_r."""
    ok = scores[scores["status"] == "ok"]
    return (
        ok.groupby(["model", "target", "seed"], as_index=False)["r"]
        .median()
        .rename(columns={"r": "median_r"})
    )


def plot_seed_medians(
    scores: pd.DataFrame, path: str | Path, title: str = "", extra_paths: tuple[str, ...] = ()
) -> Path:
    """Per target, the median over basins of the probe r of each seed (points) and the range over
    seeds (min–max bar), trained and untrained side by side. `scores`: probe_scores.csv rows of
    one probe kind, features and subset, no control."""
    medians = seed_medians(scores)
    targets = target_order(medians["target"])
    models = [m for m in MODEL_STYLES if m in set(medians["model"])] + sorted(
        set(medians["model"]) - set(MODEL_STYLES)
    )
    seeds = sorted(medians["seed"].unique(), key=str)
    markers = dict(zip(seeds, "osD^vP*Xph"))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.8, 2.8))
    width = 0.32
    for k, model in enumerate(models):
        colour = MODEL_STYLES.get(model, {}).get("color", "0.3")
        offset = (k - (len(models) - 1) / 2) * width
        for i, target in enumerate(targets):
            here = medians[(medians["model"] == model) & (medians["target"] == target)]
            if here.empty:
                continue
            x = i + offset
            lo, hi = here["median_r"].min(), here["median_r"].max()
            ax.plot([x, x], [lo, hi], color=colour, linewidth=2.5, alpha=0.45, solid_capstyle="butt")
            for j, (seed, value) in enumerate(zip(here["seed"], here["median_r"])):
                jitter = (j - (len(here) - 1) / 2) * 0.04
                ax.plot(
                    [x + jitter], [value], marker=markers.get(seed, "o"), color=colour, ms=4, linestyle="none"
                )
        ax.plot([], [], color=colour, linewidth=2.5, alpha=0.45, label=f"{model}: range over seeds")
    for seed in seeds:
        ax.plot(
            [], [], marker=markers.get(seed, "o"), color="0.3", linestyle="none", ms=4, label=f"seed {seed}"
        )
    ax.set_xticks(range(len(targets)), [TARGET_LABELS.get(t, t) for t in targets], fontsize=7, rotation=15)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylabel("median per-basin r (–), test period", fontsize=7)
    ax.set_xlim(-0.6, len(targets) - 0.4)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_title(title or f"Probe median r per seed ({len(seeds)} seed(s))", fontsize=8)
    return save_figure(fig, path, extra_paths)


def plot_snow_subset(
    scores: pd.DataFrame,
    path: str | Path,
    target: str = "sd",
    snow_threshold: float | None = None,
    title: str = "",
    extra_paths: tuple[str, ...] = (),
) -> Path:
    """The per-basin r of the `target` probe on all basins beside the snow subset (subset `snow`),
    trained and untrained: boxes with every basin (and seed) a point, the median and the number of
    basins written. `scores`: probe_scores.csv rows of one probe kind and features, no control."""
    ok = scores[(scores["status"] == "ok") & (scores["target"] == target)]
    models = [m for m in MODEL_STYLES if m in set(ok["model"])] + sorted(set(ok["model"]) - set(MODEL_STYLES))
    subsets = [s for s in ("all", "snow") if s in set(scores["subset"])] or ["all"]
    labels, values, colours = [], [], []
    for subset in subsets:
        for model in models:
            v = ok.loc[(ok["subset"] == subset) & (ok["model"] == model), "r"].dropna().to_numpy()
            name = "all basins" if subset == "all" else "snow basins"
            labels.append(f"{model}\n{name}")
            values.append(v)
            colours.append(MODEL_STYLES.get(model, {}).get("color", "0.5"))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.55, 0.7 + 0.42 * max(1, len(values))))
    _box_strip(ax, values, colours)
    low = min(-0.1, min((float(v.min()) for v in values if v.size), default=-0.1))
    for i, v in enumerate(values):
        text = f"median {np.median(v):.2f}, n = {v.size}" if v.size else "no basins"
        ax.text(low + 0.02, i - 0.3, text, fontsize=6.5, va="bottom", ha="left")
    if "snow" not in subsets:
        ax.text(0.98, 0.02, "no snow subset in the table", transform=ax.transAxes, ha="right", fontsize=7)
    ax.set_xlim(low, 1.0)
    ax.set_ylim(len(values) - 0.5, -0.65)
    ax.set_yticks(range(len(values)), labels, fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(f"per-basin r (–) of {TARGET_LABELS.get(target, target)}, test period", fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    threshold = f" (frac_snow > {snow_threshold:g})" if snow_threshold is not None else ""
    ax.set_title(title or f"{target} probe r: all basins vs snow basins{threshold}", fontsize=8)
    return save_figure(fig, path, extra_paths)
