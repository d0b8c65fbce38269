"""What the cell state holds, dimension by dimension: probe weights, per-dimension
correlations with each target, and a PCA of the states (`analyse_states`, one call per states
store).

Plain functions over numpy/xarray, torch-free (the analysis job reads the states store only):

- probe weights: the pooled linear probe's weights per target in standardised units — exactly
  the probe of the `linear` probe jobs with target scaling `global` (`probes.fit_linear_probe`:
  each state dimension standardised with its train-period mean/std, the target with one
  train-period mean/std over all basins, closed-form ridge least squares on the train period).
- dimension correlations: Pearson r of each state dimension with each target, pooled over
  every (basin, day) of the test period where both are finite, and the median over basins of
  the per-basin r.
- PCA: of the states standardised with train-period statistics (pooled over basins, complete
  train rows): explained variance ratio of every component, and the Pearson r of the top `k`
  component scores with each target on the test period.

The pooled r mixes between-basin and within-basin variation, as the pooled probe does; the
per-basin median is the within-basin view.

The store is read block by block (`blockwise.StateBlocks`: groups of basins over one period's
days), twice: the train period once for the probe weights and the PCA (one float64 Gram per
block, `streaming.block_grams`, with an always-present column whose Gram is that of the complete
state rows), the test period once for the correlations (`PairSums`: per (target, column) sums
over the rows where both are finite; each basin's own r from its whole series, which lies in one
block). Memory is a few blocks, never the store: at paper size (669 basins x 40 years x 64
units) the c of one store alone is ~2.5 GB.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.probes.blockwise import BLOCK_MB, StateBlocks, _check_basins, block_targets
from hydroprobe.probes.fit import feature_scaler
from hydroprobe.probes.streaming import Moments, _blas_single_thread, add_block, block_grams

WEIGHT_COLUMNS = ["target", "dim", "weight"]
CORRELATION_COLUMNS = ["target", "dim", "n", "r", "median_basin_r", "n_basins"]
PCA_BASE_COLUMNS = ["component", "explained_variance_ratio", "cumulative_explained_variance_ratio"]


def pca_columns(targets) -> list[str]:
    """Columns of the PCA table: `PCA_BASE_COLUMNS` then `r_<target>` per target."""
    return PCA_BASE_COLUMNS + [f"r_{t}" for t in targets]


def pooled_correlations(x: np.ndarray, y: np.ndarray, min_values: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of every column of `x` (rows, dims) with every column of `y` (rows, targets),
    each pair over the rows where both are finite (NaN-aware, pairwise).

    Returns (r, n), both (targets, dims); r is NaN where fewer than `min_values` rows remain or
    either side is constant there. Two-pass per target: the rows of a target are taken first, the
    states centred on exactly the pair's rows, so values on the other rows (however large) cannot
    cost precision; the sums over dims are matrix products.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x (rows, dims) and y (rows, targets) expected, got {x.shape} and {y.shape}")
    n_t, n_d = y.shape[1], x.shape[1]
    r = np.full((n_t, n_d), np.nan)
    n = np.zeros((n_t, n_d), dtype=np.int64)
    for k in range(n_t):
        rows = np.isfinite(y[:, k])
        xk, yk = x[rows], y[rows, k]
        fx = np.isfinite(xk)
        nk = fx.sum(axis=0)
        n[k] = nk
        if yk.size < min_values:
            continue
        complete = bool(fx.all())
        m = None if complete else fx.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            x0 = xk if complete else np.where(fx, xk, 0.0)
            mx = x0.sum(axis=0) / nk
            xc = xk - mx if complete else np.where(fx, xk - mx, 0.0)
            yc = yk - yk.mean()
            my = np.full(n_d, 0.0) if complete else (yc @ m) / nk  # y's mean on each pair's rows
            sxy = yc @ xc  # = sum over the pair's rows of (x - mx)(y - my), as xc sums to 0 there
            sxx = (xc * xc).sum(axis=0)
            syy = (np.full(n_d, yc @ yc) if complete else (yc * yc) @ m) - nk * my * my
            # constant within rounding: relative spread below 1e-10 (x) / 1e-7 (y, one-pass) of scale
            x_scale = np.abs(x0).max(axis=0) if xk.size else np.zeros(n_d)
            x_ok = sxx > nk * (1e-10 * x_scale) ** 2
            y_ok = syy > nk * (1e-7 * (np.abs(yc).max() if yc.size else 0.0)) ** 2
            rk = sxy / np.sqrt(sxx * syy)
        r[k] = np.where((nk >= min_values) & x_ok & y_ok, np.clip(rk, -1.0, 1.0), np.nan)
    return r, n


class PairSums:
    """Streamed Pearson r of every column of x with every target, each pair over the rows where
    both are finite: `add` blocks of rows, then `result`. Equal to `pooled_correlations` on all
    rows at once (to rounding), with its tests of constancy.

    Each target's sums are taken over its own rows only, of values shifted by their means on the
    first rows of that target added (per column): values on rows where the target is missing
    (however large) never enter its sums, and the centred moments keep their precision however
    far the values lie from zero."""

    def __init__(self, n_cols: int, n_targets: int):
        shape = (n_targets, n_cols)
        self.x_shift, self.y_shift = np.full(shape, np.nan), np.full(n_targets, np.nan)
        self.n = np.zeros(shape)
        self.sx, self.sxx, self.sy, self.syy, self.sxy = (np.zeros(shape) for _ in range(5))
        self.x_max = np.zeros(shape)  # max |x| over each pair's rows: the scale of x's rounding
        self.y_n, self.y_sum = np.zeros(n_targets), np.zeros(n_targets)  # over each target's rows
        self.y_min, self.y_max = np.full(n_targets, np.inf), np.full(n_targets, -np.inf)

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Add rows: x (rows, columns), y (rows, targets); NaN: missing."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        for k in range(y.shape[1]):
            rows = np.isfinite(y[:, k])
            if not rows.any():
                continue
            xk, yk = x[rows], y[rows, k]
            fx = np.isfinite(xk)
            if np.isnan(self.y_shift[k]):  # the first rows of this target: its shifts
                with np.errstate(invalid="ignore", divide="ignore"):
                    self.x_shift[k] = np.nan_to_num(np.where(fx, xk, 0.0).sum(axis=0) / fx.sum(axis=0))
                self.y_shift[k] = yk.mean()
            m = fx.astype(np.float64)
            x0 = np.where(fx, xk - self.x_shift[k], 0.0)
            y0 = yk - self.y_shift[k]
            self.n[k] += m.sum(axis=0)
            self.sx[k] += x0.sum(axis=0)
            self.sxx[k] += (x0 * x0).sum(axis=0)
            self.sy[k] += y0 @ m
            self.syy[k] += (y0 * y0) @ m
            self.sxy[k] += y0 @ x0
            self.x_max[k] = np.maximum(self.x_max[k], np.where(fx, np.abs(xk), 0.0).max(axis=0))
            self.y_min[k], self.y_max[k] = min(self.y_min[k], yk.min()), max(self.y_max[k], yk.max())
            self.y_n[k] += yk.size
            self.y_sum[k] += yk.sum()

    def result(self, min_values: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """(r, n), both (targets, columns), as `pooled_correlations` returns them."""
        n = self.n
        with np.errstate(invalid="ignore", divide="ignore"):
            mx, my = self.sx / n, self.sy / n
            sxx = self.sxx - n * mx * mx
            syy = self.syy - n * my * my
            sxy = self.sxy - n * mx * my
            y_mean = self.y_sum / self.y_n
            y_scale = np.maximum(self.y_max - y_mean, y_mean - self.y_min)[:, None]
            x_ok = sxx > n * (1e-10 * self.x_max) ** 2
            y_ok = syy > n * (1e-7 * y_scale) ** 2
            r = sxy / np.sqrt(sxx * syy)
        ok = (n >= min_values) & x_ok & y_ok
        return np.where(ok, np.clip(r, -1.0, 1.0), np.nan), n.astype(np.int64)


def principal_axes(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Explained variance ratio (dims,), decreasing, and unit loading vectors (dims, dims; column i
    for component i) of the covariance `cov` of standardised states. Sign convention: each
    loading vector's largest |entry| positive."""
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval = np.clip(eigval[order], 0.0, None)
    eigvec = eigvec[:, order]
    big = np.argmax(np.abs(eigvec), axis=0)
    eigvec = eigvec * np.sign(eigvec[big, np.arange(eigvec.shape[1])])
    total = eigval.sum()
    if total <= 0:
        raise InputDataError("PCA: the states have no variance in the fitting period")
    return eigval / total, eigvec


