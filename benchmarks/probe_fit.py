"""Benchmark: pooled linear probe on cell states stored as the workflow stores them.

Writes synthetic cell states (time, basin, dim) float32 to a temporary zarr store (chunks: all
times × 1 basin × all dims, as `hydroprobe.states`), then times one plain read of the store, the
streaming fit of 5 targets at once, and scikit-learn's SGDRegressor as the paper used it.

    python benchmarks/probe_fit.py --rows 1000000
"""
from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr

from hydroprobe.probe_streaming import fit_linear_probes_streaming, iter_blocks

TARGETS = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_store(path: Path, n_basins: int, n_days: int, n_dims: int, seed: int = 0):
    """Synthetic states + targets; states written basin by basin, targets returned in memory."""
    rng = np.random.default_rng(seed)
    time_ = pd.date_range("1980-01-01", periods=n_days, freq="D")
    basins = np.arange(n_basins, dtype=np.int32)
    template = xr.Dataset(
        {"c": (("time", "basin", "dim"),
               __import__("dask.array").array.zeros((n_days, n_basins, n_dims), dtype=np.float32,
                                                   chunks=(n_days, 1, n_dims)))},
        coords={"time": time_, "basin": basins, "dim": np.arange(n_dims, dtype=np.int32)})
    template.to_zarr(path, mode="w", compute=False, consolidated=False)
    arr = zarr.open_group(str(path), mode="r+")["c"]
    mixing = rng.standard_normal((len(TARGETS), n_dims))
    ys = np.empty((len(TARGETS), n_basins, n_days), dtype=np.float32)
    season = np.sin(2 * np.pi * np.arange(n_days) / 365.25)
    for b in range(n_basins):
        x = (rng.standard_normal((n_days, n_dims)) + season[:, None]).astype(np.float32)
        arr[:, b : b + 1, :] = x[:, None, :]
        ys[:, b] = (mixing @ x.T) + 0.1 * rng.standard_normal((len(TARGETS), n_days))
    targets = xr.Dataset({name: (("basin", "time"), ys[k]) for k, name in enumerate(TARGETS)},
                         coords={"basin": basins, "time": time_})
    return targets, (str(time_[0].date()), str(time_[-1].date()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4_000_000, help="total rows = basins × days")
    ap.add_argument("--basins", type=int, default=670)
    ap.add_argument("--dims", type=int, default=64)
    ap.add_argument("--sgd-max-rows", type=int, default=1_000_000,
                    help="fit SGDRegressor on at most this many rows, extrapolate linearly above")
    ap.add_argument("--block-mb", type=float, default=32.0)
    args = ap.parse_args(argv)
    n_days = max(1, args.rows // args.basins)
    rows = n_days * args.basins
    print(f"states: {args.basins} basins × {n_days} days = {rows:,} rows × {args.dims} dims (float32)")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "states.zarr"
        t = time.perf_counter()
        targets, train = write_store(store, args.basins, n_days, args.dims)
        print(f"write store: {time.perf_counter() - t:.2f} s; peak RSS after write {peak_rss_mb():.0f} MiB")
        rss0 = peak_rss_mb()

        t = time.perf_counter()
        total = 0
        for _, _, block in iter_blocks(store, "c", None, args.block_mb):
            total += block.size
        t_read = time.perf_counter() - t
        print(f"plain read of the store: {t_read:.2f} s ({total * 4 / 2**30:.2f} GiB)")

        t = time.perf_counter()
        probes = fit_linear_probes_streaming(store, targets, TARGETS, train, max_block_mb=args.block_mb)
        t_stream = time.perf_counter() - t
        print(f"streaming fit, {len(TARGETS)} targets in one pass: {t_stream:.2f} s "
              f"({t_stream / t_read:.2f}× the plain read); peak RSS {peak_rss_mb():.0f} MiB "
              f"(before read/fit {rss0:.0f} MiB)")

        from sklearn.linear_model import SGDRegressor
        from sklearn.preprocessing import StandardScaler

        n_sgd = min(rows, args.sgd_max_rows)
        rng = np.random.default_rng(1)
        x_all = xr.open_zarr(store, consolidated=False)["c"].values.reshape(-1, args.dims)
        pick = np.sort(rng.choice(rows, n_sgd, replace=False)) if n_sgd < rows else slice(None)
        x = x_all[pick]
        y = targets["swvl1"].transpose("time", "basin").values.reshape(-1)[pick]
        del x_all
        t = time.perf_counter()
        z = StandardScaler().fit_transform(x)
        zy = (y - y.mean()) / y.std()
        sgd = SGDRegressor(penalty="elasticnet", alpha=0.01, l1_ratio=0.15, early_stopping=True, random_state=0)
        sgd.fit(z, zy)
        t_sgd = time.perf_counter() - t
        scale = rows / n_sgd
        t_sgd_full = t_sgd * scale
        note = "" if n_sgd == rows else f" (fitted on {n_sgd:,} rows, extrapolated linearly ×{scale:.2f})"
        print(f"SGDRegressor (paper's settings), 1 target: {t_sgd:.2f} s on {n_sgd:,} rows, "
              f"{sgd.n_iter_} epochs → {t_sgd_full:.2f} s for all rows{note}")
        print(f"SGDRegressor, {len(TARGETS)} targets: {t_sgd_full * len(TARGETS):.2f} s")
        print(f"ratio SGD ({len(TARGETS)} targets) / streaming ({len(TARGETS)} targets): "
              f"{t_sgd_full * len(TARGETS) / t_stream:.1f}×; per target: {t_sgd_full / t_stream:.1f}× "
              f"(SGD 1 target vs streaming all 5)")
        print(f"ratio streaming / plain read: {t_stream / t_read:.2f}")
        w = probes["swvl1"].weights
        print(f"check: r(streamed weights, SGD coef) = {np.corrcoef(w, sgd.coef_)[0, 1]:.4f}")
        print(f"peak RSS (whole run, includes SGD's in-memory copy): {peak_rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
