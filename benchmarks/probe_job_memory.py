"""Benchmark: peak memory of one probe job (rule fit_probe: the pooled linear probe of every
target on one states store), or of one state-analysis job (rule analyse_cell_states, with
`--job analysis`: probe weights, per-dimension correlations and PCA), or of the probe predictions
of rule plot_series (`--job series`: the probe fitted, three basins predicted), or of one raw-input
baseline job (rule fit_input_probe, `--job inputs`: the linear probe on the last 64 days of every
dynamic input, control inputs_all, 256 features a row), or of one joint probe job (rule
fit_joint_probe, `--job joint`: the state followed by those lags), as the period grows.

Writes synthetic cell states (time, basin, dim) float32 as the extraction stores them (one chunk
per basin: `probe_fit.write_store`) and the targets as a zarr basin dataset, for `--days` and for
twice as many days (train: the first half, test: the second), with the four dynamic inputs
chunked as the workflow's basin dataset (every basin, ~10 years a chunk), then runs `run_probe_jobs` for the
5 targets of one (model, features, probe, control) in a fresh subprocess per case and prints
its wall time and peak RSS. `--src DIR` runs the job with another checkout's `src` (e.g. the
code before a change) beside this one's.

    python benchmarks/probe_job_memory.py --basins 200 --days 8000 [--control shift] [--src OTHER/src]
    python benchmarks/probe_job_memory.py --job analysis --basins 200 --days 8000
    python benchmarks/probe_job_memory.py --job series --basins 200 --days 8000
    python benchmarks/probe_job_memory.py --job inputs --basins 200 --days 8000
    python benchmarks/probe_job_memory.py --job joint --basins 200 --days 8000
    python benchmarks/probe_job_memory.py --job inputs --probe sgd_elasticnet --basins 100 --days 8000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)
from probe_fit import TARGETS, write_store  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def config_default(section: str, key: str):
    """A config key's default, from the schema (where every default lives)."""
    from hydroprobe.config import load_schema

    return load_schema()["properties"][section]["properties"][key]["default"]


def _halves(states) -> tuple[tuple[str, str], tuple[str, str]]:
    """Train: the first half of the store's days, test: the second."""
    times = pd.DatetimeIndex(states["time"].values)
    half = len(times) // 2
    return (str(times[0].date()), str(times[half - 1].date())), (
        str(times[half].date()),
        str(times[-1].date()),
    )


def phase_analysis(a) -> dict:
    from hydroprobe.io import open_zarr
    from hydroprobe.probes.analysis import analyse_states
    from hydroprobe.probes.fit import select_features

    dataset, states = open_zarr(a.dataset), open_zarr(a.store)
    train, test = _halves(states)
    t0 = time.perf_counter()
    tables = analyse_states(
        select_features(states, "cell"),
        dataset,
        targets=TARGETS,
        train_period=train,
        test_period=test,
        ridge=1e-6,
        n_components=5,
    )
    corr = tables["dimension_correlations"]
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
        "max_abs_r_swvl1": float(corr.loc[corr["target"] == "swvl1", "r"].abs().max()),
        "pc1_ratio": float(tables["pca"]["explained_variance_ratio"].iloc[0]),
    }


def phase_series(a) -> dict:
    """The probe predictions of rule plot_series: three basins drawn (older code: every basin)."""
    import inspect

    from hydroprobe.io import open_zarr
    from hydroprobe.report.series import probe_predictions

    dataset, states = open_zarr(a.dataset), open_zarr(a.store)
    train, test = _halves(states)
    drawn = {"basins": list(states["basin"].values[:3])}
    if "basins" not in inspect.signature(probe_predictions).parameters:
        drawn = {}
    t0 = time.perf_counter()
    predictions = probe_predictions(
        dataset,
        {"trained": states[["c"]]},
        TARGETS,
        dict(seed=1, probe="linear", control="none", features="cell"),
        ridge=1e-6,
        target_scaling="global",
        train_period=train,
        test_period=test,
        **drawn,
    )
    first = predictions["trained"]["swvl1"].transpose("time", "basin").values[:, 0]
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
        "first_basin_mean_swvl1": float(np.nanmean(first)),
    }


def phase_job(a) -> dict:
    from hydroprobe.io import open_zarr

    dataset, states = open_zarr(a.dataset), open_zarr(a.store)
    train, test = _halves(states)
    jobs = [
        dict(model="trained", seed=1, features="cell", probe=a.probe, control=a.control, target=t)
        for t in TARGETS
    ]
    return _timed_probe_jobs(dataset, states, jobs, train, test, a.max_train_values)


