"""Smoke test of a benchmark script at a tiny size: it runs end to end and its fits agree."""

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_probe_fit_benchmark_runs_and_its_two_fits_agree():
    out = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "probe_fit.py"),
            "--rows",
            "6000",
            "--basins",
            "6",
            "--repeats",
            "1",
            "--sgd-max-rows",
            "3000",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert re.search(r"ratio streaming fit / plain read: \d+\.\d+ best of 1", out), out
    assert re.search(r"ratio SGD / streaming fit \(5 targets each\): \d+\.\d×", out), out
    r = float(re.search(r"r\(streamed weights, SGD coef\) for swvl1 = (-?\d\.\d+)", out).group(1))
    assert r > 0.99, out  # the paper's SGD and the closed form find the same direction
