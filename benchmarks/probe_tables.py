"""Benchmark: the probe tables of rule summarise_probes at the size of a large run.

Builds a per-basin score table like probe_scores.csv (random r, a few basins without variance so
groups differ in size) with one row per basin for every (seed, model/control, probe, target,
features), then times the summary with its bootstrap intervals, the selectivity table with its
paired tests, and the ensemble table. The defaults give 670 basins × 1,280 summary rows (8 seeds,
4 probe kinds, 5 targets, 2 feature sets, trained/untrained/shuffle/shift).

    python benchmarks/probe_tables.py --basins 670 --seeds 8 --draws 2000
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd

from hydroprobe.probes.job import PROBE_KEYS
from hydroprobe.report.tables import probe_ensemble_table, probe_selectivity_table, summarise_probe_scores
from hydroprobe.report.uncertainty import bootstrap_median_intervals

SETTINGS = [("trained", "none"), ("untrained", "none"), ("trained", "shuffle"), ("trained", "shift")]
PROBES = ["linear", "linear_offsets", "mlp", "sgd_elasticnet"]
TARGETS = ["swvl1", "swvl2", "swvl3", "swvl4", "sd"]
FEATURES = ["cell", "hidden"]


def score_table(n_basins: int, n_seeds: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    basins = np.arange(n_basins)
    jobs = []
    for s, (model, control), probe, target, features in itertools.product(
        range(1, n_seeds + 1), SETTINGS, PROBES, TARGETS, FEATURES
    ):
        r = np.clip(rng.normal(0.8 if control == "none" else 0.5, 0.15, n_basins), -1, 1)
        status = np.where(rng.random(n_basins) < 0.01, "no_variance", "ok")
        r[status != "ok"] = np.nan
        jobs.append(
            pd.DataFrame(
                {
                    "seed": s,
                    "model": model,
                    "probe": probe,
                    "control": control,
                    "target": target,
                    "features": features,
                    "subset": "all",
                    "basin": basins,
                    "status": status,
                    "r": r,
                    "r2": r * r,
                    "nse": r - 0.3,
                }
            )
        )
    return pd.concat(jobs, ignore_index=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basins", type=int, default=670)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    scores = score_table(args.basins, args.seeds)
    bootstrap = {"draws": args.draws, "seed": 0, "confidence": 0.95}
    print(f"{len(scores):,} per-basin scores, {args.basins} basins, {args.draws} draws")
    print("wall s, CPU s (the CPU time is the steadier figure on a shared machine)")
    summary, took = timed(summarise_probe_scores, scores, bootstrap)
    print(f"summary:     {len(summary):5d} rows, 2 intervals each        {took}")
    groups = [g["r"].dropna().to_numpy() for _, g in scores.groupby(PROBE_KEYS)]
    _, took = timed(bootstrap_median_intervals, groups, **bootstrap)
    print(f"  of which the bootstrap of r over {len(groups)} rows           {took}")
    (_, selectivity), took = timed(probe_selectivity_table, scores, bootstrap)
    print(f"selectivity: {len(selectivity):5d} rows, 1 interval + Wilcoxon   {took}")
    _, took = timed(probe_ensemble_table, summary)
    print(f"ensemble:                                          {took}")


def timed(function, *args, **kwargs):
    """The function's result and its wall and CPU seconds, formatted."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, f"{time.perf_counter() - wall:6.2f} s, {time.process_time() - cpu:6.2f} s CPU"


if __name__ == "__main__":
    main()
