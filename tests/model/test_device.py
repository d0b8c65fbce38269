"""Device resolution and CPU set-up shared by training and cell-state extraction."""

import pytest
import torch

from hydroprobe.errors import InputDataError
from hydroprobe.model.device import bf16_usable, configure_cpu, resolve_device
from hydroprobe.model.lstm import HydroLSTM


def test_resolve_device_auto_named_and_given():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_refuses_a_missing_cuda_device():
    n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(InputDataError, match=rf"'cuda:{n}'.*{n} CUDA device"):
        resolve_device(f"cuda:{n}")
    if n == 0:
        with pytest.raises(InputDataError, match="0 CUDA device"):
            resolve_device("cuda")


def test_configure_cpu_flushes_denormals_and_sets_threads():
    before = torch.get_num_threads()
    try:
        configure_cpu(1)
        configure_cpu(1)  # the malloc tuning runs once; calling again is harmless
        assert torch.get_num_threads() == 1
        assert torch.tensor([1e-40], dtype=torch.float32).item() == 0.0  # denormal flushed
    finally:
        torch.set_num_threads(before)


def test_bf16_usable_answers_without_raising():
    model = HydroLSTM(3, 4, output_dropout=0.0, initial_forget_bias=3.0)
    assert bf16_usable(torch.device("cpu"), model) in (True, False)
