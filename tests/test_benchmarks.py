"""Smoke test of a benchmark script at a tiny size: it runs end to end and its fits agree."""

import importlib.util
import json
import re
import subprocess
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stage_table = _load_benchmark("stage_table").stage_table


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


def _write_benchmark(path: Path, seconds: float, rss_mb: float, cpu_s: float, pss_mb: float = 1.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        f"{seconds}\t0:00:01\t{rss_mb}\t1\t1\t{pss_mb}\t0\t0\t50\t{cpu_s}\n"
    )


def _write_record(run_dir: Path, output: str, rule: str, max_len: int = 255) -> None:
    """A Snakemake metadata record, split into '@' folders the way Snakemake splits long names."""
    encoded = urlsafe_b64encode(output.encode()).decode()
    parts = [encoded[i : i + max_len - 1] for i in range(0, len(encoded), max_len - 1)]
    record = run_dir / ".snakemake" / "metadata" / Path(*["@" + p for p in parts[:-1]], parts[-1])
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"rule": rule}))


def test_stage_table_sums_jobs_time_memory_and_output_size_per_rule(tmp_path):
    bench = tmp_path / "results" / "benchmarks"
    _write_benchmark(bench / "train_lstm" / "seed1.tsv", 10.0, 900.0, 9.5)
    _write_benchmark(bench / "train_lstm" / "seed2.tsv", 12.0, 950.0, 11.5, pss_mb=870.0)
    _write_benchmark(bench / "summarise_probes.tsv", 1.0, 80.0, 0.5)
    (tmp_path / "results" / "models" / "seed1").mkdir(parents=True)
    (tmp_path / "results" / "models" / "seed1" / "trained.pt").write_bytes(b"x" * 2**20)
    long_name = "results/" + "/".join(["d" * 60] * 3) + "/probe_summary.csv"  # a record split into folders
    (tmp_path / long_name).parent.mkdir(parents=True)
    (tmp_path / long_name).write_bytes(b"y" * 2**19)
    _write_record(tmp_path, "results/models/seed1/trained.pt", "train_lstm")
    _write_record(tmp_path, long_name, "summarise_probes", max_len=40)

    table = stage_table(tmp_path).set_index("rule")

    assert table.loc["train_lstm", "jobs"] == 2
    assert table.loc["train_lstm", "wall_s_total"] == 22.0
    assert table.loc["train_lstm", "wall_s_max"] == 12.0
    assert table.loc["train_lstm", "cpu_s_total"] == 21.0
    assert table.loc["train_lstm", "max_rss_mb"] == 950.0
    assert table.loc["train_lstm", "max_pss_mb"] == 870.0
    assert table.loc["train_lstm", "output_mb"] == 1.0
    assert table.loc["summarise_probes", "output_mb"] == 0.5
    assert table.loc["all rules", "jobs"] == 3
    assert table.loc["all rules", "output_mb"] == 1.5
    assert table.index[0] == "train_lstm"  # costliest first


def test_dag_dry_run_benchmark_counts_the_jobs_of_every_probe_setting():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "dag_dry_run.py"), "--seeds", "1"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    assert int(jobs["train_lstm"]) == 1
    assert int(jobs["fit_probe"]) > 20  # more than the preset's one kind and feature
    assert re.search(r"\d+ jobs planned in \d+\.\d s", out), out


def test_aggregation_benchmark_runs_and_agrees_with_exactextract():
    out = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "aggregation.py"),
            "--years",
            "1",
            "--basins",
            "25",
            "--variables",
            "swvl1",
            "--ee-days",
            "2",
            "--hourly-days",
            "2",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert re.search(r"ratio aggregation \(both rules\) / plain read: \d+\.\d+ wall", out), out
    assert re.search(r"ratio hourly->daily / plain read of the hourly file: \d+\.\d+ wall", out), out
    diff = float(
        re.search(r"max \|hydroprobe - exactextract\| over 25 basins x 2 days of swvl1: (\S+)", out)[1]
    )
    assert diff <= 1e-6, out  # the same coverage x cell-area weighted mean, two implementations
    assert "NaN mismatches 0;" in out, out