def _timed_probe_jobs(dataset, states, jobs, train, test, max_train_values) -> dict:
    """Run the probe `jobs` as their rule does; seconds, peak RSS and the first target's median r."""
    from hydroprobe.probes.job import run_probe_jobs

    t0 = time.perf_counter()
    scores = run_probe_jobs(
        dataset,
        states,
        jobs,
        ridge=1e-6,
        target_scaling="global",
        seed=0,
        shift_days=180,
        input_lags=64,
        snow_threshold=0.05,
        train_period=train,
        test_period=test,
        max_train_values=max_train_values,
    )
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": peak_rss_mb(),
        "median_r_swvl1": float(scores[0]["r"].median()),
    }


def phase_inputs(a) -> dict:
    """A fit_input_probe job (the linear probe of every target on the inputs_all lags) or, for
    phase `joint`, a fit_joint_probe job (on the cell state followed by those lags)."""
    from hydroprobe.io import open_zarr

    dataset = open_zarr(a.dataset)
    train, test = _halves(dataset)
    if a.phase == "joint":
        states = open_zarr(a.store)
        setting = dict(model="trained", features="cell+inputs_all", control="none")
    else:
        states, setting = None, dict(model="inputs", features="raw", control="inputs_all")
    jobs = [dict(seed=1, probe=a.probe, target=t, **setting) for t in TARGETS]
    return _timed_probe_jobs(dataset, states, jobs, train, test, a.max_train_values)


def write_inputs(dataset, seed: int = 1):
    """The four dynamic inputs on the targets' (basin, time), with swvl1 a response to the last
    days' rain (so the baseline has something to find), chunked as `basins.aggregate` writes them."""
    import xarray as xr

    from hydroprobe.basins.aggregate import TIME_CHUNK

    rng = np.random.default_rng(seed)
    shape = (dataset.sizes["basin"], dataset.sizes["time"])
    like = dataset["swvl1"].transpose("basin", "time")
    rain = rng.gamma(0.5, 4.0, shape).astype(np.float32)
    response = sum(0.8**k * np.pad(rain, ((0, 0), (k, 0)))[:, : shape[1]] for k in range(10))
    dataset["swvl1"] = like + float(like.std()) * response / response.std()
    for name, values in {
        "precipitation": rain,
        "pet": rng.random(shape).astype(np.float32),
        "peti": rng.random(shape).astype(np.float32),
        "temperature": rng.standard_normal(shape).astype(np.float32),
    }.items():
        dataset[name] = xr.DataArray(values, dims=("basin", "time"))
    chunks = {"basin": -1, "time": min(TIME_CHUNK, shape[1])}
    return dataset.chunk(chunks)


def run_case(a, store: Path, dataset: Path, src: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        [sys.executable, __file__, "--phase", a.job, "--store", str(store), "--dataset", str(dataset)]
        + ["--control", a.control, "--probe", a.probe]
        + ["--max-train-values", str(a.max_train_values)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--basins", type=int, default=200)
    p.add_argument("--days", type=int, default=8000)
    p.add_argument("--dims", type=int, default=64)
    p.add_argument("--control", default="none", choices=["none", "shuffle", "shift"])
    p.add_argument(
        "--job",
        default="job",
        choices=["job", "analysis", "series", "inputs", "joint"],
        help="a probe job, a state analysis, the series figures' predictions, a raw-input baseline "
        "job or a joint probe job",
    )
    p.add_argument("--probe", default="linear", choices=["linear", "linear_offsets", "sgd_elasticnet", "mlp"])
    p.add_argument(
        "--max-train-values",
        type=int,
        default=config_default("probes", "max_train_values"),
        help="probes.max_train_values (mlp, sgd_elasticnet; default: the config's)",
    )
    p.add_argument("--src", type=Path, action="append", default=[], help="another checkout's src")
    p.add_argument("--workdir", type=Path, default=None, help="keep the stores here (default: temporary)")
    p.add_argument("--phase", default=None)
    p.add_argument("--store")
    p.add_argument("--dataset")
    a = p.parse_args()
    if a.phase:
        phases = {
            "job": phase_job,
            "analysis": phase_analysis,
            "series": phase_series,
            "inputs": phase_inputs,
            "joint": phase_inputs,
        }
        print(json.dumps(phases[a.phase](a)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = a.workdir or Path(tmp)
        rows = []
        for days in (a.days, 2 * a.days):
            store, dataset = root / f"states_{days}.zarr", root / f"dataset_{days}.zarr"
            if not store.exists():
                targets, _ = write_store(store, a.basins, days, a.dims)
                write_inputs(targets).to_zarr(dataset, mode="w", consolidated=False)
            for src in [SRC, *a.src]:
                result = run_case(a, store, dataset, src)
                rows.append(
                    {
                        "src": str(src),
                        "days": days,
                        "rows_M": a.basins * days / 1e6,
                        "states_mb": a.basins * days * a.dims * 4 / 2**20,
                        **result,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
        print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
