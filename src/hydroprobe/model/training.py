"""Train the rainfall-runoff LSTM with the NSE* loss; save the trained and untrained models.

The checkpoint files and the per-epoch resume checkpoints are written by ``model.checkpoints``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch
import xarray as xr
from tqdm import tqdm

from hydroprobe.errors import InputDataError
from hydroprobe.metrics import nse
from hydroprobe.model import checkpoints
from hydroprobe.model.device import bf16_usable, configure_cpu, resolve_device
from hydroprobe.model.loss import nse_star_loss
from hydroprobe.model.lstm import build_model
from hydroprobe.model.normalisation import compute_normalisation
from hydroprobe.model.windows import build_window_data, gather_windows, period_mask, valid_samples


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


def learning_rate_for(schedule, epoch: int) -> float:
    """Piecewise-constant rate: the value of the largest key ≤ ``epoch`` (epochs count from 1,
    as in neuralhydrology; a key 0 or 1 gives the starting rate). A number is a constant rate."""
    if isinstance(schedule, (int, float)):
        return float(schedule)
    items = sorted((int(k), float(v)) for k, v in dict(schedule).items())
    rate = items[0][1]
    for k, v in items:
        if k <= epoch:
            rate = v
    return rate


def _model_config(model_cfg: dict, training_cfg: dict, n_inputs: int) -> dict:
    """The checkpoint's ``model_config``: what inference needs to rebuild and run the model."""
    return {
        "n_inputs": int(n_inputs),
        "hidden_size": int(model_cfg["hidden_size"]),
        "output_dropout": float(model_cfg["output_dropout"]),
        "initial_forget_bias": float(model_cfg["initial_forget_bias"]),
        "seq_length": int(model_cfg["seq_length"]),
        "predict_last_n": int(model_cfg["predict_last_n"]),
        "dynamic_inputs": [str(name) for name in model_cfg["dynamic_inputs"]],
        "static_inputs": [str(name) for name in model_cfg["static_inputs"]],
        "target": str(model_cfg["target"]),
        "clip_target_at_zero": bool(training_cfg["clip_target_at_zero"]),
    }


@torch.no_grad()
def quick_validation_nse(model, data, norm, period, seq_length, clip_at_zero: bool) -> float:
    """Cheap validation: each basin's whole validation period (plus ``seq_length`` warm-up
    days) in ONE sequence-to-sequence pass, missing inputs set to the training mean (0).
    An approximation of the sequence-to-one skill, for the training log only."""
    pm = period_mask(data.times, period)
    idx = torch.nonzero(pm).flatten()
    if idx.numel() == 0:
        return float("nan")
    lo = max(int(idx[0]) - seq_length + 1, 0)
    hi = int(idx[-1]) + 1
    x = torch.nan_to_num(data.x[:, lo:hi], nan=0.0)
    was_training = model.training
    model.eval()
    y_hat = model(x).float().cpu().numpy() * norm.target_std + norm.target_mean
    model.train(was_training)
    if clip_at_zero:
        y_hat = np.maximum(y_hat, 0.0)
    y = data.y[:, lo:hi].cpu().numpy() * norm.target_std + norm.target_mean
    keep = pm[lo:hi].cpu().numpy()
    scores = [nse(y[i, keep], y_hat[i, keep]) for i in range(y.shape[0])]
    return float(np.nanmedian(scores)) if np.isfinite(scores).any() else float("nan")


