"""Windows run through the LSTM a few days at a time give the states of the whole window."""

import torch

from hydroprobe.model.lstm import HydroLSTM
from hydroprobe.model.windows import gather_windows
from hydroprobe.states.inference import final_states_streamed


def test_streamed_states_equal_those_of_the_whole_window():
    torch.manual_seed(0)
    model = HydroLSTM(4, 6, output_dropout=0.4, initial_forget_bias=3.0).eval()
    x = torch.randn(3, 50, 4)  # (basin, time, features)
    basin_idx = torch.tensor([0, 0, 1, 2, 2])
    end_idx = torch.tensor([19, 49, 30, 25, 49])
    seq_length = 20
    _, (h_ref, c_ref) = model.lstm(gather_windows(x, basin_idx, end_idx, seq_length))
    for step_chunk in (1, 7, 20, 64):  # chunks that divide the window, do not, or exceed it
        with torch.inference_mode():
            h, c = final_states_streamed(
                model, x, basin_idx, end_idx, seq_length, torch.device("cpu"), step_chunk
            )
        torch.testing.assert_close(h, h_ref[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(c, c_ref[0], rtol=1e-5, atol=1e-6)
