"""Cost of a finished run, per rule: jobs, wall time, CPU time, peak memory, output size.

Reads the Snakemake benchmark files every rule writes (``results/benchmarks/<rule>.tsv`` or
``results/benchmarks/<rule>/<wildcards>.tsv``) and, for the output sizes, Snakemake's own record
of which rule made which file (``.snakemake/metadata``). Prints a markdown table.

Snakemake sums the memory of a job's processes. ``max_rss_mb`` counts a page once per process
that maps it, so a job whose forked workers share the parent's memory (the window-mode
extraction) shows it once per worker there; ``max_pss_mb`` splits each shared page among its
sharers: the job's real footprint.

    python benchmarks/stage_table.py [RUN_DIR] [--csv FILE]
"""

from __future__ import annotations

import argparse
import json
import os
from base64 import urlsafe_b64decode
from pathlib import Path

import pandas as pd

COLUMNS = [
    "rule",
    "jobs",
    "wall_s_total",
    "wall_s_max",
    "cpu_s_total",
    "max_rss_mb",
    "max_pss_mb",
    "output_mb",
]


def benchmark_records(run_dir: Path) -> pd.DataFrame:
    """One row per job: its rule (the first path part under results/benchmarks) and its
    benchmark values (Snakemake's columns: s, max_rss in MB, cpu_time in s, ...)."""
    root = run_dir / "results" / "benchmarks"
    rows = []
    for tsv in sorted(root.rglob("*.tsv")):
        rule = tsv.relative_to(root).parts[0].removesuffix(".tsv")
        record = pd.read_csv(tsv, sep="\t", na_values=["NA", "-"]).iloc[-1]  # last repeat
        rows.append({"rule": rule, **record.to_dict()})
    if not rows:
        raise SystemExit(f"{root}: no benchmark files; run the workflow first")
    return pd.DataFrame(rows)


def _decode_record_path(relative: Path) -> str:
    """Snakemake stores a record under the urlsafe base64 of the output path, split into
    folders ('@'-prefixed parts) when longer than a file name may be."""
    encoded = "".join(part.removeprefix("@") for part in relative.parts)
    return urlsafe_b64decode(encoded).decode()


def _size_bytes(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size if path.exists() else 0


def output_sizes(run_dir: Path) -> pd.Series:
    """Bytes on disk of every output Snakemake recorded, summed per rule."""
    metadata = run_dir / ".snakemake" / "metadata"
    sizes: dict[str, int] = {}
    for record in metadata.rglob("*") if metadata.is_dir() else []:
        if not record.is_file():
            continue
        rule = json.loads(record.read_text()).get("rule")
        output = run_dir / _decode_record_path(record.relative_to(metadata))
        sizes[rule] = sizes.get(rule, 0) + _size_bytes(output)
    return pd.Series(sizes, dtype=float, name="output_bytes")


def stage_table(run_dir: str | os.PathLike) -> pd.DataFrame:
    run_dir = Path(run_dir)
    jobs = benchmark_records(run_dir)
    table = jobs.groupby("rule").agg(
        jobs=("s", "size"),
        wall_s_total=("s", "sum"),
        wall_s_max=("s", "max"),
        cpu_s_total=("cpu_time", "sum"),
        max_rss_mb=("max_rss", "max"),
        max_pss_mb=("max_pss", "max"),
    )
    table["output_mb"] = output_sizes(run_dir).reindex(table.index).fillna(0) / 2**20
    table = table.sort_values("wall_s_total", ascending=False).reset_index()
    total = {
        "rule": "all rules",
        "jobs": table["jobs"].sum(),
        "wall_s_total": table["wall_s_total"].sum(),
        "wall_s_max": table["wall_s_max"].max(),
        "cpu_s_total": table["cpu_s_total"].sum(),
        "max_rss_mb": table["max_rss_mb"].max(),
        "max_pss_mb": table["max_pss_mb"].max(),
        "output_mb": table["output_mb"].sum(),
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)[COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", default=".", help="the workflow's working directory")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args()
    table = stage_table(args.run_dir)
    if args.csv:
        table.to_csv(args.csv, index=False)
    print(table.to_markdown(index=False, floatfmt=".1f"))


if __name__ == "__main__":
    main()