def fit_pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PCA of the standardised complete rows of `x` (rows, dims), in memory.

    Returns (mean, std, explained variance ratio (dims,) in decreasing order, components
    (dims, dims), column i the unit loading vector of component i). Constant dimensions get
    std 1 (they add nothing). Sign convention: `principal_axes`.
    """
    x = np.asarray(x, dtype=np.float64)
    rows = np.isfinite(x).all(axis=1)
    if rows.sum() <= x.shape[1]:
        raise InputDataError(f"PCA: only {int(rows.sum())} complete rows for {x.shape[1]} dimensions")
    mean, std = feature_scaler(x[rows])
    z = (x[rows] - mean) / std
    return (mean, std, *principal_axes(z.T @ z / z.shape[0]))


# key of the moments over every complete state row (a target that is never missing)
_STATE_ROWS = ("complete state rows",)
# float32 states whose spread is below their resolution are constant (a unit stuck at a value):
# the streamed variance of such a dim is rounding, not signal
_FLOAT32_RESOLUTION = float(np.finfo(np.float32).eps)


def _pca_of_moments(m: Moments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`fit_pca`'s (mean, std, ratio, vectors) from the moments of the complete state rows."""
    d = m.x_shift.size
    if m.n <= d:
        raise InputDataError(f"PCA: only {m.n} complete rows for {d} dimensions")
    mx = m.sx / m.n
    cov = m.xtx / m.n - np.outer(mx, mx)
    mean = m.x_shift + mx
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    std = np.where(std > _FLOAT32_RESOLUTION * np.abs(mean), std, 1.0)
    constant = std == 1.0
    cov = np.where(constant[:, None] | constant[None, :], 0.0, cov) / np.outer(std, std)
    return (mean, std, *principal_axes(cov))


