"""Cell states of a trained (or untrained) LSTM, sequence-to-one, streamed to zarr (contract §4).

For every basin and day t of the union of the periods, c_t is the cell state after the last step
of the ``seq_length``-day window ending at t, run from a zero initial state. Windows are batched
thousands per forward pass in ``torch.inference_mode`` (full batches across basin boundaries, each
window fed a few dozen days at a time with the state carried over); the normalised inputs are
built for a group of basins at a time; the states of one basin at a time are written into a
temporary zarr store, moved into place when complete. Peak memory therefore does not grow with
the number of basins nor (beyond one basin's output block) with the period length.
Incomplete windows → NaN.

The same pass also yields the hidden state h_t and the model's prediction of its target at t
(the head applied to h_t, in original units), so discharge skill needs no second pass.

``mode="continuous"`` instead runs each basin's series once, day by day with the state carried
over (``hydroprobe.states.continuous``): ``seq_length`` times fewer LSTM steps, and a state that
remembers beyond one window. Same store layout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import torch
import xarray as xr
import zarr

from hydroprobe.errors import InputDataError
from hydroprobe.forked import run_forked
from hydroprobe.io import atomic_output
from hydroprobe.model.device import configure_cpu, resolve_device
from hydroprobe.model.normalisation import Normalisation
from hydroprobe.periods import in_periods
from hydroprobe.states.continuous import continuous_states
from hydroprobe.states.inference import (
    final_states_streamed,
    iter_window_batches,
    load_model,
    window_data_for,
)

#: normalised inputs of at most about this many bytes are built at once (a group of basins)
INPUT_GROUP_BYTES = 64 * 2**20
#: the continuous mode holds a group's c and h over the whole period: at most about this many
#: bytes. It steps day by day, and a step's cost hardly grows with the basins it carries (one
#: step of 40 basins costs what one of 10 does on a CPU), so the larger the group the faster.
CONTINUOUS_GROUP_BYTES = 256 * 2**20
#: days of a window fed to the LSTM per call (state carried over)
STEP_CHUNK = 32
#: how each day's state is obtained: its own zero-state window, or one pass over the series
MODES = {
    "window": "LSTM cell state after the last step of the seq_length-day window ending at each "
    "day, from a zero initial state",
    "continuous": "LSTM cell state at each day of one pass over the basin's series, from a zero "
    "state seq_length days before the first day (restarted after a gap in the inputs)",
}


def extract_cell_states(
    checkpoint_path: str | os.PathLike,
    dataset: xr.Dataset,
    periods: Sequence[Sequence[str]],
    out_path: str | os.PathLike,
    batch_windows: int,
    threads: int | None = None,
    device: str | torch.device | None = "auto",
    mode: str = "window",
) -> Path:
    """Write ``c`` and ``h`` float32 (time, basin, dim) and ``<target>_sim`` (time, basin) to the
    zarr store ``out_path`` for the days of ``periods`` (inclusive (start, end) pairs, their
    union); returns the path. ``mode``: "window" (each day's state from its own window, the
    paper's definition) or "continuous" (one pass per basin). ``threads``: torch's threads, or,
    in the window mode on a CPU, that many forked processes each on its own share of the basins
    (``window_workers``); the states do not depend on it."""
    if mode not in MODES:
        raise InputDataError(f"config key 'states.mode': {mode!r} is not one of {sorted(MODES)}")
    if not periods:
        raise InputDataError("extract_cell_states needs at least one period")
    device = resolve_device(device)
    workers = prepare_workers(threads, device, mode, dataset.sizes["basin"])
    model, ckpt = load_model(checkpoint_path, device)
    seq_length = int(ckpt["model_config"]["seq_length"])
    hidden = int(ckpt["model_config"]["hidden_size"])
    start = min(pd.Timestamp(p[0]) for p in periods)
    end = max(pd.Timestamp(p[1]) for p in periods)
    basins = np.asarray(dataset["basin"].values)
    if workers > 1:
        dataset = dataset.load()  # read here, once: the workers share it (no reader state forked)
    n_inputs = int(ckpt["model_config"]["n_inputs"])

    def group_inputs(first: int, stop: int):
        """The normalised inputs of basins first…stop−1 (positions in the dataset)."""
        return window_data_for(dataset.isel(basin=slice(first, stop)), ckpt, start, end)

    first_inputs = group_inputs(0, 1)
    keep = in_periods(first_inputs.times, periods)
    if not keep.any():
        raise InputDataError(f"no day of the dataset lies in the periods {periods}")
    end_idx = torch.from_numpy(np.flatnonzero(keep))
    times = first_inputs.times[keep]
    n_t, n_b = len(times), len(basins)
    basins_per_group = max(1, int(INPUT_GROUP_BYTES // max(1, len(first_inputs.times) * n_inputs * 4)))
    del first_inputs
    norm = Normalisation.from_dict(ckpt["normalisation"])
    sim_name = f"{ckpt['model_config']['target']}_sim"

    def all_nan(*shape):
        return da.full((n_t, n_b) + shape, np.nan, dtype=np.float32, chunks=(n_t, 1) + shape)

    template = xr.Dataset(
        {
            "c": (("time", "basin", "dim"), all_nan(hidden)),
            "h": (("time", "basin", "dim"), all_nan(hidden)),
            sim_name: (("time", "basin"), all_nan()),
        },
        coords={
            "time": times.values,
            "basin": basins.astype(np.int32),
            "dim": np.arange(hidden, dtype=np.int32),
        },
        attrs={
            "checkpoint": str(checkpoint_path),
            "seed": int(ckpt["seed"]),
            "seq_length": seq_length,
            "mode": mode,
            "description": MODES[mode],
        },
    )
    clip_at_zero = bool(ckpt["model_config"]["clip_target_at_zero"])

    def in_target_units(h_n: torch.Tensor) -> np.ndarray:
        y = model.head(h_n).squeeze(-1).float().cpu().numpy()
        y = y * norm.target_std + norm.target_mean
        return np.maximum(y, 0.0) if clip_at_zero else y

    def continuous_into(store) -> None:
        # a group's outputs (time, basin, dim), c and h, stay under CONTINUOUS_GROUP_BYTES
        group = max(1, min(basins_per_group, int(CONTINUOUS_GROUP_BYTES // max(1, n_t * hidden * 8))))
        for lo in range(0, n_b, group):
            hi = min(n_b, lo + group)
            data = group_inputs(lo, hi)
            c, h, ok = continuous_states(model, data, seq_length, end_idx, device)
            y = in_target_units(torch.from_numpy(h).to(device))
            nan = ~ok  # (time, basin): no complete spin-up behind the day
            c[nan], h[nan], y[nan] = np.nan, np.nan, np.nan
            store["c"][:, lo:hi] = c
            store["h"][:, lo:hi] = h
            store[sim_name][:, lo:hi] = y

    def windows_into(store, first: int, stop: int) -> None:
        """The window states of basins first…stop−1, written one basin at a time (a basin's
        chunk is its own: workers on other basins never write it)."""
        blocks = {
            "c": np.full((n_t, hidden), np.nan, dtype=np.float32),
            "h": np.full((n_t, hidden), np.nan, dtype=np.float32),
            sim_name: np.full(n_t, np.nan, dtype=np.float32),
        }
        current_basin = -1

        def write_basin(i: int) -> None:
            for name, block in blocks.items():
                store[name][:, i : i + 1] = block[:, None]
                block.fill(np.nan)

        for group_start in range(first, stop, basins_per_group):
            data = group_inputs(group_start, min(stop, group_start + basins_per_group))
            x = data.x.to(device)  # ≤ INPUT_GROUP_BYTES; on a GPU, windows are gathered there
            for basin_idx, pos in iter_window_batches(data, seq_length, end_idx, batch_windows):
                h_n, c_n = final_states_streamed(
                    model, x, basin_idx, end_idx[pos], seq_length, device, STEP_CHUNK
                )
                c = c_n.float().cpu().numpy()
                h = h_n.float().cpu().numpy()
                y = in_target_units(h_n)
                batch_basins, rows = basin_idx.numpy(), pos.numpy()
                cuts = [0, *(np.flatnonzero(np.diff(batch_basins)) + 1).tolist(), len(batch_basins)]
                for lo, hi in zip(cuts[:-1], cuts[1:]):
                    i = group_start + int(batch_basins[lo])
                    if i != current_basin:
                        if current_basin >= 0:
                            write_basin(current_basin)
                        # basins without any complete window stay at the NaN fill value
                        current_basin = i
                    blocks["c"][rows[lo:hi]] = c[lo:hi]
                    blocks["h"][rows[lo:hi]] = h[lo:hi]
                    blocks[sim_name][rows[lo:hi]] = y[lo:hi]
            del data, x
        if current_basin >= 0:
            write_basin(current_basin)

    with atomic_output(out_path) as tmp:
        template.to_zarr(tmp, mode="w", compute=False, consolidated=False)

        def fill(part: tuple[int, int]) -> None:
            # each worker opens the store itself: nothing of a zarr handle crosses the fork
            with torch.inference_mode():
                store = zarr.open_group(str(tmp), mode="r+")
                if mode == "window":
                    windows_into(store, *part)
                else:
                    continuous_into(store)

        run_forked(fill, basin_parts(n_b, workers))
    return Path(out_path)


def window_workers(threads: int | None, device: torch.device, mode: str) -> int:
    """How many processes share a window-mode extraction: one per thread on a CPU. A window
    batch's LSTM steps are small matrix products (windows × hidden by hidden × 4·hidden) that a
    CPU's threads share badly (two threads: 1.4× one); one process per core, each on its own
    basins, scales with the cores. The continuous mode's day-by-day pass and a GPU: one; and
    one where processes are not forked by default (macOS, Windows: fork is unsafe or absent)."""
    if device.type != "cpu" or mode != "window" or not sys.platform.startswith("linux"):
        return 1
    return max(1, int(threads or 1))


def prepare_workers(threads: int | None, device: torch.device, mode: str, n_basins: int) -> int:
    """The processes an extraction of `n_basins` runs on (`window_workers`, at most one a basin),
    torch set up for them: single-threaded when several share the cores, else `threads`."""
    workers = min(window_workers(threads, device, mode), max(1, n_basins))
    configure_cpu(1 if workers > 1 else threads)
    return workers


def basin_parts(n_basins: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous (first, stop) basin ranges of near-equal size, one per worker."""
    edges = np.linspace(0, n_basins, max(1, workers) + 1).round().astype(int)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
