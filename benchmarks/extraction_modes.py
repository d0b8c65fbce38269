"""Extraction: the paper's window mode against the continuous mode and the raw inference limit.

On a finished run (default: the current folder, seed 1), the trained LSTM's states are extracted
in both modes (``states.mode``), and the pure ``nn.LSTM`` forward over the same windows is timed
(no gathering, no writing: the limit of the window mode; on as many processes as the window
mode shares its basins over, one a thread). Then how far the modes differ: max and
median |Δc| over the test period, and the pooled linear probe's median r per store under each.

    snakemake --cores 2 && python benchmarks/extraction_modes.py

A run made with overlays names them in order, as snakemake merged them; ``--basins N`` measures an
evenly spaced sample of N basins (the rate extrapolates to the rest: every basin-day costs the same
steps), e.g. the Great-Britain rehearsal:

    python benchmarks/extraction_modes.py --run-dir RUN --configfile config.yaml \
        configs/scale_gb.yaml --basins 12
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
import yaml
from snakemake.utils import update_config

from hydroprobe.config import validate_config
from hydroprobe.forked import run_forked
from hydroprobe.io import open_zarr
from hydroprobe.model.windows import gather_windows
from hydroprobe.periods import in_periods
from hydroprobe.probes.job import run_probe_job
from hydroprobe.states.extract import STEP_CHUNK, basin_parts, extract_cell_states, prepare_workers
from hydroprobe.states.inference import iter_window_batches, load_model, window_data_for


def run_config(run_dir: Path, configfiles) -> dict:
    """A finished run's config: its config files merged in order, as snakemake merged them (each
    looked for in the run folder first, then where given)."""
    merged: dict = {}
    for name in configfiles:
        path = run_dir / name if (run_dir / name).exists() else Path(name)
        update_config(merged, yaml.safe_load(path.read_text()))
    return validate_config(merged)


def sampled_dataset(run_dir: Path, basins: int | None) -> xr.Dataset:
    """The run's basin dataset in memory: every basin, or an evenly spaced sample of `basins`."""
    dataset = open_zarr(run_dir / "results" / "basin_dataset.zarr")
    if basins:
        every = np.linspace(0, dataset.sizes["basin"] - 1, basins).round().astype(int)
        dataset = dataset.isel(basin=np.unique(every))
    return dataset.load()


def raw_forward_seconds(
    checkpoint: Path, dataset: xr.Dataset, periods, batch_windows: int, threads: int
) -> float:
    """Seconds spent in ``nn.LSTM`` forwards over every complete window of ``periods`` (whole
    windows, one call per batch; the gathering of the inputs is not counted), shared as the
    window mode shares them: over ``prepare_workers`` processes, each on its own basins, the
    slowest one's seconds."""
    workers = prepare_workers(threads, torch.device("cpu"), "window", dataset.sizes["basin"])
    model, ckpt = load_model(checkpoint, "cpu")
    seq_length = int(ckpt["model_config"]["seq_length"])
    start = min(pd.Timestamp(p[0]) for p in periods)
    end = max(pd.Timestamp(p[1]) for p in periods)

    with tempfile.TemporaryDirectory() as scratch:

        def forwards(part: tuple[int, int]) -> None:
            data = window_data_for(dataset.isel(basin=slice(*part)), ckpt, start, end)
            end_idx = torch.from_numpy(np.flatnonzero(in_periods(data.times, periods)))
            seconds = 0.0
            with torch.inference_mode():
                for basin_idx, pos in iter_window_batches(data, seq_length, end_idx, batch_windows):
                    xb = gather_windows(data.x, basin_idx, end_idx[pos], seq_length)
                    tic = time.perf_counter()
                    model.lstm(xb)
                    seconds += time.perf_counter() - tic
            (Path(scratch) / f"{part[0]}").write_text(str(seconds))

        run_forked(forwards, basin_parts(dataset.sizes["basin"], workers))
        return max(float(f.read_text()) for f in Path(scratch).iterdir())


def probe_medians(dataset: xr.Dataset, states: xr.Dataset, config: dict) -> pd.Series:
    """Median r over basins of the pooled linear probe on c, per target (test period)."""
    probes = config["probes"]
    medians = {}
    for target in probes["targets"]:
        job = dict(model="trained", seed="1", features="cell", probe="linear", control="none", target=target)
        scores = run_probe_job(
            dataset,
            states,
            job,
            ridge=probes["ridge"],
            target_scaling=probes["target_scaling"],
            seed=probes["seed"],
            shift_days=probes["shift_days"],
            input_lags=probes["input_lags"],
            snow_threshold=probes["snow_threshold"],
            train_period=config["periods"]["train"],
            test_period=config["periods"]["test"],
        )
        scored = scores[(scores["subset"] == "all") & (scores["status"] == "ok")]  # not the snow rows again
        medians[target] = scored["r"].median()
    return pd.Series(medians)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=".", type=Path)
    parser.add_argument("--configfile", nargs="+", default=["config.yaml"], help="merged in order")
    parser.add_argument("--basins", type=int, default=None, help="an evenly spaced sample of basins")
    parser.add_argument("--seed", default=1, type=int)
    parser.add_argument("--threads", default=2, type=int)
    args = parser.parse_args()
    run = args.run_dir
    config = run_config(run, args.configfile)
    checkpoint = run / "results" / "models" / f"seed{args.seed}" / "trained.pt"
    dataset = sampled_dataset(run, args.basins)
    periods = [config["periods"][name] for name in ("train", "validation", "test")]
    batch_windows = config["states"]["batch_windows"]

    seconds, stores = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in ("window", "continuous"):
            tic = time.perf_counter()
            path = extract_cell_states(
                checkpoint,
                dataset,
                periods,
                Path(scratch) / f"{mode}.zarr",
                batch_windows,
                args.threads,
                "cpu",
                mode,
            )
            seconds[mode] = time.perf_counter() - tic
            stores[mode] = open_zarr(path).load()
    limit = raw_forward_seconds(checkpoint, dataset, periods, batch_windows, args.threads)

    n_windows = int(np.isfinite(stores["window"]["c"].values[..., 0]).sum())
    print(
        f"{dataset.sizes['basin']} basins, {n_windows} basin-days, seq_length {stores['window'].attrs['seq_length']}, {args.threads} threads"
    )
    print(f"window mode     {seconds['window']:7.2f} s  ({n_windows / seconds['window']:,.0f} states/s)")
    print(
        f"nn.LSTM forward {limit:7.2f} s  over the same windows (the limit, step chunk {STEP_CHUNK} not used)"
    )
    print(f"continuous mode {seconds['continuous']:7.2f} s")
    print(f"ratio window / raw forward: {seconds['window'] / limit:.2f}")
    print(f"ratio window / continuous:  {seconds['window'] / seconds['continuous']:.1f}")

    test = slice(*config["periods"]["test"])
    c_w = stores["window"]["c"].sel(time=test).values
    c_c = stores["continuous"]["c"].sel(time=test).values
    diff = np.abs(c_w - c_c)
    print(
        f"|Δc| over the test period: max {np.nanmax(diff):.3g}, median {np.nanmedian(diff):.3g}, "
        f"99th percentile {np.nanpercentile(diff, 99):.3g} (median |c| {np.nanmedian(np.abs(c_w)):.3g})"
    )
    table = pd.DataFrame({mode: probe_medians(dataset, stores[mode], config) for mode in stores})
    table["difference"] = table["continuous"] - table["window"]
    print("median probe r per store (trained, linear, test period):")
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
