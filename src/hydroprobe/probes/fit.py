"""Linear probes: can a water store be read off the LSTM's cell state?

The paper's probe (Lees et al. 2022): one linear model per target, pooled over all basins (no
basin identity in the input), on cell states standardised with training-period statistics,
target standardised with one global mean/std; fitted on the training period and scored per
basin on the test period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.metrics import nse, pearson_r
from hydroprobe.periods import period_slice
from hydroprobe.probes.grid import FEATURE_VARIABLES


@dataclass(frozen=True)
class LinearProbe:
    """A fitted pooled linear probe in standardised space, with the scalers it needs."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: float
    target_std: float
    weights: np.ndarray
    intercept: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        # the standardisation folded into the weights: one product, no standardised copy of the
        # features (the joint probe's are rows x 320 on the default run)
        weights = self.weights / self.feature_std
        intercept = self.intercept - float(self.feature_mean @ weights)
        return (features @ weights + intercept) * self.target_std + self.target_mean


def feature_scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of each column of `x` (rows, dims); a constant column gets std 1,
    so its standardised values are 0 (and a weight on it is irrelevant)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


class StandardisedRows(NamedTuple):
    """The complete rows of a probe's training data, standardised, and the statistics used."""

    z: np.ndarray  # (rows, dims) features
    zy: np.ndarray  # (rows,) target
    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: float
    target_std: float


def standardised_rows(features: np.ndarray, target: np.ndarray, name: str = "probe") -> StandardisedRows:
    """The rows of `features` (samples, dims) and `target` (samples,) without any NaN, each
    feature standardised with its own mean/std over these rows (`feature_scaler`), the target
    with one mean/std. `name` names the probe in the errors: too few complete rows (no more than
    there are features) or a target without variance."""
    features = np.asarray(features)
    y = np.asarray(target, dtype=np.float64)
    rows = np.isfinite(features).all(axis=1) & np.isfinite(y)
    n_dims = features.shape[1]
    if rows.sum() <= n_dims:
        raise InputDataError(f"{name}: only {int(rows.sum())} complete training rows for {n_dims} features")
    # one float64 copy of the complete rows (never the caller's array), standardised in place
    x = (features[rows] if not rows.all() else np.array(features)).astype(np.float64, copy=False)
    y = y[rows]
    mean, std = feature_scaler(x)
    y_mean, y_std = float(y.mean()), float(y.std())
    if y_std == 0:
        raise InputDataError(f"{name}: the target has no variance in the training period")
    x -= mean
    x /= std
    return StandardisedRows(x, (y - y_mean) / y_std, mean, std, y_mean, y_std)


def fit_linear_probe(features: np.ndarray, target: np.ndarray, ridge: float = 0.0) -> LinearProbe:
    """Closed-form (ridge) least squares of `target` on standardised `features`.

    `features` is (samples, dims), `target` (samples,); rows with any NaN are ignored.
    The intercept is not penalised. Dimensions with zero variance get weight 0.
    """
    rows = standardised_rows(features, target, "linear probe")
    z, zy = rows.z, rows.zy
    # z and zy are centred, so the least-squares intercept is 0 in standardised space.
    gram = z.T @ z + ridge * len(zy) * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ zy)
    return LinearProbe(rows.feature_mean, rows.feature_std, rows.target_mean, rows.target_std, weights, 0.0)


def score_per_basin(observed: np.ndarray, predicted: np.ndarray, basins: np.ndarray) -> pd.DataFrame:
    """Pearson r, r² (the square of r) and NSE for each basin.

    `observed` and `predicted` are (time, basin); returns one row per basin.
    """
    rows = []
    for j, basin in enumerate(basins):
        r = pearson_r(observed[:, j], predicted[:, j])
        rows.append({"basin": int(basin), "r": r, "r2": r * r, "nse": nse(observed[:, j], predicted[:, j])})
    return pd.DataFrame(rows, columns=["basin", "r", "r2", "nse"])


# ---------------------------------------------------------------------------------------------
# Probe kinds: linear, sgd_elasticnet, linear_offsets, mlp; target standardisation `global` or
# `per_basin`; features `cell` (c) or `hidden` (h).
# Every kind takes states (time, basin, dim), a target (basin, time), the train and test periods
# and its options, and returns (per-basin scores, fitted probe).
# A fitted probe's `predict` maps states (time, basin, dim) to the target (time, basin).
# ---------------------------------------------------------------------------------------------

