"""Uncertainty of the probe tables' medians over basins.

- `bootstrap_median_intervals`: percentile bootstrap intervals of the median of many groups of
  per-basin values at once (basins resampled with replacement, seeded).
- `paired_wilcoxon`: the Wilcoxon signed-rank test on per-basin differences (trained − control),
  with the count of basins where the trained probe wins.

Both describe the sampling of basins only: how much a median would move with another draw of
catchments of the same kind. They say nothing of the error of the ERA5-Land stores themselves,
nor of the training seed (that spread is in the ensemble table when several seeds are run).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import wilcoxon

# Below this many non-zero differences the two-sided signed-rank test cannot reach p < 0.05
# (n = 6, every difference of one sign: exact p = 2/2⁶ ≈ 0.031), so it is not reported.
MIN_PAIRED_BASINS = 6
# Below this many basins a bootstrap of the median only reshuffles a handful of values.
MIN_BOOTSTRAP_BASINS = 3

# Resampled picks held at once (about 16 MB of int64).
DRAW_ELEMENTS = 2_000_000

TOO_FEW_BASINS = f"fewer than {MIN_PAIRED_BASINS} basins with a non-zero difference"


def median_rank_draws(n: int, draws: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """0-based ranks of the two middle order statistics of `draws` bootstrap resamples of n items.

    Resampling n sorted values with replacement and taking the median equals averaging the sorted
    values at these ranks (the same rank twice for odd n). Each resample is drawn as the counts
    of every rank (a bincount of uniform picks), so the order statistics are found by a cumulative
    sum instead of a sort per resample."""
    low, high = np.empty(draws, dtype=np.int64), np.empty(draws, dtype=np.int64)
    chunk = max(1, DRAW_ELEMENTS // n)  # bounds memory for tables of thousands of basins
    for start in range(0, draws, chunk):
        size = min(chunk, draws - start)
        picks = rng.integers(0, n, size=(size, n))
        counts = np.bincount((picks + n * np.arange(size)[:, None]).ravel(), minlength=size * n)
        cumulative = counts.reshape(size, n).cumsum(axis=1)
        # the k-th smallest (1-based) is the first rank whose cumulative count reaches k
        low[start : start + size] = (cumulative >= (n + 1) // 2).argmax(axis=1)
        high[start : start + size] = (cumulative >= n // 2 + 1).argmax(axis=1)
    return low, high


def bootstrap_median_intervals(
    groups: Sequence[np.ndarray], draws: int, seed: int, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the median of each group's finite values.

    Returns (low, high), one entry per group; NaN where a group has fewer than
    `MIN_BOOTSTRAP_BASINS` finite values. Groups of the same size share their resampled ranks
    (drawn from a generator seeded with (seed, size)), so a group's interval depends only on its
    own values, the seed and the number of draws, not on which other groups are in the table."""
    values = [np.asarray(g, dtype=float) for g in groups]
    values = [np.sort(v[np.isfinite(v)]) for v in values]
    sizes = np.array([len(v) for v in values])
    low = np.full(len(values), np.nan)
    high = np.full(len(values), np.nan)
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    for n in np.unique(sizes[sizes >= MIN_BOOTSTRAP_BASINS]):
        members = np.flatnonzero(sizes == n)
        stacked = np.stack([values[i] for i in members])  # (groups, n), each row sorted
        rank_low, rank_high = median_rank_draws(int(n), draws, np.random.default_rng([seed, int(n)]))
        medians = (stacked[:, rank_low] + stacked[:, rank_high]) / 2  # (groups, draws)
        low[members], high[members] = np.quantile(medians, tails, axis=1)
    return low, high


def paired_wilcoxon(differences: np.ndarray) -> dict:
    """Wilcoxon signed-rank test (two-sided) of per-basin differences trained − control.

    Zero differences are dropped before ranking (Wilcoxon's own treatment, scipy's
    `zero_method="wilcox"`; dropping them here lets scipy use the exact null distribution for
    small samples without tied differences, where it would fall back to the normal approximation
    had it seen the zeros). With fewer than `MIN_PAIRED_BASINS` non-zero differences (identical
    scores included) the statistic and p-value are NaN and `wilcoxon_note` says why. `n_trained_wins` counts the basins where the
    trained probe scores higher (NaN differences left out)."""
    d = np.asarray(differences, dtype=float)
    d = d[np.isfinite(d)]
    result = {
        "n_trained_wins": int((d > 0).sum()),
        "wilcoxon_statistic": np.nan,
        "wilcoxon_p": np.nan,
        "wilcoxon_note": "",
    }
    nonzero = d[d != 0]
    if len(nonzero) < MIN_PAIRED_BASINS:
        result["wilcoxon_note"] = TOO_FEW_BASINS
        return result
    test = wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided")
    result["wilcoxon_statistic"] = float(test.statistic)
    result["wilcoxon_p"] = float(test.pvalue)
    return result
