"""Training throughput: hydroprobe's ``train_lstm`` vs. the raw torch limit, same shape, one run.

(a) ``train_lstm`` on a synthetic dataset of the paper's shape (hidden 64, seq 365, batch 256,
    3 dynamic + 22 static inputs, predict_last_n 1), one epoch of ``--samples`` windows; the
    wall time covers the whole call (normalisation, window building, training, saving).
(b) The raw torch limit: ``nn.LSTM`` + ``nn.Linear`` forward + backward + Adam on random tensors
    of the same shape, denormals flushed, same number of samples (one warm-up step excluded).

Prints samples/s of both and their ratio. ``--precision bf16`` uses autocast in both;
``--device cuda`` runs both on the GPU (synchronised timing).

    python benchmarks/train_throughput.py --samples 2560 --threads 2
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from hydroprobe.model.device import configure_cpu, resolve_device
from hydroprobe.model.training import train_lstm

HIDDEN, SEQ, BATCH, N_DYN, N_STATIC = 64, 365, 256, 3, 22


def synthetic_dataset(n_basins: int, years: int, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    time_ = pd.date_range("2000-01-01", periods=365 * years, freq="D")
    nt = len(time_)
    doy = time_.day_of_year.values
    temp = 10 - 8 * np.cos(2 * np.pi * doy / 365.25) + rng.normal(0, 2, (n_basins, nt))
    pet = np.clip(0.2 * (temp + 5), 0, None)
    precip = np.where(rng.random((n_basins, nt)) < 0.35, rng.gamma(1.0, 6.0, (n_basins, nt)), 0.0)
    kernel = np.exp(-np.arange(30) / 8.0)
    kernel /= kernel.sum()
    q = np.stack([np.convolve(p, kernel)[:nt] for p in precip]) * 0.6 + 0.1

    def f32(a):
        return np.asarray(a, dtype=np.float32)

    data = {
        "precipitation": (("basin", "time"), f32(precip)),
        "peti": (("basin", "time"), f32(pet)),
        "temperature": (("basin", "time"), f32(temp)),
        "discharge_spec": (("basin", "time"), f32(q)),
    }
    for i in range(N_STATIC):
        data[f"static_{i:02d}"] = (("basin",), f32(rng.normal(i, 1 + i / 10, n_basins)))
    return xr.Dataset(data, coords={"basin": np.arange(1, n_basins + 1, dtype=np.int32), "time": time_})


def paper_configs(samples: int, device="cpu", precision: str = "fp32") -> tuple[dict, dict]:
    """hydroprobe's model and training settings of the paper's shape for `synthetic_dataset`:
    one epoch of `samples` windows."""
    model_cfg = {
        "dynamic_inputs": ["precipitation", "peti", "temperature"],
        "static_inputs": [f"static_{i:02d}" for i in range(N_STATIC)],
        "target": "discharge_spec",
        "hidden_size": HIDDEN,
        "seq_length": SEQ,
        "predict_last_n": 1,
        "output_dropout": 0.4,
        "initial_forget_bias": 3.0,
    }
    training_cfg = {
        "epochs": 1,
        "batch_size": BATCH,
        "learning_rate": {0: 1e-3},
        "clip_grad_norm": 1.0,
        "nse_eps": 0.1,
        "samples_per_epoch": samples,
        "clip_target_at_zero": False,
        "device": str(device),
        "precision": precision,
    }
    return model_cfg, training_cfg


def bench_hydroprobe(args, device: torch.device) -> float:
    years = max(3, math.ceil(args.samples / (args.basins * 365)) + 2)
    ds = synthetic_dataset(args.basins, years)
    model_cfg, training_cfg = paper_configs(args.samples, device, args.precision)
    t_end = ds.time.values[-1]
    periods = {
        "train": (
            str(pd.Timestamp(ds.time.values[0]) + pd.Timedelta(days=SEQ - 1))[:10],
            str(pd.Timestamp(t_end))[:10],
        )
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        hist = train_lstm(
            ds,
            model_cfg,
            training_cfg,
            periods,
            seed=1,
            trained_path=Path(tmp) / "t.pt",
            untrained_path=Path(tmp) / "u.pt",
            threads=args.threads,
            log=lambda m: print("  [hydroprobe]", m),
            progress=False,
        )
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    if hist["precision"] != args.precision:
        print(f"  note: hydroprobe trained in {hist['precision']}")
    return args.samples / wall


def bench_raw(args, device: torch.device) -> float:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(N_DYN + N_STATIC, HIDDEN, batch_first=True).to(device)
    head = torch.nn.Linear(HIDDEN, 1).to(device)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.randn(BATCH, SEQ, N_DYN + N_STATIC, device=device)
    y = torch.randn(BATCH, 1, device=device)
    use_bf16 = args.precision == "bf16"

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            out, _ = lstm(x)
            pred = head(out[:, -1:]).squeeze(-1)
        loss = torch.mean((pred.float() - y) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    try:
        step()  # warm-up (oneDNN primitive creation, cuDNN plans)
    except RuntimeError as exc:
        if not use_bf16:
            raise
        print(
            f"  note: bf16 LSTM unsupported on {device} ({str(exc).splitlines()[0][:80]}); raw limit in fp32"
        )
        use_bf16 = False
        step()
    n_steps = max(1, math.ceil(args.samples / BATCH))
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n_steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return n_steps * BATCH / (time.perf_counter() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=2560, help="training windows per measurement")
    ap.add_argument("--basins", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto")
    args = ap.parse_args(argv)

    configure_cpu(args.threads)  # flush denormals, malloc tuning, thread count
    device = resolve_device(args.device)
    print(
        f"device {device}, precision {args.precision}, threads {torch.get_num_threads()}, "
        f"shape: batch {BATCH} x seq {SEQ} x {N_DYN + N_STATIC} inputs, hidden {HIDDEN}, "
        f"{args.samples} samples"
    )
    hp = bench_hydroprobe(args, device)
    raw = bench_raw(args, device)
    print(f"hydroprobe train_lstm (data preparation included): {hp:9.1f} samples/s")
    print(f"raw torch LSTM+Linear fwd+bwd+Adam limit:          {raw:9.1f} samples/s")
    print(f"ratio hydroprobe / raw limit:                      {hp / raw:9.3f}")


if __name__ == "__main__":
    main()