TARGET_SCALINGS = ("global", "per_basin")


def select_features(states: xr.Dataset, features: str = "cell") -> xr.DataArray:
    """Pick the cell (`cell`, default) or hidden (`hidden`) state from a states dataset
    (`FEATURE_VARIABLES` names their variables)."""
    if features not in FEATURE_VARIABLES:
        raise InputDataError(
            f"probe features '{features}' unknown; use one of {', '.join(FEATURE_VARIABLES)}"
        )
    name = FEATURE_VARIABLES[features]
    if name not in states:
        raise InputDataError(f"states have no variable '{name}' (features '{features}')")
    return states[name].transpose("time", "basin", "dim")


def aligned_target(states: xr.DataArray, target: xr.DataArray, period) -> np.ndarray:
    """The target (time, basin) float64 on the states' basins and days of one period."""
    missing = np.setdiff1d(states["basin"].values, target["basin"].values)
    if missing.size:
        raise InputDataError(f"probe target '{target.name}' has no series for basin {int(missing[0])}")
    s = states.sel(time=period_slice(period))
    y = target.sel(basin=s["basin"]).transpose("time", "basin").reindex(time=s["time"])
    return np.asarray(y.values, dtype=np.float64)


def aligned_rows(states: xr.DataArray, target: xr.DataArray, period) -> tuple[np.ndarray, np.ndarray]:
    """States (time, basin, dim) and target (time, basin) of one period, aligned on basin/time."""
    y = aligned_target(states, target, period)
    s = states.transpose("time", "basin", "dim").sel(time=period_slice(period))
    return np.asarray(s.values, dtype=np.float64), y


@dataclass(frozen=True)
class BasinScaler:
    """Per-basin affine target scaling (train-period mean/std); identity for `global`."""

    mean: np.ndarray  # (basin,)
    std: np.ndarray  # (basin,), NaN where a basin's train target has no variance

    @classmethod
    def fit(cls, y_train: np.ndarray, mode: str) -> BasinScaler:
        """Fit on the train target (time, basin); `global` gives the identity (the probe's own
        global standardisation then applies), `per_basin` one mean/std per basin."""
        if mode not in TARGET_SCALINGS:
            raise InputDataError(f"target standardisation '{mode}' unknown; use global or per_basin")
        n_b = y_train.shape[1]
        if mode == "global":
            return cls(np.zeros(n_b), np.ones(n_b))
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, std = np.nanmean(y_train, axis=0), np.nanstd(y_train, axis=0)
        std = np.where(std > 0, std, np.nan)
        return cls(mean, std)

    def forward(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean


@dataclass(frozen=True)
class PooledProbe:
    """A pooled estimator (row-wise, any `fit`/`predict` object) with its scalers."""

    kind: str
    model: object  # LinearProbe or a fitted scikit-learn regressor on standardised data
    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_mean: float
    target_std: float
    basin_scaler: BasinScaler

    def predict(self, states: np.ndarray) -> np.ndarray:
        """States (time, basin, dim) → target (time, basin), NaN where a state is incomplete."""
        t, b, d = states.shape
        x = states.reshape(-1, d)
        out = np.full(x.shape[0], np.nan)
        rows = np.isfinite(x).all(axis=1)
        if isinstance(self.model, LinearProbe):
            out[rows] = self.model.predict(x[rows])
        else:
            z = (x[rows] - self.feature_mean) / self.feature_std
            out[rows] = self.model.predict(z) * self.target_std + self.target_mean
        return self.basin_scaler.inverse(out.reshape(t, b))


def _run(states, target, train_period, test_period, target_scaling, fit):
    """Shared frame: align, scale the target per basin if asked, fit on train, score on test."""
    x_train, y_train = aligned_rows(states, target, train_period)
    scaler = BasinScaler.fit(y_train, target_scaling)
    probe = fit(x_train, scaler.forward(y_train), scaler)
    x_test, y_test = aligned_rows(states, target, test_period)
    scores = score_per_basin(y_test, probe.predict(x_test), states["basin"].values)
    return scores, probe


def probe_linear(
    states, target, train_period, test_period, ridge: float = 0.0, target_scaling: str = "global"
):
    """Pooled closed-form (ridge) least squares on standardised states (`fit_linear_probe`, the
    paper's probe with `target_scaling="global"`)."""

    def fit(x, y, scaler):
        d = x.shape[-1]
        lp = fit_linear_probe(x.reshape(-1, d), y.reshape(-1), ridge)
        return PooledProbe(
            "linear", lp, lp.feature_mean, lp.feature_std, lp.target_mean, lp.target_std, scaler
        )

    return _run(states, target, train_period, test_period, target_scaling, fit)


def _sklearn_probe(kind, estimator):
    def fit(x, y, scaler):
        d = x.shape[-1]
        rows = standardised_rows(x.reshape(-1, d), y.reshape(-1), f"{kind} probe")
        estimator.fit(rows.z, rows.zy)
        return PooledProbe(
            kind, estimator, rows.feature_mean, rows.feature_std, rows.target_mean, rows.target_std, scaler
        )

    return fit


def sgd_elasticnet_estimator(seed: int = 0, alpha: float = 0.01, l1_ratio: float = 0.15):
    """The sgd_elasticnet probe's unfitted estimator (`probe_sgd_elasticnet`)."""
    from sklearn.linear_model import SGDRegressor

    return SGDRegressor(
        penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio, early_stopping=True, random_state=seed
    )


def mlp_estimator(seed: int = 0, hidden: tuple[int, ...] = (20, 10), max_iter: int = 200):
    """The mlp probe's unfitted estimator (`probe_mlp`)."""
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=tuple(hidden), early_stopping=True, random_state=seed, max_iter=max_iter
    )


