"""Synthetic worlds whose truth is known, shared by the tests.

`probe_world`: cell states (time, basin, dim) that carry a hidden signal per basin, and targets
(basin, time) that are a known function of that signal; what a probe can and cannot read from the
states follows from the parameters.

`basin_world`: a basin dataset (forcings, discharge, soil water, static attributes) from a bucket
model, for training and running the LSTM.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

PROBE_TIME = pd.date_range("1990-01-01", "1995-12-31", freq="D")


def probe_world(
    names: str | Sequence[str] = "swvl1",
    *,
    time: pd.DatetimeIndex = PROBE_TIME,
    n_basins: int = 6,
    n_dims: int = 8,
    first_basin: int = 1,
    seed: int = 0,
    season: float | Sequence[float] = 1.0,
    signal_noise: float = 0.3,
    memory_days: float | None = None,
    level: float = 0.3,
    scale: float = 0.05,
    nonlinear: bool = False,
    offsets: float = 0.0,
    signal_weight: float | Sequence[float] = 2.0,
    direction: str = "unit",
    state_noise: float = 0.3,
    state_level: float = 0.0,
    basin_state_offsets: float = 0.0,
):
    """States and targets built from one hidden signal per target name.

    Signal of basin b on day t (per target; `season` may be given per target):
        s = season·sin(2πt/365.25 + b) + signal_noise·e,
    e white standard normal, or (with `memory_days` τ) white noise smoothed by the kernel exp(-k/τ),
    k < 3τ: a slowly varying series of the basin's own, with no cycle shared between basins.
    Target: level + scale·f(s) + an offset per basin drawn from U(-offsets, offsets), which the
    states do not hold; f is the identity, or tanh(2s) when `nonlinear`.
    States: state_level + Σ signal_weight·s·direction + state_noise·(standard normal noise), plus a
    constant N(0, basin_state_offsets²) offset per basin and dim. `direction` is a random standard
    normal vector per target ("raw"), the same scaled to length 1 ("unit"), or dim k itself for the
    k-th target ("axis": that dim is signal_weight·s exactly, without noise).

    Random draws, in this order: e per target (basin by basin), the directions, the state noise,
    the basin offsets of the states, the target offsets per target; the last two only when asked for.

    Returns (states, target) for one name, (states, {name: target}) for a sequence of names.
    """
    single = isinstance(names, str)
    names = [names] if single else list(names)
    n_targets, n_time = len(names), time.size
    seasons = np.broadcast_to(np.asarray(season, dtype=float), (n_targets,))
    weights = np.broadcast_to(np.asarray(signal_weight, dtype=float), (n_targets,))
    rng = np.random.default_rng(seed)
    days = np.arange(n_time)
    cycle = np.sin(2 * np.pi * days[:, None] / 365.25 + np.arange(n_basins))  # (time, basin)
    signals = []
    for k in range(n_targets):
        e = rng.standard_normal((n_basins, n_time))
        if memory_days is not None:
            kernel = np.exp(-np.arange(int(3 * memory_days)) / memory_days)
            e = np.stack([np.convolve(row, kernel)[:n_time] for row in e])
        signals.append(seasons[k] * cycle + signal_noise * e.T)  # (time, basin)
    if direction == "axis":
        directions = np.eye(n_dims)[:n_targets]
    elif direction in ("raw", "unit"):
        directions = np.stack([rng.standard_normal(n_dims) for _ in range(n_targets)])
        if direction == "unit":
            directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    else:
        raise ValueError(f"direction must be 'raw', 'unit' or 'axis', not {direction!r}")
    states = state_noise * rng.standard_normal((n_time, n_basins, n_dims))
    for k in range(n_targets):
        states = weights[k] * signals[k][..., None] * directions[k] + states
    if basin_state_offsets:
        states = states + basin_state_offsets * rng.standard_normal((1, n_basins, n_dims))
    states = states + state_level
    if direction == "axis":
        for k in range(n_targets):
            states[..., k] = weights[k] * signals[k]
    basins = np.arange(first_basin, first_basin + n_basins, dtype=np.int32)
    states = xr.DataArray(
        states.astype(np.float32),
        dims=("time", "basin", "dim"),
        coords={"time": time, "basin": basins, "dim": np.arange(n_dims)},
    )
    targets = {}
    for name, signal in zip(names, signals):
        values = level + scale * (np.tanh(2.0 * signal) if nonlinear else signal)
        if offsets:
            values = values + offsets * rng.uniform(-1, 1, n_basins)
        targets[name] = xr.DataArray(
            values.T, dims=("basin", "time"), coords={"basin": basins, "time": time}, name=name
        )
    return (states, targets[names[0]]) if single else (states, targets)


def basin_world(n_basins=4, start="1999-01-01", end="2003-12-31", seed=0, basins=None, gaps=0.05):
    """Rain fills a soil bucket; discharge = k_b × storage (k_b a static attribute).

    Daily forcings (precipitation, peti, temperature), specific discharge with a fraction `gaps` of
    days missing in all basins, soil water (swvl1), and the static attributes k, smax and area
    (5 to 500, not used by the bucket). Basin ids 1…n_basins unless `basins` names them.
    """
    rng = np.random.default_rng(seed)
    time = pd.date_range(start, end, freq="D")
    nt = len(time)
    doy = time.day_of_year.values
    temp = 10 - 8 * np.cos(2 * np.pi * doy / 365.25) + rng.normal(0, 2, (n_basins, nt))
    pet = np.clip(0.2 * (temp + 5), 0, None)
    wet = rng.random((n_basins, nt)) < 0.35
    precip = np.where(wet, rng.gamma(1.0, 6.0, (n_basins, nt)), 0.0)
    k = np.linspace(0.03, 0.15, n_basins)
    smax = np.linspace(150, 80, n_basins)
    s = np.full(n_basins, 50.0)
    q = np.empty((n_basins, nt))
    soil = np.empty((n_basins, nt))
    for t in range(nt):
        s = s + precip[:, t]
        s = s - np.minimum(pet[:, t] * s / smax, s)
        over = np.maximum(s - smax, 0)
        s = s - over
        q[:, t] = k * s + over
        s = s - k * s
        soil[:, t] = s
    q[:, rng.random(nt) < gaps] = np.nan
    if basins is None:
        basins = np.arange(1, n_basins + 1)

    def f32(a):
        return np.asarray(a).astype(np.float32)

    return xr.Dataset(
        {
            "precipitation": (("basin", "time"), f32(precip)),
            "peti": (("basin", "time"), f32(pet)),
            "temperature": (("basin", "time"), f32(temp)),
            "discharge_spec": (("basin", "time"), f32(q)),
            "swvl1": (("basin", "time"), f32(soil)),
            "k": (("basin",), f32(k)),
            "smax": (("basin",), f32(smax)),
            "area": (("basin",), f32(np.geomspace(5.0, 500.0, n_basins))),
        },
        coords={"basin": np.asarray(basins, dtype=np.int32), "time": time},
    )


# The small LSTM the epoch and size probe tests train on the bucket world (fast: 512 windows/epoch).
BUCKET_PERIODS = {
    "train": ("1999-03-01", "2001-12-31"),
    "validation": ("2002-01-01", "2002-06-30"),
    "test": ("2002-07-01", "2003-12-31"),
}


def train_bucket_lstm(folder, hidden_size: int, epochs: int, kept_paths=None):
    """Train a `hidden_size`-unit LSTM for `epochs` on a 3-basin bucket world into `folder`
    (trained.pt, untrained.pt, and `kept_paths`: epoch -> file); returns the dataset."""
    from hydroprobe.model.training import train_lstm

    dataset = basin_world(n_basins=3, start="1999-01-01", end="2003-12-31", seed=4)
    model_cfg = {
        "dynamic_inputs": ["precipitation", "peti", "temperature"],
        "static_inputs": ["area"],
        "target": "discharge_spec",
        "hidden_size": hidden_size,
        "seq_length": 30,
        "predict_last_n": 5,
        "output_dropout": 0.0,
        "initial_forget_bias": 3.0,
    }
    training_cfg = {
        "epochs": epochs,
        "batch_size": 32,
        "learning_rate": 1e-2,
        "clip_grad_norm": 1.0,
        "nse_eps": 0.1,
        "samples_per_epoch": 512,
        "clip_target_at_zero": False,
        "device": "cpu",
        "precision": "fp32",
    }
    train_lstm(
        dataset,
        model_cfg,
        training_cfg,
        BUCKET_PERIODS,
        seed=1,
        trained_path=folder / "trained.pt",
        untrained_path=folder / "untrained.pt",
        threads=1,
        log=lambda m: None,
        progress=False,
        kept_paths=kept_paths or {},
    )
    return dataset
