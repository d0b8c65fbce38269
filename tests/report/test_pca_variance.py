"""The PCA variance figure on a small hand-made pca_summary table: a PNG with one bar per shown
component and model, and the number of components reaching 90 % written per model."""

import numpy as np
import pandas as pd

from hydroprobe.report.pca_variance import components_for, plot_pca_variance

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pca_table(ratios: dict[str, list[float]]) -> pd.DataFrame:
    frames = []
    for model, values in ratios.items():
        values = np.asarray(values, dtype=float)
        frames.append(
            pd.DataFrame(
                dict(
                    model=model,
                    seed=1,
                    features="cell",
                    component=np.arange(1, values.size + 1),
                    explained_variance_ratio=values,
                    cumulative_explained_variance_ratio=np.cumsum(values),
                )
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_components_for_reaching_the_level():
    table = pca_table({"trained": [0.5, 0.3, 0.1, 0.06, 0.04]})
    assert components_for(table) == 3  # 0.5 + 0.3 + 0.1 = 0.9
    assert components_for(table, level=0.5) == 1
    assert components_for(pca_table({"trained": [0.4, 0.3]})) == 2  # never reached: all


def test_pca_variance_bars_and_counts(tmp_path, keep_figure):
    table = pca_table(
        {"trained": [0.6, 0.2, 0.1, 0.05, 0.03, 0.02], "untrained": [0.3, 0.25, 0.2, 0.1, 0.1, 0.05]}
    )
    path = plot_pca_variance(table, tmp_path / "pca.png", max_components=4)
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5_000
    ax = keep_figure[-1].axes[0]
    assert len(ax.patches) == 2 * 4  # the leading 4 components of each model
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "trained: 3 of 6 for 90%" in labels
    assert "untrained: 5 of 6 for 90%" in labels