ROW_ESTIMATORS = {"sgd_elasticnet": sgd_elasticnet_estimator, "mlp": mlp_estimator}


def fit_pooled_rows(kind: str, x: np.ndarray, y: np.ndarray, scaler: BasinScaler, seed: int) -> PooledProbe:
    """The `kind` probe (a `ROW_ESTIMATORS` one, default settings) fitted on training rows x
    (rows, dim) and the scaled target y (rows,), as `probe_sgd_elasticnet` / `probe_mlp` fit."""
    return _sklearn_probe(kind, ROW_ESTIMATORS[kind](seed))(x, y, scaler)


def probe_sgd_elasticnet(
    states,
    target,
    train_period,
    test_period,
    seed: int = 0,
    target_scaling: str = "global",
    alpha: float = 0.01,
    l1_ratio: float = 0.15,
):
    """The paper's estimator: `SGDRegressor(penalty="elasticnet", alpha=0.01, l1_ratio=0.15,
    early_stopping=True, random_state=seed)` on standardised states and target."""
    est = sgd_elasticnet_estimator(seed, alpha, l1_ratio)
    return _run(
        states, target, train_period, test_period, target_scaling, _sklearn_probe("sgd_elasticnet", est)
    )


def probe_mlp(
    states,
    target,
    train_period,
    test_period,
    seed: int = 0,
    target_scaling: str = "global",
    hidden: tuple[int, ...] = (20, 10),
    max_iter: int = 200,
):
    """Small non-linear probe: `MLPRegressor(hidden_layer_sizes=(20, 10), early_stopping=True,
    random_state=seed)` on standardised states and target."""
    est = mlp_estimator(seed, hidden, max_iter)
    return _run(states, target, train_period, test_period, target_scaling, _sklearn_probe("mlp", est))


