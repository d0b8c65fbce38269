"""The rainfall-runoff LSTM: model, NSE* loss, normalisation, windows, training, checkpoint files."""