def _train_pass(dataset, names, blocks: StateBlocks, train_period, max_block_mb):
    """One pass over the train period: the moments of each target's probe and of the complete
    state rows (the PCA's), from one Gram per block."""
    days = blocks.days_in(train_period)
    if days.size == 0:
        raise InputDataError(f"no state lies in the train period {tuple(train_period)}")
    keys = names + [_STATE_ROWS]
    moments: dict = {}
    work: dict = {}
    for basins in blocks.basin_groups(len(days), max_block_mb):
        y = block_targets(dataset, names, blocks, days, basins)
        y = np.concatenate([y, np.zeros(y.shape[:2] + (1,))], axis=-1)  # present wherever x is
        add_block(moments, *block_grams(blocks.block(days, basins), y, work), keys)
    for name in keys:
        if name not in moments:
            what = f"target '{name}'" if name in names else "the states"
            raise InputDataError(f"state analysis: no complete training rows for {what}")
    return moments


def _test_pass(dataset, names, blocks: StateBlocks, test_period, pca, n_components, max_block_mb):
    """One pass over the test period: pooled sums of each state dimension and of the first
    `n_components` PCA scores with each target, and each basin's own r of every dimension
    (basins, targets, dims)."""
    days = blocks.days_in(test_period)
    if days.size == 0:
        raise InputDataError(f"no state lies in the test period {tuple(test_period)}")
    mean, std, _, vectors = pca
    d = mean.size
    loadings = vectors[:, :n_components] / std[:, None]  # scores = (x - mean) @ loadings
    sums = PairSums(d + n_components, len(names))
    per_basin = []
    for basins in blocks.basin_groups(len(days), max_block_mb):
        x = blocks.block(days, basins)
        y = block_targets(dataset, names, blocks, days, basins)
        for j in range(x.shape[1]):  # a basin's series at a time: its float64 copy stays small
            xj = x[:, j].astype(np.float64)
            sums.add(np.concatenate([xj, (xj - mean) @ loadings], axis=1), y[:, j])
            per_basin.append(pooled_correlations(xj, y[:, j])[0])
    r, n = sums.result()
    return r, n, np.stack(per_basin)


def _correlation_table(r, n, per_basin, names, dims) -> pd.DataFrame:
    """Columns `CORRELATION_COLUMNS` from the pooled r and n (targets, dims) and the per-basin r
    (basins, targets, dims): `median_basin_r` the median over the basins where r is defined
    (`n_basins` of them)."""
    d = len(dims)
    n_basins = np.isfinite(per_basin).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        med = np.nanmedian(per_basin, axis=0)
    frame = pd.DataFrame(
        {
            "target": np.repeat(names, d),
            "dim": np.tile(dims, len(names)),
            "n": n.ravel(),
            "r": r.ravel(),
            "median_basin_r": med.ravel(),
            "n_basins": n_basins.ravel(),
        }
    )
    return frame[CORRELATION_COLUMNS]


