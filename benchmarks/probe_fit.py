"""Benchmark: pooled linear probe on cell states stored as the workflow stores them.

Writes synthetic cell states (time, basin, dim) float32 to a temporary zarr store (chunks: all
times × 1 basin × all dims, as `hydroprobe.states.extract`), then, each phase in its own subprocess (so
that one phase's peak memory cannot mask another's), times:

- one plain read of the store (every chunk once, nothing else; block by block as zarr reads
  them concurrently: as fast as one `array[:]` here, twice as fast as xarray's dask `.load()`),
- the streaming fit of the pooled linear probe for 5 targets at once,
- scikit-learn's SGDRegressor as the paper used it (penalty="elasticnet", alpha=0.01,
  l1_ratio=0.15, early_stopping=True; one fit per target on the standardised data). Above
  `--sgd-max-rows` it is fitted on a random subsample and its time extrapolated linearly in rows
  (said so in the output; early stopping makes the epoch count depend on the data, so this is an
  estimate).

Read and fit are measured in `--repeats` alternating rounds and each reported by its best round
(shared machines are noisy: single rounds here vary by ±30 %), with the worst round's ratio too.

    python benchmarks/probe_fit.py --rows 4000000
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
from memory import current_rss_mb, peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

TARGETS = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]


def write_store(path: Path, n_basins: int, n_days: int, n_dims: int, seed: int = 0):
    """Synthetic states + targets; states written basin by basin, targets returned in memory."""
    import dask.array as da
    import xarray as xr
    import zarr

    rng = np.random.default_rng(seed)
    time_ = pd.date_range("1980-01-01", periods=n_days, freq="D")
    basins = np.arange(n_basins, dtype=np.int32)
    template = xr.Dataset(
        {
            "c": (
                ("time", "basin", "dim"),
                da.zeros((n_days, n_basins, n_dims), dtype=np.float32, chunks=(n_days, 1, n_dims)),
            )
        },
        coords={"time": time_, "basin": basins, "dim": np.arange(n_dims, dtype=np.int32)},
    )
    template.to_zarr(path, mode="w", compute=False, consolidated=False)
    arr = zarr.open_group(str(path), mode="r+")["c"]
    mixing = rng.standard_normal((len(TARGETS), n_dims))
    ys = np.empty((len(TARGETS), n_basins, n_days), dtype=np.float32)
    season = np.sin(2 * np.pi * np.arange(n_days) / 365.25)
    for b in range(n_basins):
        x = (rng.standard_normal((n_days, n_dims)) + season[:, None]).astype(np.float32)
        arr[:, b : b + 1, :] = x[:, None, :]
        ys[:, b] = (mixing @ x.T) + 0.1 * rng.standard_normal((len(TARGETS), n_days))
    ys[-1, : n_basins // 3] = np.nan  # snow: missing in a third of the basins (exercises the masking)
    targets = xr.Dataset(
        {name: (("basin", "time"), ys[k]) for k, name in enumerate(TARGETS)},
        coords={"basin": basins, "time": time_},
    )
    return targets, (str(time_[0].date()), str(time_[-1].date()))


def phase_read(a):
    from hydroprobe.probes.streaming import iter_blocks

    rss0 = current_rss_mb()
    t = time.perf_counter()
    total = 0
    for _, _, block in iter_blocks(a.store, "c", None, a.block_mb):
        total += block.size
    return {
        "seconds": time.perf_counter() - t,
        "gib": total * 4 / 2**30,
        "rss_before": rss0,
        "peak_rss": peak_rss_mb(),
    }


def phase_fit(a):
    import xarray as xr

    from hydroprobe.probes.streaming import fit_linear_probes_streaming

    targets = xr.load_dataset(a.targets)
    rss0 = current_rss_mb()
    t = time.perf_counter()
    probes = fit_linear_probes_streaming(
        a.store, targets, TARGETS, tuple(a.train), max_block_mb=a.block_mb, workers=a.workers
    )
    return {
        "seconds": time.perf_counter() - t,
        "rss_before": rss0,
        "peak_rss": peak_rss_mb(),
        "weights_swvl1": probes["swvl1"].weights.tolist(),
    }


def phase_sgd(a):
    import xarray as xr
    import zarr
    from sklearn.linear_model import SGDRegressor
    from sklearn.preprocessing import StandardScaler

    targets = xr.load_dataset(a.targets)
    arr = zarr.open_group(str(a.store), mode="r")["c"]
    x_all = arr[:].reshape(-1, arr.shape[-1])  # (time·basin, dim), rows as the targets below
    rows = x_all.shape[0]
    n_sgd = min(rows, a.sgd_max_rows)
    rng = np.random.default_rng(1)
    pick = np.sort(rng.choice(rows, n_sgd, replace=False)) if n_sgd < rows else slice(None)
    x = x_all[pick]
    del x_all
    out = {"rows": rows, "n_sgd": n_sgd, "per_target": {}}
    for name in TARGETS:
        y = targets[name].transpose("time", "basin").values.reshape(-1)[pick].astype(np.float64)
        ok = np.isfinite(y)
        t = time.perf_counter()
        z = StandardScaler().fit_transform(x[ok])  # the paper standardises, then fits
        zy = (y[ok] - y[ok].mean()) / y[ok].std()
        sgd = SGDRegressor(
            penalty="elasticnet", alpha=0.01, l1_ratio=0.15, early_stopping=True, random_state=0
        )
        sgd.fit(z, zy)
        sec = time.perf_counter() - t
        out["per_target"][name] = {"seconds": sec, "epochs": int(sgd.n_iter_), "rows": int(ok.sum())}
        if name == "swvl1":
            out["coef_swvl1"] = sgd.coef_.tolist()
        print(
            f"  SGD {name}: {sec:.2f} s on {int(ok.sum()):,} rows, {sgd.n_iter_} epochs",
            file=sys.stderr,
            flush=True,
        )
    out["peak_rss"] = peak_rss_mb()
    return out


def run_phase(phase, a):
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--store",
        str(a.store),
        "--targets",
        str(a.targets),
        "--train",
        *a.train,
        "--block-mb",
        str(a.block_mb),
        "--sgd-max-rows",
        str(a.sgd_max_rows),
        "--workers",
        str(a.workers or 0),
    ]
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4_000_000, help="total rows = basins × days")
    ap.add_argument("--basins", type=int, default=670)
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument(
        "--sgd-max-rows",
        type=int,
        default=1_000_000,
        help="fit SGDRegressor on at most this many rows, extrapolate linearly above",
    )
    ap.add_argument("--block-mb", type=float, default=32.0)
    ap.add_argument("--workers", type=int, default=0, help="threads of the streaming fit (0: its default)")
    ap.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="rounds of (plain read, streaming fit); each reported as its best round",
    )
    ap.add_argument("--skip-sgd", action="store_true")
    ap.add_argument("--phase", choices=["read", "fit", "sgd"], help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    ap.add_argument("--targets", help=argparse.SUPPRESS)
    ap.add_argument("--train", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.phase:
        print(json.dumps({"read": phase_read, "fit": phase_fit, "sgd": phase_sgd}[a.phase](a)))
        return

    n_days = max(1, a.rows // a.basins)
    rows = n_days * a.basins
    print(
        f"states: {a.basins} basins × {n_days} days = {rows:,} rows × {a.dims} dims (float32); "
        f"load: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        a.store, a.targets = Path(tmp) / "states.zarr", Path(tmp) / "targets.nc"
        t = time.perf_counter()
        targets, a.train = write_store(a.store, a.basins, n_days, a.dims)
        targets.to_netcdf(a.targets)
        del targets
        print(f"write store: {time.perf_counter() - t:.2f} s")

        rounds = [(run_phase("read", a), run_phase("fit", a)) for _ in range(max(1, a.repeats))]
        rd = min((r for r, _ in rounds), key=lambda r: r["seconds"])
        ft = min((f for _, f in rounds), key=lambda f: f["seconds"])
        each = lambda i: ", ".join(f"{r[i]['seconds']:.2f}" for r in rounds)  # noqa: E731
        print(
            f"plain read of the store: {rd['seconds']:.2f} s ({rd['gib']:.2f} GiB; rounds: {each(0)} s); "
            f"peak RSS {rd['peak_rss']:.0f} MiB (after imports {rd['rss_before']:.0f} MiB)"
        )
        print(
            f"streaming fit, {len(TARGETS)} targets in one pass: {ft['seconds']:.2f} s (rounds: {each(1)} s); "
            f"peak RSS {ft['peak_rss']:.0f} MiB (after imports + targets {ft['rss_before']:.0f} MiB; "
            f"store {rows * a.dims * 4 / 2**20:.0f} MiB, block {a.block_mb:g} MiB)"
        )
        worst = max(f["seconds"] / r["seconds"] for r, f in rounds)
        print(
            f"ratio streaming fit / plain read: {ft['seconds'] / rd['seconds']:.2f} best of {len(rounds)} "
            f"(worst round {worst:.2f})  (target ≤ 2)"
        )
        if a.skip_sgd:
            return
        sg = run_phase("sgd", a)
        scale = sg["rows"] / sg["n_sgd"]
        t_sgd = sum(v["seconds"] for v in sg["per_target"].values()) * scale
        note = (
            ""
            if scale == 1
            else f" (each fitted on a {sg['n_sgd']:,}-row random subsample, time extrapolated linearly ×{scale:.2f})"
        )
        print(
            f"SGDRegressor (paper's settings), {len(TARGETS)} targets: {t_sgd:.2f} s{note}; "
            f"peak RSS {sg['peak_rss']:.0f} MiB"
        )
        print(
            f"ratio SGD / streaming fit ({len(TARGETS)} targets each): {t_sgd / ft['seconds']:.1f}×  (target ≥ 20)"
        )
        w, c = np.array(ft["weights_swvl1"]), np.array(sg["coef_swvl1"])
        print(f"check: r(streamed weights, SGD coef) for swvl1 = {np.corrcoef(w, c)[0, 1]:.4f}")
        print(f"load at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
