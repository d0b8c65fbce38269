"""The PCA figure: explained variance ratio per principal component of the cell states, and its
cumulative sum, trained vs untrained LSTM (style and saving: hydroprobe.report.style)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from hydroprobe.report.style import COLUMN_WIDTH_IN, MODEL_STYLES, save_figure

VARIANCE_LEVEL = 0.9  # the cumulative share whose number of components is written


def components_for(pca: pd.DataFrame, level: float = VARIANCE_LEVEL) -> int:
    """The fewest leading components whose cumulative explained variance ratio reaches `level`
    (all components when it never does)."""
    cumulative = pca.sort_values("component")["cumulative_explained_variance_ratio"].to_numpy()
    reached = np.flatnonzero(cumulative >= level - 1e-12)
    return int(reached[0] + 1) if reached.size else int(cumulative.size)


def plot_pca_variance(
    pca: pd.DataFrame,
    path: str | Path,
    max_components: int = 20,
    title: str = "",
    extra_paths: tuple[str, ...] = (),
) -> Path:
    """Bars: the explained variance ratio of the leading `max_components` components per model
    (side by side); lines: the cumulative ratio, with the number of components reaching 90 %
    written in the legend. `pca`: pca_summary.csv rows of one seed and features."""
    models = [m for m in MODEL_STYLES if m in set(pca["model"])] + sorted(
        set(pca["model"]) - set(MODEL_STYLES)
    )
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN * 1.3, 2.6))
    width = 0.8 / max(1, len(models))
    shown = 0
    for k, model in enumerate(models):
        rows = pca[pca["model"] == model].sort_values("component")
        head = rows[rows["component"] <= max_components]
        shown = max(shown, len(head))
        style = MODEL_STYLES.get(model, {})
        colour = style.get("color", "0.4")
        offset = (k - (len(models) - 1) / 2) * width
        ax.bar(
            head["component"] + offset, head["explained_variance_ratio"], width=width, color=colour, alpha=0.6
        )
        n90 = components_for(rows)
        ax.plot(
            head["component"],
            head["cumulative_explained_variance_ratio"],
            color=colour,
            linestyle=style.get("linestyle", "-"),
            marker=".",
            ms=3,
            linewidth=1.0,
            label=f"{model}: {n90} of {len(rows)} for {VARIANCE_LEVEL:.0%}",
        )
    ax.axhline(VARIANCE_LEVEL, color="0.5", linewidth=0.6, linestyle=":")
    ax.set_xlim(0.3, shown + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("principal component", fontsize=7)
    ax.set_ylabel("explained variance ratio (–)\nbars: each; lines: cumulative", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=6, loc="center right", title="components", title_fontsize=6)
    ax.set_title(title or "PCA of the cell states", fontsize=8)
    return save_figure(fig, path, extra_paths)
