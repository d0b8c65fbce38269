"""Figures drawn with matplotlib (Agg backend: no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TARGET_LABELS = {
    "swvl1": "swvl1 (0–7 cm)",
    "swvl2": "swvl2 (7–28 cm)",
    "swvl3": "swvl3 (28–100 cm)",
    "swvl4": "swvl4 (100–289 cm)",
    "sd": "sd (snow water eq.)",
}
MODEL_STYLES = {"trained": dict(color="tab:blue"), "untrained": dict(color="tab:grey", linestyle="--")}


def plot_probe_cdfs(scores: pd.DataFrame, path: str | Path, metric: str = "r") -> Path:
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
        for (model, probe, seed), group in subset[subset["target"] == target].groupby(["model", "probe", "seed"]):
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
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