@dataclass(frozen=True)
class OffsetProbe:
    """Pooled weights plus one intercept per basin (the paper's Appendix C), in units of the
    (possibly per-basin scaled) target: ŷ[t, b] = z[t, b] · w + intercept[b]."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    target_std: float
    weights: np.ndarray  # on standardised features, for the globally standardised target
    intercept: np.ndarray  # (basin,), in target units; NaN for a basin without train rows
    basin_scaler: BasinScaler

    def predict(self, states: np.ndarray) -> np.ndarray:
        """States (time, basin, dim) → target (time, basin)."""
        z = (states - self.feature_mean) / self.feature_std
        scaled = (z @ self.weights) * self.target_std + self.intercept
        return self.basin_scaler.inverse(scaled)


def fit_offset_probe(
    x: np.ndarray, y: np.ndarray, ridge: float = 0.0, scaler: BasinScaler | None = None
) -> OffsetProbe:
    """Closed form of the per-basin-intercept probe on x (time, basin, dim), y (time, basin):
    demean features and target per basin over complete train rows, solve the pooled (ridge)
    normal equations, intercept per basin from the train means."""
    t, b, d = x.shape
    rows = np.isfinite(x).all(axis=2) & np.isfinite(y)  # (time, basin)
    if rows.sum() <= d + b:
        raise InputDataError(f"offset probe: only {int(rows.sum())} complete training rows")
    mean, std = feature_scaler(x[rows])
    y_std = float(y[rows].std())
    if y_std == 0:
        raise InputDataError("offset probe: the target has no variance in the training period")
    z = np.where(rows[..., None], (x - mean) / std, 0.0)
    yz = np.where(rows, y / y_std, 0.0)
    n_b = rows.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_bar = z.sum(axis=0) / n_b[:, None]  # (basin, dim)
        y_bar = yz.sum(axis=0) / n_b  # (basin,)
    keep = n_b > 0
    zc = np.where(rows[..., None], z - np.where(keep[:, None], z_bar, 0.0), 0.0)[rows]
    yc = np.where(rows, yz - np.where(keep, y_bar, 0.0), 0.0)[rows]
    gram = zc.T @ zc + ridge * len(yc) * np.eye(d)
    weights = np.linalg.solve(gram, zc.T @ yc)
    intercept = (y_bar - z_bar @ weights) * y_std
    return OffsetProbe(mean, std, y_std, weights, intercept, scaler or BasinScaler(np.zeros(b), np.ones(b)))


def probe_linear_offsets(
    states, target, train_period, test_period, ridge: float = 0.0, target_scaling: str = "global"
):
    """Pooled linear probe plus a per-basin intercept (closed form, see `fit_offset_probe`)."""

    def fit(x, y, scaler):
        return fit_offset_probe(x, y, ridge, scaler)

    return _run(states, target, train_period, test_period, target_scaling, fit)


PROBE_KINDS = {
    "linear": probe_linear,
    "sgd_elasticnet": probe_sgd_elasticnet,
    "linear_offsets": probe_linear_offsets,
    "mlp": probe_mlp,
}


def run_probe(kind: str, states, target, train_period, test_period, **options):
    """Dispatch to the probe of `kind` (one of PROBE_KINDS); options go to that function."""
    if kind not in PROBE_KINDS:
        raise InputDataError(f"probe kind '{kind}' unknown; use one of {', '.join(PROBE_KINDS)}")
    return PROBE_KINDS[kind](states, target, train_period, test_period, **options)


# ---------------------------------------------------------------------------------------------
# Per-basin status of a score: a basin whose test target has no variance, or no data, is
# reported as such rather than as a NaN buried in a median.
# ---------------------------------------------------------------------------------------------


def basin_status_in_period(target: xr.DataArray, basins, test_period) -> pd.Series:
    """`ok`, `no_data` (fewer than 2 finite test days) or `no_variance` (constant in the test
    period) per basin of `basins`, from the target (basin, time)."""
    y = target.sel(basin=basins, time=period_slice(test_period)).transpose("time", "basin").values
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    n = finite.sum(axis=0)
    with np.errstate(invalid="ignore"):
        lo = np.where(finite, y, np.inf).min(axis=0)
        hi = np.where(finite, y, -np.inf).max(axis=0)
    status = np.where(n < 2, "no_data", np.where(hi - lo > 0, "ok", "no_variance"))
    return pd.Series(status, index=np.asarray(basins), name="status")


def with_status(scores: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """Add a `status` column to per-basin scores; an `ok` basin whose r is still not finite (the
    prediction is constant or missing there) becomes `no_prediction`. Scores of a basin that is
    not `ok` are set to NaN so that no median can take them in."""
    out = scores.copy()
    st = status.reindex(out["basin"].to_numpy()).fillna("no_data").to_numpy().astype(object)
    st[(st == "ok") & ~np.isfinite(out["r"].to_numpy(dtype=float))] = "no_prediction"
    out["status"] = st
    out.loc[out["status"] != "ok", ["r", "r2", "nse"]] = np.nan
    return out
