"""Continuous-mode extraction: how the basins carried per LSTM step set its speed.

The continuous mode steps day by day through a group of basins' series. On a finished run (seed
1's trained model, an evenly spaced sample of `--basins` basins), the states are extracted with the
group budget at `--small-mb` (the former 64 MB: ~10 basins a group over the paper's periods) and at
the current `CONTINUOUS_GROUP_BYTES`; prints both times, the basins per group, the ratio and the
largest difference between the two stores (zero: the grouping changes nothing but speed).

    python benchmarks/continuous_groups.py --run-dir RUN --configfile RUN/config.yaml \
        configs/scale_gb.yaml --basins 160
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hydroprobe.io import open_zarr
from hydroprobe.model.device import configure_cpu
from hydroprobe.states import extract

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extraction_modes import run_config, sampled_dataset  # noqa: E402  (benchmarks/ is not a package)


def timed_extraction(checkpoint, dataset, periods, out: Path, group_bytes: int, threads: int):
    """Seconds of one continuous-mode extraction with the group budget `group_bytes`, its store."""
    extract.CONTINUOUS_GROUP_BYTES = group_bytes
    tic = time.perf_counter()
    path = extract.extract_cell_states(checkpoint, dataset, periods, out, 1024, threads, "cpu", "continuous")
    return time.perf_counter() - tic, open_zarr(path).load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=".", type=Path)
    parser.add_argument("--configfile", nargs="+", default=["config.yaml"], help="merged in order")
    parser.add_argument("--basins", type=int, default=None, help="an evenly spaced sample of basins")
    parser.add_argument("--small-mb", type=float, default=64)
    parser.add_argument("--threads", default=2, type=int)
    args = parser.parse_args()
    config = run_config(args.run_dir, args.configfile)
    checkpoint = args.run_dir / "results" / "models" / "seed1" / "trained.pt"
    dataset = sampled_dataset(args.run_dir, args.basins)
    periods = [config["periods"][name] for name in ("train", "validation", "test")]
    configure_cpu(args.threads)
    current = extract.CONTINUOUS_GROUP_BYTES
    with tempfile.TemporaryDirectory() as scratch:
        small_s, small = timed_extraction(
            checkpoint,
            dataset,
            periods,
            Path(scratch) / "small.zarr",
            int(args.small_mb * 2**20),
            args.threads,
        )
        large_s, large = timed_extraction(
            checkpoint, dataset, periods, Path(scratch) / "large.zarr", current, args.threads
        )
    n_t, hidden = large.sizes["time"], large.sizes["dim"]
    for label, budget, seconds in (("small", args.small_mb * 2**20, small_s), ("current", current, large_s)):
        per_group = max(1, int(budget // (n_t * hidden * 8)))
        print(f"{label:8s} {budget / 2**20:5.0f} MB a group: {per_group:4d} basins a group, {seconds:7.1f} s")
    print(f"{dataset.sizes['basin']} basins x {n_t} days, {args.threads} threads")
    print(f"ratio small / current: {small_s / large_s:.1f}")
    diff = np.nanmax(np.abs(small["c"].values - large["c"].values))
    print(f"max |c difference| between the two: {diff:.2e}")


if __name__ == "__main__":
    main()