def train_lstm(
    dataset: xr.Dataset,
    model_cfg: dict,
    training_cfg: dict,
    periods: dict,
    seed: int,
    trained_path: str | os.PathLike,
    untrained_path: str | os.PathLike,
    threads: int | None = None,
    log: Callable[[str], None] = print,
    resume: bool = True,
    progress: bool = True,
    progress_file=None,
    progress_interval_s: float = 30.0,
    kept_paths: Mapping[int, str | os.PathLike] | None = None,
) -> dict:
    """Train one LSTM; write ``untrained_path`` (initial weights) and ``trained_path``.

    ``model_cfg`` and ``training_cfg`` are the ``model`` and ``training`` sections of a config
    validated by ``hydroprobe.config.validate_config``: every key present (the schema holds the
    defaults; a missing key is a KeyError here, never a second default). ``periods`` needs
    ``train`` and may hold ``validation`` ((start, end), inclusive).
    Returns the training history: ``{"epoch": [...], "loss": [...], "samples_per_s": [...],
    "val_median_nse": [...], "n_samples": N, "n_basins": the basins with a training sample,
    "device": str, "precision": str}``.

    After every epoch the full training state is checkpointed atomically to
    ``<trained_path>.resume/epoch_NNN.pt`` (only the latest kept). With ``resume`` a restarted
    call with the same configuration, seed and data continues from it — on CPU with weights
    bit-identical to an uninterrupted run; a checkpoint of another configuration is ignored
    (logged). The directory is removed once ``trained_path`` is written. ``progress`` shows a
    per-epoch tqdm bar (loss, samples/s) on ``progress_file`` (default stderr), refreshed at
    most every ``progress_interval_s`` seconds so logs are not flooded.

    ``kept_paths`` maps epochs strictly between 0 and the last (``checkpoints.intermediate_epochs``
    of ``training.keep_epochs``) to the file that gets the model's weights after that epoch, in
    the layout of ``trained_path``. The resume checkpoint carries them too, so a resumed run
    rewrites them identical even when the workflow removed the files of the interrupted job.
    """
    configure_cpu(threads)
    device = resolve_device(training_cfg["device"])
    torch.manual_seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    shuffle_generator = torch.Generator().manual_seed(int(seed))

    kept_paths = {int(e): p for e, p in (kept_paths or {}).items()}
    if sorted(kept_paths) != checkpoints.intermediate_epochs(kept_paths, training_cfg["epochs"]):
        raise InputDataError(
            f"kept epochs {sorted(kept_paths)}: only epochs between 0 (untrained) and the last "
            f"({training_cfg['epochs']}, trained) get files of their own"
        )
    seq_length = int(model_cfg["seq_length"])
    predict_last_n = int(model_cfg["predict_last_n"])
    if not 1 <= predict_last_n <= seq_length:
        raise InputDataError(f"model.predict_last_n must be in 1…seq_length, got {predict_last_n}")
    train_period = tuple(periods["train"])
    val_period = periods.get("validation")
    norm = compute_normalisation(
        dataset,
        list(model_cfg["dynamic_inputs"]),
        list(model_cfg["static_inputs"]),
        str(model_cfg["target"]),
        train_period,
    )
    start = pd.Timestamp(train_period[0]) - pd.Timedelta(days=seq_length - 1)
    data = build_window_data(dataset, norm, start=start, end=pd.Timestamp(train_period[1]))
    train_mask = period_mask(data.times, train_period)[None, :].expand_as(data.y)
    y_train = torch.where(train_mask, data.y, torch.full_like(data.y, float("nan")))
    b_idx, e_idx = valid_samples(data, seq_length, train_period, predict_last_n, target_mask=train_mask)
    n_valid = int(b_idx.numel())
    if n_valid == 0:
        raise InputDataError(
            f"no training window of {seq_length} days with complete inputs and a target "
            f"in {train_period[0]}…{train_period[1]}"
        )
    sigma = torch.from_numpy(norm.basin_sigma(data.basins))
    # a basin with no sample (no target in the training period, or no complete input window)
    # takes no part in training: count and name only the basins that do
    training_basins = torch.unique(b_idx).tolist()
    left_out = np.delete(data.basins, training_basins)

    model_config = _model_config(model_cfg, training_cfg, data.n_features)
    model = build_model(model_config)
    checkpoint_fields = {"model_config": model_config, "normalisation": norm.to_dict(), "seed": int(seed)}

    def cpu_weights() -> dict:
        return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    checkpoints.save_checkpoint({"state_dict": cpu_weights(), **checkpoint_fields}, untrained_path)

    val_data = None
    if val_period is not None:
        vs = pd.Timestamp(val_period[0]) - pd.Timedelta(days=seq_length - 1)
        val_data = build_window_data(dataset, norm, start=vs, end=pd.Timestamp(val_period[1]))
        val_data.x, val_data.y = val_data.x.to(device), val_data.y.to(device)

    model.to(device)
    x_all, y_all, sigma_all = data.x.to(device), y_train.to(device), sigma.to(device)
    b_idx, e_idx = b_idx.to(device), e_idx.to(device)
    precision = str(training_cfg["precision"])
    use_bf16 = precision == "bf16"
    if use_bf16 and not bf16_usable(device, model):
        log(f"bf16 LSTM not supported on {device}; training in fp32")
        use_bf16 = False
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate_for(training_cfg["learning_rate"], 1))
    epochs = int(training_cfg["epochs"])
    batch_size = int(training_cfg["batch_size"])
    clip_grad_norm = training_cfg["clip_grad_norm"]
    nse_eps = float(training_cfg["nse_eps"])
    samples_per_epoch = training_cfg["samples_per_epoch"]
    history = {
        "epoch": [],
        "loss": [],
        "samples_per_s": [],
        "val_median_nse": [],
        "n_samples": n_valid,
        "n_basins": len(training_basins),
        "device": str(device),
        "precision": "bf16" if use_bf16 else "fp32",
    }
    log(
        f"seed {seed}: {n_valid} training windows over {len(training_basins)} basins on {device} "
        f"({history['precision']})"
    )
    if left_out.size:
        log(
            f"seed {seed}: {left_out.size} basin(s) left out of training, no window with complete "
            f"inputs and a target in {train_period[0]}…{train_period[1]}: {', '.join(map(str, left_out))}"
        )

    resume_directory = checkpoints.resume_dir(trained_path)
    resume_fingerprint = checkpoints.fingerprint(
        model_config=model_config,
        model_cfg=model_cfg,
        training_cfg=training_cfg,
        periods=periods,
        seed=int(seed),
        normalisation=norm.to_dict(),
        n_valid=n_valid,
        basins=[str(b) for b in data.basins],
        device=str(device),
        precision=history["precision"],
        kept_epochs=sorted(kept_paths),  # a checkpoint must carry the weights of every kept epoch
    )
    first_epoch = 1
    kept_weights: dict[int, dict] = {}  # epoch -> weights of the kept epochs trained so far
    if resume:
        state = checkpoints.load_latest(resume_directory, resume_fingerprint, log)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            checkpoints.restore_rng_states(state["rng"], shuffle_generator)
            history = state["history"]
            first_epoch = int(state["epoch"]) + 1
            kept_weights = state.get("kept", {})
            # the interrupted job's kept files may be gone (the workflow removes a failed job's
            # outputs): write them again from the weights the checkpoint carries
            for kept_epoch, weights in kept_weights.items():
                checkpoints.save_checkpoint(
                    {"state_dict": weights, **checkpoint_fields}, kept_paths[kept_epoch]
                )
            log(
                f"seed {seed}: resuming from the checkpoint of epoch {state['epoch']}/{epochs} "
                f"in {resume_directory}"
            )
    elif resume_directory.exists():
        checkpoints.clear(resume_directory)

    for epoch in range(first_epoch, epochs + 1):
        lr = learning_rate_for(training_cfg["learning_rate"], epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if samples_per_epoch is None:
            order = torch.randperm(n_valid, generator=shuffle_generator)
        elif int(samples_per_epoch) <= n_valid:
            order = torch.randperm(n_valid, generator=shuffle_generator)[: int(samples_per_epoch)]
        else:
            order = torch.randint(n_valid, (int(samples_per_epoch),), generator=shuffle_generator)
        order = order.to(device)
        model.train()
        bar = tqdm(
            total=int(order.numel()),
            desc=f"seed {seed} epoch {epoch}/{epochs}",
            unit="samples",
            unit_scale=False,
            file=progress_file or sys.stderr,
            mininterval=progress_interval_s,
            maxinterval=max(progress_interval_s, 10.0),
            disable=not progress,
            leave=True,
            dynamic_ncols=False,
            ascii=True,
        )
        t0, total, count = time.perf_counter(), 0.0, 0
        for batch, start_i in enumerate(range(0, order.numel(), batch_size), start=1):
            sel = order[start_i : start_i + batch_size]
            bb, ee = b_idx[sel], e_idx[sel]
            xb = gather_windows(x_all, bb, ee, seq_length)
            yb = gather_windows(y_all, bb, ee, predict_last_n)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                y_hat = model(xb, last_n=predict_last_n)
            loss = nse_star_loss(y_hat.float(), yb, sigma_all[bb], nse_eps)
            if not torch.isfinite(loss):
                bar.close()
                raise TrainingDivergedError(
                    f"seed {seed}: loss is {loss.item()} in epoch {epoch}, batch {batch}"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), float(clip_grad_norm))
            optimizer.step()
            loss_value = float(loss.detach())
            total += loss_value * sel.numel()
            count += sel.numel()
            bar.set_postfix_str(f"loss {total / count:.4f}", refresh=False)
            bar.update(sel.numel())
        bar.close()
        rate = count / max(time.perf_counter() - t0, 1e-9)
        val = float("nan")
        if val_data is not None:
            val = quick_validation_nse(
                model, val_data, norm, val_period, seq_length, model_config["clip_target_at_zero"]
            )
        history["epoch"].append(epoch)
        history["loss"].append(total / max(count, 1))
        history["samples_per_s"].append(rate)
        history["val_median_nse"].append(val)
        msg = f"seed {seed} epoch {epoch}/{epochs}: lr {lr:g} loss {total / max(count, 1):.4f} {rate:.0f} samples/s"
        if val_data is not None:
            msg += f" validation median NSE {val:.3f}"
        if epoch in kept_paths:
            kept_weights[epoch] = cpu_weights()
            checkpoints.save_checkpoint(
                {"state_dict": kept_weights[epoch], **checkpoint_fields}, kept_paths[epoch]
            )
        if epoch < epochs:  # the last epoch is saved as the trained model right below
            checkpoints.save_epoch(
                resume_directory,
                epoch,
                {
                    "fingerprint": resume_fingerprint,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "rng": checkpoints.rng_states(shuffle_generator),
                    "history": history,
                    "kept": kept_weights,
                },
            )
        log(msg)

    model.to("cpu")
    checkpoints.save_checkpoint({"state_dict": cpu_weights(), **checkpoint_fields}, trained_path)
    checkpoints.clear(resume_directory)
    return history
