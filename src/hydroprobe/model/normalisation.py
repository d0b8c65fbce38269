"""Training-period normalisation statistics (contract §3: stored in every checkpoint).

Dynamic inputs: mean/std over basins × training days. Static attributes: mean/std over basins.
Target: mean/std over basins × training days, and a per-basin std (σ_b of the NSE* loss).
Everything is computed from the training period only and serialises to a plain dict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import xarray as xr

from hydroprobe.errors import InputDataError


@dataclass
class Normalisation:
    dynamic_inputs: list[str]
    static_inputs: list[str]
    target: str
    dynamic_mean: dict[str, float] = field(default_factory=dict)
    dynamic_std: dict[str, float] = field(default_factory=dict)
    static_mean: dict[str, float] = field(default_factory=dict)
    static_std: dict[str, float] = field(default_factory=dict)
    target_mean: float = 0.0
    target_std: float = 1.0
    basin_target_std: dict[int, float] = field(default_factory=dict)  # original units

    def to_dict(self) -> dict:
        d = asdict(self)
        d["basin_target_std"] = {int(k): float(v) for k, v in self.basin_target_std.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Normalisation:
        d = dict(d)
        d["basin_target_std"] = {int(k): float(v) for k, v in d.get("basin_target_std", {}).items()}
        return cls(**d)

    def basin_sigma(self, basins) -> np.ndarray:
        """Per-basin target σ in NORMALISED target units (σ_b / target_std), float32."""
        sig = np.array([self.basin_target_std.get(int(b), np.nan) for b in basins], dtype=np.float64)
        return (sig / self.target_std).astype(np.float32)


def _safe_std(values: np.ndarray) -> float:
    s = float(np.nanstd(values)) if np.isfinite(values).any() else np.nan
    return s if np.isfinite(s) and s > 0 else 1.0


def _safe_mean(values: np.ndarray) -> float:
    m = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
    return m if np.isfinite(m) else 0.0


def _require(dataset: xr.Dataset, names) -> None:
    missing = [n for n in names if n not in dataset.variables]
    if missing:
        raise InputDataError(f"basin dataset lacks variable(s) {', '.join(missing)}")


def compute_normalisation(
    dataset: xr.Dataset,
    dynamic_inputs: list[str],
    static_inputs: list[str],
    target: str,
    train_period: tuple[str, str],
) -> Normalisation:
    """Statistics of the training period (inclusive dates) of ``dataset``."""
    _require(dataset, [*dynamic_inputs, *static_inputs, target])
    train = dataset.sel(time=slice(str(train_period[0]), str(train_period[1])))
    if train.sizes.get("time", 0) == 0:
        raise InputDataError(
            f"training period {train_period[0]}…{train_period[1]} has no days in the dataset"
        )
    # plain str names: the checkpoint holds plain values only (see model.checkpoints)
    norm = Normalisation([str(n) for n in dynamic_inputs], [str(n) for n in static_inputs], str(target))
    for name in norm.dynamic_inputs:
        v = train[name].values.astype(np.float64)
        norm.dynamic_mean[name] = _safe_mean(v)
        norm.dynamic_std[name] = _safe_std(v)
    for name in norm.static_inputs:
        v = dataset[name].values.astype(np.float64)
        norm.static_mean[name] = _safe_mean(v)
        norm.static_std[name] = _safe_std(v)
    q = train[target].transpose("basin", "time").values.astype(np.float64)
    norm.target_mean = _safe_mean(q)
    norm.target_std = _safe_std(q)
    per_basin = [float(np.nanstd(row)) if np.isfinite(row).any() else np.nan for row in q]
    norm.basin_target_std = {int(b): float(s) for b, s in zip(dataset["basin"].values, per_basin)}
    return norm