def _pca_table(ratio, r_scores, names) -> pd.DataFrame:
    """Columns `pca_columns(names)`, one row per component; `r_<target>` the pooled test r of the
    first components' scores (`r_scores` (targets, k)), NaN for the later ones."""
    d, k = ratio.size, r_scores.shape[1]
    frame = pd.DataFrame(
        {
            "component": np.arange(1, d + 1),
            "explained_variance_ratio": ratio,
            "cumulative_explained_variance_ratio": np.cumsum(ratio),
        }
    )
    for i, name in enumerate(names):
        col = np.full(d, np.nan)
        col[:k] = r_scores[i]
        frame[f"r_{name}"] = col
    return frame[pca_columns(names)]


def analyse_states(
    states: xr.DataArray,
    dataset,
    *,
    targets,
    train_period,
    test_period,
    ridge: float = 0.0,
    n_components: int = 5,
    max_block_mb: float = BLOCK_MB,
) -> dict[str, pd.DataFrame]:
    """The three tables of one states store: `probe_weights` (train period), `dimension_correlations`
    (test period) and `pca` (fitted on train, correlated on test).

    `states` is (time, basin, dim), lazy or not (only blocks of `max_block_mb` are read at a
    time); `dataset` (the basin dataset, or any mapping of names to arrays on basin and time)
    holds the variables named in `targets`.

    - `probe_weights`: the pooled linear probe of each target (`streaming.Moments.solve`, equal
      to `fit.fit_linear_probe` on the complete rows of that target) in standardised units: the
      change of the target, in train-period standard deviations, per standard deviation of the
      dimension, all other dimensions fixed.
    - `dimension_correlations`: `r` pooled over all test (basin, day) pairs where both are finite
      (`n` of them), `median_basin_r` the median over basins of each basin's own r.
    - `pca`: of the train states standardised with their statistics, pooled over basins, on the
      complete rows (as `fit_pca`); `r_<target>` the pooled test r of the first `n_components`
      scores, whose sign follows the loading convention of `principal_axes`.
    """
    names = list(targets)
    if not names:
        raise InputDataError("state analysis: no target given")
    blocks = StateBlocks.of(states, "none")
    _check_basins(dataset, names, blocks)
    dims = (
        blocks.values["dim"].values
        if "dim" in blocks.values.coords
        else np.arange(blocks.values.sizes["dim"])
    )
    dims = dims.astype(int)
    with _blas_single_thread():  # small products: one BLAS thread is faster on a shared node
        moments = _train_pass(dataset, names, blocks, train_period, max_block_mb)
        weights = pd.concat(
            [
                pd.DataFrame({"target": t, "dim": dims, "weight": moments[t].solve(ridge).weights})
                for t in names
            ],
            ignore_index=True,
        )[WEIGHT_COLUMNS]
        pca = _pca_of_moments(moments[_STATE_ROWS])
        k = int(min(max(n_components, 0), len(dims)))
        r, n, per_basin = _test_pass(dataset, names, blocks, test_period, pca, k, max_block_mb)
    d = len(dims)
    return {
        "probe_weights": weights,
        "dimension_correlations": _correlation_table(r[:, :d], n[:, :d], per_basin, names, dims),
        "pca": _pca_table(pca[2], r[:, d:], names),
    }


def top_dimensions(correlations: pd.DataFrame) -> pd.DataFrame:
    """Per target, the dimension of the largest pooled |r| (columns target, dim, r, median_basin_r)."""
    valid = correlations.dropna(subset=["r"])
    idx = valid["r"].abs().groupby(valid["target"], sort=False).idxmax()
    return valid.loc[idx, ["target", "dim", "r", "median_basin_r"]].reset_index(drop=True)


def pca_summary_table(frames: dict[tuple[str, int, str], pd.DataFrame]) -> pd.DataFrame:
    """The PCA tables of several stores in one: `model, seed, features` then the PCA columns.
    `frames` maps (model, seed, features) to the `pca` table of `analyse_states`."""
    rows = []
    for (model, seed, features), frame in frames.items():
        frame = frame.copy()
        frame.insert(0, "features", features)
        frame.insert(0, "seed", int(seed))
        frame.insert(0, "model", model)
        rows.append(frame)
    if not rows:
        raise InputDataError("PCA summary: no table given")
    return pd.concat(rows, ignore_index=True)
