"""Benchmark: cell-state extraction, hydroprobe vs. the paper's way, for two period lengths.

hydroprobe: ``hydroprobe.states.extract.extract_cell_states`` — windows gathered from an in-memory tensor
of the normalised inputs of a group of basins, full batches of ``--batch-windows`` across basin
boundaries in ``torch.inference_mode``, each window fed 32 days at a time with the state carried
over, each basin's states written to a zarr store as soon as the basin is done (c, h and the
simulated target).

The paper's way (Lees et al. 2022; ``scripts/cell_state/extract_cell_state.py`` of
tommylees112/neuralhydrology with neuralhydrology's tester), emulated in ``paper_way_extract``:
per basin a neuralhydrology-style ``BaseDataset`` (normalised inputs; one sample per valid day;
``__getitem__`` slices x_d and y of that sample and hands the static attributes as x_s), a
``DataLoader(batch_size=256, shuffle=False, num_workers=0)``, ``torch.no_grad()``, a
``CudaLSTM``-style model (input layer repeating the statics at every step, sequence-first
``nn.LSTM``, the head applied to the whole output sequence, outputs lstm_output / h_n / c_n /
y_hat), every output key cut to the last step and appended with ``torch.cat`` to per-basin
tensors held in memory, c_n turned into an xarray Dataset per basin, ``xr.concat`` over all basins
at the end, one netCDF written at the end. Same weights (the hydroprobe checkpoint), same
normalisation, same synthetic data; CPU settings as neuralhydrology leaves them (no denormal
flushing, default malloc) unless ``--paper-cpu-tuning`` gives it hydroprobe's (on CPU most of
the difference comes from these settings: compare both runs).

Each (method, period length) runs in its own subprocess so that its peak RSS (VmHWM, taken
right after the timed span) is its own; the baseline of the imports (torch, xarray, …) and of the in-memory
synthetic dataset counts for both methods. The timed span is the extraction call only (checkpoint
loading, data preparation, forward passes, writing the output), not the building of the
synthetic dataset. Besides wall time, the CPU seconds of the span are printed (less sensitive to
other load on a shared machine). The outputs are compared: c of a few basins and days,
|Δ| ≤ 1e-4 relative to the largest |c| of the state vector (at least 1).

    python benchmarks/extract_throughput.py --years 3 12 --basins 8
    python benchmarks/extract_throughput.py --device cuda      # on a GPU (target ≥ 5×)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import peak_rss_mb  # noqa: E402  (benchmarks/ is not a package)

HIDDEN, SEQ, N_DYN, N_STATIC = 64, 365, 3, 22
SPEEDUP_CPU, SPEEDUP_GPU = 1.5, 5.0
FLAT_GROWTH = 0.25  # "flat": peak RSS grows < 25 % from the short to the long period


# ---------------------------------------------------------------------------------------------
# the data and the checkpoint (identical in every subprocess)


def dataset_and_period(n_basins: int, years: int):
    """Synthetic dataset of the paper's shape (see train_throughput.py) with one warm-up year
    before a period of ``years`` × 365 days + 1."""
    from train_throughput import synthetic_dataset

    ds = synthetic_dataset(n_basins, years + 1)
    t = pd.DatetimeIndex(ds.time.values)
    return ds, (str(t[SEQ - 1].date()), str(t[-1].date()))


def make_checkpoint(path: Path, n_basins: int, threads: int | None) -> Path:
    """A briefly trained hydroprobe checkpoint (one epoch of 512 windows: the weights matter for
    the numbers, not for the speed)."""
    from train_throughput import paper_configs

    from hydroprobe.model.training import train_lstm

    ds, period = dataset_and_period(n_basins, 2)
    model_cfg, training_cfg = paper_configs(512)
    train_lstm(
        ds,
        model_cfg,
        training_cfg,
        {"train": period},
        seed=1,
        trained_path=path,
        untrained_path=path.with_name("untrained.pt"),
        threads=threads,
        log=lambda m: None,
        progress=False,
    )
    return path


# ---------------------------------------------------------------------------------------------
# the paper's way


def paper_way_extract(checkpoint_path, dataset, period, out_path, batch_size: int = 256, device="cpu"):
    """Cell states as Lees et al. (2022) extracted them with neuralhydrology (emulated, see the
    module docstring). Returns the concatenated xarray Dataset (c_n: date, station_id, dimension)
    and writes it to the netCDF file ``out_path``."""
    import torch
    import xarray as xr
    from torch import Tensor, nn
    from torch.utils.data import DataLoader, Dataset

    from hydroprobe.model.normalisation import Normalisation

    ckpt = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
    mc = ckpt["model_config"]
    norm = Normalisation.from_dict(ckpt["normalisation"])
    seq_len = int(mc["seq_length"])
    device = torch.device(device)

    class BasinDataset(Dataset):
        """neuralhydrology's BaseDataset for one basin of the test period (``tester._get_dataset``)."""

        def __init__(self, basin):
            start = pd.Timestamp(period[0]) - pd.Timedelta(days=seq_len - 1)
            df = dataset.sel(basin=basin, time=slice(start, pd.Timestamp(period[1])))[
                norm.dynamic_inputs + [norm.target]
            ].to_dataframe()
            for name in norm.dynamic_inputs:
                df[name] = (df[name] - norm.dynamic_mean[name]) / norm.dynamic_std[name]
            df[norm.target] = (df[norm.target] - norm.target_mean) / norm.target_std
            self.x_d = torch.from_numpy(df[norm.dynamic_inputs].values.astype(np.float32))
            self.y = torch.from_numpy(df[[norm.target]].values.astype(np.float32))
            attrs = np.array(
                [
                    (float(dataset[s].sel(basin=basin)) - norm.static_mean[s]) / norm.static_std[s]
                    for s in norm.static_inputs
                ],
                dtype=np.float32,
            )
            self.attributes = torch.from_numpy(attrs)
            # lookup table: one sample per day of the period whose input window is complete
            bad = np.r_[0, np.cumsum(~np.isfinite(self.x_d.numpy()).all(axis=1))]
            idx = np.arange(seq_len - 1, len(df))
            self.lookup_table = {
                i: (basin, int(k)) for i, k in enumerate(idx[(bad[idx + 1] - bad[idx + 1 - seq_len]) == 0])
            }
            self.num_samples = len(self.lookup_table)

        def __len__(self):
            return self.num_samples

        def __getitem__(self, item: int):
            _, idx = self.lookup_table[item]
            return {
                "x_d": self.x_d[idx - seq_len + 1 : idx + 1],
                "y": self.y[idx - seq_len + 1 : idx + 1],
                "x_s": torch.cat([self.attributes], dim=-1),
            }

    class CudaLSTM(nn.Module):
        """neuralhydrology's CudaLSTM (InputLayer without embeddings, Regression head)."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(int(mc["n_inputs"]), int(mc["hidden_size"]))
            self.dropout = nn.Dropout(float(mc["output_dropout"]))
            self.head = nn.Linear(int(mc["hidden_size"]), 1)

        def forward(self, data):
            x_d = data["x_d"].transpose(0, 1)
            x_s = data["x_s"].unsqueeze(0).repeat(x_d.shape[0], 1, 1)
            x_d = torch.cat([x_d, x_s], dim=-1)
            lstm_output, (h_n, c_n) = self.lstm(input=x_d)
            lstm_output = lstm_output.transpose(0, 1)
            h_n, c_n = h_n.transpose(0, 1), c_n.transpose(0, 1)
            pred = {"lstm_output": lstm_output, "h_n": h_n, "c_n": c_n}
            pred["y_hat"] = self.head(self.dropout(lstm_output))
            return pred

    model = CudaLSTM()
    model.load_state_dict(
        {k: v for k, v in ckpt["state_dict"].items() if k.split(".")[0] in ("lstm", "head")}
    )
    model.to(device).eval()

    all_cn_xr = []
    for basin in dataset.basin.values:
        output = defaultdict(Tensor)
        ds = BasinDataset(basin)
        loader = DataLoader(ds, batch_size=batch_size, num_workers=0)
        with torch.no_grad():
            for data in loader:
                for key in data:
                    data[key] = data[key].to(device)
                predictions = model(data)
                subset = {key: predictions[key][:, -1:, :] for key in predictions}
                subset["y"] = data["y"][:, -1:, :]
                for key in subset:
                    output[key] = torch.cat((output[key], subset[key].detach().cpu()), 0)
        arr = output["c_n"].detach().cpu().numpy()
        dates = pd.date_range(start=period[0], end=period[1], freq="1D")
        all_cn_xr.append(
            xr.Dataset(
                {"c_n": (("date", "station_id", "dimension"), arr)},
                coords={"date": dates, "station_id": [basin], "dimension": np.arange(arr.shape[-1])},
            )
        )
    cn = xr.concat(all_cn_xr, dim="station_id")
    cn.to_netcdf(out_path)
    return cn


# ---------------------------------------------------------------------------------------------
# one measurement (run in a subprocess)

CHECK_DAYS = (0, 1, 400, -1)


def cpu_seconds() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(a) -> dict:
    import torch

    from hydroprobe.model.device import configure_cpu

    ds, period = dataset_and_period(a.basins, a.years)
    ds = ds.load()
    n_days = len(pd.date_range(*period))
    basins = ds.basin.values
    check_b = sorted({0, len(basins) // 2, len(basins) - 1})
    days = [d for d in CHECK_DAYS if -n_days <= d < n_days]
    out = Path(a.out)
    if a.method == "hydroprobe":
        from hydroprobe.states.extract import extract_cell_states

        t0, c0 = time.perf_counter(), cpu_seconds()
        extract_cell_states(
            a.checkpoint, ds, [period], out, batch_windows=a.batch_windows, threads=a.threads, device=a.device
        )
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        sec, cpu, peak = time.perf_counter() - t0, cpu_seconds() - c0, peak_rss_mb()
        import zarr

        c = zarr.open_group(str(out), mode="r")["c"]
        sample = [[c[d, b].tolist() for d in days] for b in check_b]
        n_windows = int(np.isfinite(c[:, :, 0]).sum())
    else:
        if a.paper_cpu_tuning:
            configure_cpu(None)
        if a.threads:
            torch.set_num_threads(a.threads)
        t0, c0 = time.perf_counter(), cpu_seconds()
        cn = paper_way_extract(a.checkpoint, ds, period, out, batch_size=a.paper_batch, device=a.device)
        if a.device.startswith("cuda"):
            torch.cuda.synchronize()
        sec, cpu, peak = time.perf_counter() - t0, cpu_seconds() - c0, peak_rss_mb()
        c = cn["c_n"].values
        sample = [[c[d, b].tolist() for d in days] for b in check_b]
        n_windows = int(np.isfinite(c[:, :, 0]).sum())
    return {
        "seconds": sec,
        "cpu_seconds": cpu,
        "windows": n_windows,
        "peak_rss": peak,
        "sample": sample,
        "threads": torch.get_num_threads(),
    }


def run_child(method: str, years: int, a, tmp: Path, rep: int = 0) -> dict:
    suffix = {"hydroprobe": ".zarr", "paper": ".nc", "checkpoint": ".pt"}[method]
    out = tmp / (f"{method}_{years}y_{rep}{suffix}" if method != "checkpoint" else "trained.pt")
    cmd = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--child-years",
        str(years),
        "--basins",
        str(a.basins),
        "--checkpoint",
        str(a.checkpoint),
        "--out",
        str(out),
        "--device",
        a.device,
        "--batch-windows",
        str(a.batch_windows),
        "--paper-batch",
        str(a.paper_batch),
    ]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    if a.paper_cpu_tuning:
        cmd += ["--paper-cpu-tuning"]
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    if method != "checkpoint":  # the outputs are not needed once compared; keep the disk clean
        subprocess.run(["rm", "-rf", str(out)], check=False)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--years",
        type=int,
        nargs=2,
        default=[3, 12],
        metavar=("SHORT", "LONG"),
        help="period lengths in years (365 days each)",
    )
    ap.add_argument("--basins", type=int, default=8)
    ap.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs of each (method, period), interleaved; the fastest counts (shared machines)",
    )
    ap.add_argument("--batch-windows", type=int, default=2048, help="hydroprobe windows per forward pass")
    ap.add_argument("--paper-batch", type=int, default=256, help="the paper's DataLoader batch size")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads in both (default: torch's)")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument(
        "--paper-cpu-tuning",
        action="store_true",
        help="give the paper's way hydroprobe's CPU settings too (flush denormals, malloc tuning)",
    )
    ap.add_argument("--child", choices=["hydroprobe", "paper", "checkpoint"], help=argparse.SUPPRESS)
    ap.add_argument("--child-years", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--checkpoint", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child == "checkpoint":
        make_checkpoint(Path(a.out), a.basins, a.threads)
        print(json.dumps({"path": a.out}))
        return 0
    if a.child:
        a.method, a.years = a.child, a.child_years
        print(json.dumps(child(a)))
        return 0

    short, long_ = a.years
    print(
        f"{a.basins} basins, periods of {short} and {long_} years, seq {SEQ}, hidden {HIDDEN}, "
        f"{N_DYN}+{N_STATIC} inputs, device {a.device}, threads {a.threads or 'torch default'}; "
        f"hydroprobe {a.batch_windows} windows/pass, paper DataLoader batch {a.paper_batch}"
        f"{', paper way with hydroprobe CPU tuning' if a.paper_cpu_tuning else ''}; "
        f"best of {a.repeats}; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # the checkpoint is made in a subprocess too: the parent stays small (no torch), so that no
        # child inherits a large RSS from it
        a.checkpoint = tmp / "trained.pt"
        run_child("checkpoint", 2, a, tmp)
        for rep in range(a.repeats):
            for years in (short, long_):
                for method in ("paper", "hydroprobe"):
                    r = run_child(method, years, a, tmp, rep)
                    print(
                        f"  run {rep + 1}: {method:10s} {years:3d} y: {r['seconds']:7.2f} s, "
                        f"peak RSS {r['peak_rss']:.0f} MB, load {os.getloadavg()[0]:.2f}",
                        file=sys.stderr,
                        flush=True,
                    )
                    best = res.get((method, years))
                    if best is None or r["seconds"] < best["seconds"]:
                        r["peak_rss_max"] = max(r["peak_rss"], best["peak_rss_max"] if best else 0.0)
                        res[method, years] = r
                    else:
                        best["peak_rss_max"] = max(best["peak_rss_max"], r["peak_rss"])

    print(
        f"\n{'method':<11} {'period':>7} {'windows':>9} {'seconds':>8} {'windows/s':>10} {'peak RSS MB':>12} "
        f"{'CPU s':>8}"
    )
    for method in ("paper", "hydroprobe"):
        for years in (short, long_):
            r = res[method, years]
            print(
                f"{method:<11} {years:>5} y {r['windows']:>9,} {r['seconds']:>8.2f} "
                f"{r['windows'] / r['seconds']:>10.0f} {r['peak_rss_max']:>12.0f} {r['cpu_seconds']:>8.1f}"
            )

    target = SPEEDUP_GPU if a.device.startswith("cuda") else SPEEDUP_CPU
    ok = True
    print()
    for years in (short, long_):
        hp, pp = res["hydroprobe", years], res["paper", years]
        ratio = (hp["windows"] / hp["seconds"]) / (pp["windows"] / pp["seconds"])
        passed = ratio >= target
        ok &= passed
        cpu_ratio = (hp["windows"] / hp["cpu_seconds"]) / (pp["windows"] / pp["cpu_seconds"])
        print(
            f"windows/s hydroprobe / paper, {years:>2} y: {ratio:5.2f}×  (target ≥ {target:g}×) "
            f"{'PASS' if passed else 'FAIL'}   [per CPU second: {cpu_ratio:.2f}×]"
        )
    for method in ("paper", "hydroprobe"):
        g = res[method, long_]["peak_rss_max"] / res[method, short]["peak_rss_max"] - 1
        flag = ""
        if method == "hydroprobe":
            flag = f"  (flat: < {FLAT_GROWTH:.0%}) {'PASS' if g < FLAT_GROWTH else 'FAIL'}"
            ok &= g < FLAT_GROWTH
        print(
            f"peak RSS growth {short} y → {long_} y ({long_ / short:g}× windows), {method:<10}: {g:+6.1%}{flag}"
        )

    # the two methods must agree: c of a few basins and days. Both run in float32 with different
    # GEMM shapes; over the 365 steps the rounding grows with the size of the state vector (a
    # saturated cell integrates to |c| ~ 365, where float32 resolves ~3e-5), so the difference is
    # measured relative to the largest |c| of the same state vector (at least 1).
    dmax = rmax = 0.0
    for years in (short, long_):
        h = np.array(res["hydroprobe", years]["sample"])  # (basin, day, dim)
        p = np.array(res["paper", years]["sample"])
        d = np.abs(h - p)
        dmax = max(dmax, float(d.max()))
        scale = np.maximum(1.0, np.abs(p).max(axis=-1, keepdims=True))
        rmax = max(rmax, float(np.max(d / scale)))
    agree = rmax <= 1e-4
    ok &= agree
    print(
        f"check: c of hydroprobe vs paper, {h.shape[0]} basins × {h.shape[1]} days × {h.shape[2]} dims, "
        f"both periods: max |Δ| = {dmax:.1e}; max |Δ| / max(1, max |c| of the state vector) = {rmax:.1e} "
        f"(≤ 1e-4) {'PASS' if agree else 'FAIL'}"
    )
    print(f"overall: {'PASS' if ok else 'FAIL'}; load at end: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
