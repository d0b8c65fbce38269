"""The cell and hidden states (and the prediction) of a trained or untrained LSTM for every basin and day."""
