"""Where the LSTM runs: the torch device, the CPU settings, and whether bf16 autocast works there.

Training and cell-state extraction both call ``configure_cpu`` and ``resolve_device`` first.
"""

from __future__ import annotations

import torch

from hydroprobe.errors import InputDataError


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``auto`` (or None) → cuda if available, else cpu; otherwise the named device, which must
    exist (``cuda:N`` needs at least N + 1 CUDA devices)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0 or (dev.index is not None and dev.index >= n):
            raise InputDataError(f"device {str(device)!r} asked for, but this machine has {n} CUDA device(s)")
    return dev


_MALLOC_TUNED = False


def _tune_malloc() -> None:
    """Keep glibc from mmap-ing (and page-faulting in) every large LSTM buffer afresh: with the
    default thresholds each batch's tens-of-MB tensors are mapped and unmapped, which costs
    ~30 % of CPU time in the kernel (measured: 450 → 700 training samples/s, 2000 → 2700
    extraction windows/s on 2 cores). Same effect as MALLOC_MMAP_THRESHOLD_ in the environment.
    A no-op where glibc's mallopt is unavailable."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, ctypes.c_int(2**31 - 1))
        libc.mallopt(m_trim_threshold, ctypes.c_int(2**30))
    except (OSError, AttributeError):
        pass


def configure_cpu(threads: int | None = None) -> None:
    """Flush denormals (they make CPU LSTMs several times slower), tune malloc for large
    buffers, and set the thread count (None: torch's default)."""
    torch.set_flush_denormal(True)
    _tune_malloc()
    if threads:
        torch.set_num_threads(int(threads))


def bf16_usable(device: torch.device, model: torch.nn.Module) -> bool:
    """Whether ``model`` (a HydroLSTM, already on ``device``) runs under bf16 autocast there:
    oneDNN lacks a bf16 LSTM on some CPUs, so one tiny forward pass is tried."""
    try:
        x = torch.zeros(1, 2, model.n_inputs, device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            model(x)
        return True
    except RuntimeError:
        return False
