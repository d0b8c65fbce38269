"""Linear probes: can a water store be read off the LSTM's cell state?

The paper's probe (Lees et al. 2022): one linear model per target, pooled over all basins (no
basin identity in the input), on cell states standardised with training-period statistics,
target standardised with one global mean/std; fitted on the training period and scored per
basin on the test period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from hydroprobe.errors import InputDataError
from hydroprobe.metrics import nse, pearson_r


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
        z = (features - self.feature_mean) / self.feature_std
        return (z @ self.weights + self.intercept) * self.target_std + self.target_mean


def fit_linear_probe(features: np.ndarray, target: np.ndarray, ridge: float = 0.0) -> LinearProbe:
    """Closed-form (ridge) least squares of `target` on standardised `features`.

    `features` is (samples, dims), `target` (samples,); rows with any NaN are ignored.
    The intercept is not penalised. Dimensions with zero variance get weight 0.
    """
    features = np.asarray(features, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    rows = np.isfinite(features).all(axis=1) & np.isfinite(target)
    if rows.sum() <= features.shape[1]:
        raise InputDataError(
            f"linear probe: only {int(rows.sum())} complete training rows for {features.shape[1]} features"
        )
    x, y = features[rows], target[rows]
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # constant dims: z = 0, weight irrelevant
    y_mean, y_std = float(y.mean()), float(y.std())
    if y_std == 0:
        raise InputDataError("linear probe: the target has no variance in the training period")
    z = (x - mean) / std
    zy = (y - y_mean) / y_std
    # z and zy are centred, so the least-squares intercept is 0 in standardised space.
    gram = z.T @ z + ridge * len(zy) * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ zy)
    return LinearProbe(mean, std, y_mean, y_std, weights, 0.0)


def score_per_basin(observed: np.ndarray, predicted: np.ndarray, basins: np.ndarray) -> pd.DataFrame:
    """Pearson r, r² (the square of r) and NSE for each basin.

    `observed` and `predicted` are (time, basin); returns one row per basin.
    """
    rows = []
    for j, basin in enumerate(basins):
        r = pearson_r(observed[:, j], predicted[:, j])
        rows.append({"basin": int(basin), "r": r, "r2": r * r, "nse": nse(observed[:, j], predicted[:, j])})
    return pd.DataFrame(rows, columns=["basin", "r", "r2", "nse"])


def _period_slice(period) -> slice:
    start, end = period
    return slice(pd.Timestamp(start), pd.Timestamp(end))


def probe_target(
    states: xr.DataArray,
    target: xr.DataArray,
    train_period: tuple[str, str],
    test_period: tuple[str, str],
    ridge: float = 0.0,
) -> tuple[pd.DataFrame, LinearProbe]:
    """Fit the pooled linear probe on the train period and score it per basin on the test period.

    `states` is (time, basin, dim), `target` (basin, time); they are aligned on basin and time.
    """
    missing = np.setdiff1d(states["basin"].values, target["basin"].values)
    if missing.size:
        raise InputDataError(f"probe target '{target.name}' has no series for basin {int(missing[0])}")
    target = target.sel(basin=states["basin"]).transpose("time", "basin")

    def stacked(period):
        s = states.sel(time=_period_slice(period))
        y = target.sel(time=s["time"])
        return s.values, y.values  # (time, basin, dim), (time, basin)

    x_train, y_train = stacked(train_period)
    n_dims = x_train.shape[-1]
    probe = fit_linear_probe(x_train.reshape(-1, n_dims), y_train.reshape(-1), ridge)

    x_test, y_test = stacked(test_period)
    predicted = probe.predict(x_test.reshape(-1, n_dims)).reshape(y_test.shape)
    scores = score_per_basin(y_test, predicted, states["basin"].values)
    return scores, probe
