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
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.probes.fit import aligned_rows, aligned_target, feature_scaler, fit_linear_probe

WEIGHT_COLUMNS = ["target", "dim", "weight"]
CORRELATION_COLUMNS = ["target", "dim", "n", "r", "median_basin_r", "n_basins"]
PCA_BASE_COLUMNS = ["component", "explained_variance_ratio", "cumulative_explained_variance_ratio"]


def pca_columns(targets) -> list[str]:
    """Columns of the PCA table: `PCA_BASE_COLUMNS` then `r_<target>` per target."""
    return PCA_BASE_COLUMNS + [f"r_{t}" for t in targets]


def _period_arrays(states: xr.DataArray, targets: dict[str, xr.DataArray], period):
    """States (time, basin, dim) and targets (time, basin, target) of one period, float64,
    selected by date (the store may hold other days too) and aligned on basin and time."""
    names = list(targets)
    if not names:
        raise InputDataError("state analysis: no target given")
    x, first = aligned_rows(states, targets[names[0]], period)
    ys = [first] + [aligned_target(states, targets[n], period) for n in names[1:]]
    if x.shape[0] == 0:
        raise InputDataError(f"no state lies in the period {tuple(period)}")
    return x, np.stack(ys, axis=-1)


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


def _dims(states: xr.DataArray) -> np.ndarray:
    return (states["dim"].values if "dim" in states.coords else np.arange(states.sizes["dim"])).astype(int)


def _weights(x, y, names, dims, ridge):
    """Weights of the pooled linear probe of each target, in standardised units (columns
    `WEIGHT_COLUMNS`, one row per target and dim), from the train period's states x (time, basin,
    dim) and targets y (time, basin, target).

    Fitted by `hydroprobe.probes.fit.fit_linear_probe` (complete rows of that target only), so a
    weight is the change of the target, in train-period standard deviations, per standard
    deviation of the dimension, all other dimensions fixed.
    """
    d = x.shape[-1]
    frames = []
    for k, name in enumerate(names):
        probe = fit_linear_probe(x.reshape(-1, d), y[..., k].reshape(-1), ridge)
        frames.append(pd.DataFrame({"target": name, "dim": dims, "weight": probe.weights}))
    return pd.concat(frames, ignore_index=True)[WEIGHT_COLUMNS]


def _correlations(x, y, names, dims):
    """Pearson r of each state dimension with each target (columns `CORRELATION_COLUMNS`) from
    one period's states x (time, basin, dim) and targets y (time, basin, target): `r` pooled over
    all (basin, day) pairs where both are finite (`n` of them); `median_basin_r` the median over
    basins of each basin's own r (basins where it is defined, `n_basins` of them)."""
    t, b, d = x.shape
    r, n = pooled_correlations(x.reshape(-1, d), y.reshape(t * b, -1))
    per = np.stack([pooled_correlations(x[:, j], y[:, j])[0] for j in range(b)])  # (basin, targets, dims)
    n_basins = np.isfinite(per).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        med = np.nanmedian(per, axis=0)
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


def fit_pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PCA of the standardised complete rows of `x` (rows, dims).

    Returns (mean, std, explained variance ratio (dims,) in decreasing order, components
    (dims, dims), column i the unit loading vector of component i). Constant dimensions get
    std 1 (they add nothing). Sign convention: each loading vector's largest |entry| positive.
    """
    x = np.asarray(x, dtype=np.float64)
    rows = np.isfinite(x).all(axis=1)
    if rows.sum() <= x.shape[1]:
        raise InputDataError(f"PCA: only {int(rows.sum())} complete rows for {x.shape[1]} dimensions")
    mean, std = feature_scaler(x[rows])
    z = (x[rows] - mean) / std
    cov = z.T @ z / z.shape[0]
    eigval, eigvec = np.linalg.eigh(cov)
    order = np.argsort(eigval)[::-1]
    eigval = np.clip(eigval[order], 0.0, None)
    eigvec = eigvec[:, order]
    big = np.argmax(np.abs(eigvec), axis=0)
    eigvec = eigvec * np.sign(eigvec[big, np.arange(eigvec.shape[1])])
    total = eigval.sum()
    if total <= 0:
        raise InputDataError("PCA: the states have no variance in the fitting period")
    return mean, std, eigval / total, eigvec


def _pca(x_train, x_test, y_test, names, n_components):
    """PCA of the train period's states x_train (time, basin, dim), standardised with their
    statistics, pooled over basins and fitted on the complete rows; one row per component
    (columns `pca_columns(names)`).

    `r_<target>`: Pearson r, pooled over the test period's (basin, day) pairs, of the score of
    each of the first `n_components` components with the target (NaN for the later ones). The
    sign of r follows the loading convention of `fit_pca`.
    """
    d = x_train.shape[-1]
    mean, std, ratio, vectors = fit_pca(x_train.reshape(-1, d))
    k = int(min(max(n_components, 0), d))
    t, b, _ = x_test.shape
    scores = ((x_test.reshape(-1, d) - mean) / std) @ vectors[:, :k]  # NaN rows stay NaN
    r, _ = pooled_correlations(scores, y_test.reshape(t * b, -1))  # (targets, k)
    frame = pd.DataFrame(
        {
            "component": np.arange(1, d + 1),
            "explained_variance_ratio": ratio,
            "cumulative_explained_variance_ratio": np.cumsum(ratio),
        }
    )
    for i, name in enumerate(names):
        col = np.full(d, np.nan)
        col[:k] = r[i]
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
) -> dict[str, pd.DataFrame]:
    """The three tables of one states store: `probe_weights` (train period), `dimension_correlations`
    (test period) and `pca` (fitted on train, correlated on test).

    `states` is (time, basin, dim); `dataset` (the basin dataset, or any mapping of names to
    arrays on basin and time) holds the variables named in `targets`."""
    states = states.transpose("time", "basin", "dim").load()
    targets = {name: dataset[name].load() for name in targets}
    names, dims = list(targets), _dims(states)
    x_train, y_train = _period_arrays(states, targets, train_period)  # each period aligned once
    x_test, y_test = _period_arrays(states, targets, test_period)
    return {
        "probe_weights": _weights(x_train, y_train, names, dims, ridge),
        "dimension_correlations": _correlations(x_test, y_test, names, dims),
        "pca": _pca(x_train, x_test, y_test, names, n_components),
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
