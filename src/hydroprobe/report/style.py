"""What every figure shares: target labels and order, model colours, and saving.

Matplotlib runs on the Agg backend (no screen needed). Figures are sized for a paper's page
(one column ≈ 3.5 in, two ≈ 7.2 in) and saved at 150 dpi, so a PNG read at column width has
readable labels; extra vector formats on request.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hydroprobe.io import atomic_output  # noqa: E402

DPI = 150
COLUMN_WIDTH_IN = 3.5
PAGE_WIDTH_IN = 7.2

TARGET_LABELS = {
    "swvl1": "swvl1 (0–7 cm)",
    "swvl2": "swvl2 (7–28 cm)",
    "swvl3": "swvl3 (28–100 cm)",
    "swvl4": "swvl4 (100–289 cm)",
    "sd": "sd (snow water eq.)",
}
TARGET_UNITS = {"swvl1": "m³/m³", "swvl2": "m³/m³", "swvl3": "m³/m³", "swvl4": "m³/m³", "sd": "m w.e."}
MODEL_STYLES = {"trained": dict(color="tab:blue"), "untrained": dict(color="tab:grey", linestyle="--")}
# one colour per comparison a reader meets in the control figures
CONTROL_COLOURS = {
    "trained": "tab:blue",
    "untrained": "tab:grey",
    "shuffle": "tab:orange",
    "shift": "tab:purple",
    "inputs": "tab:green",
    "inputs_all": "tab:olive",
}
SEQUENTIAL_CMAP = "viridis"  # r, NSE: more is better
DIVERGING_CMAP = "RdBu_r"  # differences around 0


def target_order(targets: Iterable[str]) -> list[str]:
    """The paper's order (swvl1…4, sd), then any other target in the order met."""
    targets = list(dict.fromkeys(targets))
    return [t for t in TARGET_LABELS if t in targets] + [t for t in targets if t not in TARGET_LABELS]


def save_figure(fig, path: str | Path, extra_paths: Iterable[str | Path] = ()) -> Path:
    """Save as PNG at `path`, and at each of `extra_paths` in the format its suffix names (.pdf,
    .svg); each file written to a temporary sibling and moved into place when complete. Closes
    the figure."""
    path = Path(path)
    try:
        fig.tight_layout()
        with atomic_output(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png")
        for extra in map(Path, extra_paths):
            with atomic_output(extra) as tmp:
                fig.savefig(tmp, format=extra.suffix.lstrip("."))
    finally:
        plt.close(fig)
    return path
