"""The probe CDF and the weight-strip figures (style and saving: hydroprobe.report.style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hydroprobe.report.style import MODEL_STYLES, TARGET_LABELS, save_figure, target_order


def plot_probe_cdfs(
    scores: pd.DataFrame, path: str | Path, metric: str = "r", extra_paths: tuple[str, ...] = ()
) -> Path:
    """Empirical CDF of the per-basin probe score, one panel per target, trained vs untrained.

    Each line is one (model, seed) of the pooled linear probe without control; its median over
    basins is marked with a dot and written in the legend.
    """
    subset = scores[(scores["control"] == "none")]
    targets = [t for t in TARGET_LABELS if t in set(subset["target"])] + sorted(
        set(subset["target"]) - set(TARGET_LABELS)
    )
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets), 3.4), sharey=True, squeeze=False)
    for ax, target in zip(axes[0], targets):
        for (model, probe, seed), group in subset[subset["target"] == target].groupby(
            ["model", "probe", "seed"]
        ):
            values = np.sort(group[metric].dropna().to_numpy())
            if values.size == 0:
                continue
            cdf = np.arange(1, values.size + 1) / values.size
            median = float(np.median(values))
            style = MODEL_STYLES.get(model, {})
            ax.step(values, cdf, where="post", label=f"{model} s{seed} {probe}: {median:.2f}", **style)
            ax.plot([median], [0.5], "o", color=style.get("color", "black"))
        ax.set_title(TARGET_LABELS.get(target, target))
        ax.set_xlabel(f"per-basin {metric} (test period)")
        ax.set_xlim(-0.2 if metric == "r" else None, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", title="median", title_fontsize=7)
    axes[0][0].set_ylabel("fraction of basins")
    fig.suptitle("Can the LSTM's cell state be read as soil moisture and snow? (pooled linear probe)")
    return save_figure(fig, path, extra_paths)


def _strip_matrix(frame: pd.DataFrame, value: str, targets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(targets, dims) matrix of `value` from a long table with columns target, dim, value."""
    table = frame.pivot(index="target", columns="dim", values=value).reindex(targets)
    return table.to_numpy(dtype=float), table.columns.to_numpy()


def plot_probe_weights(
    weights: dict[str, pd.DataFrame],
    correlations: dict[str, pd.DataFrame],
    path: str | Path,
    title: str = "",
    extra_paths: tuple[str, ...] = (),
) -> Path:
    """Weight strips: one heatmap per model (columns, e.g. trained | untrained), rows = targets,
    columns = state dimensions. Top row: the pooled linear probe's standardised weights (colour
    scale symmetric per panel, as the two models' weights differ in size); bottom row: Pearson r of
    each dimension with each target on the test period (common scale −1…1).

    `weights[model]` has columns target, dim, weight; `correlations[model]` target, dim, r.
    """
    models = list(weights)
    targets = target_order(pd.concat([weights[m]["target"] for m in models]))
    n_dims = max(int(weights[m]["dim"].nunique()) for m in models)
    width = min(22.0, 3.0 + 0.12 * n_dims * len(models) + 1.5 * len(models))
    fig, axes = plt.subplots(
        2, len(models), figsize=(width, 1.2 + 0.55 * len(targets) * 2 + 1.0), squeeze=False
    )
    labels = [TARGET_LABELS.get(t, t) for t in targets]
    for col, model in enumerate(models):
        w, dims = _strip_matrix(weights[model], "weight", targets)
        lim = float(np.nanmax(np.abs(w))) if np.isfinite(w).any() else 1.0
        ax = axes[0][col]
        im = ax.imshow(w, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.04, pad=0.01, label="standardised weight")
        ax.set_title(f"{model}: probe weights")
        r, _ = _strip_matrix(correlations[model], "r", targets)
        ax_r = axes[1][col]
        im_r = ax_r.imshow(r, aspect="auto", cmap="RdBu_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
        fig.colorbar(im_r, ax=ax_r, fraction=0.04, pad=0.01, label="Pearson r")
        ax_r.set_title(f"{model}: correlation of each dimension (test period)")
        for a in (ax, ax_r):
            a.set_yticks(range(len(targets)), labels if col == 0 else [""] * len(targets), fontsize=8)
            step = max(1, len(dims) // 16)
            a.set_xticks(range(0, len(dims), step), [str(d) for d in dims[::step]], fontsize=7)
        ax_r.set_xlabel("cell-state dimension")
        # mark each target's dimension of largest |r|
        for i in range(len(targets)):
            if np.isfinite(r[i]).any():
                j = int(np.nanargmax(np.abs(r[i])))
                ax_r.plot([j], [i], marker="o", mfc="none", mec="black", ms=6)
    fig.suptitle(title or "What each state dimension holds: pooled linear probe weights and correlations")
    return save_figure(fig, path, extra_paths)
