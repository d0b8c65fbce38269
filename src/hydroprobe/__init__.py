"""hydroprobe: probe LSTM rainfall-runoff models for hydrological concepts (Lees et al. 2022)."""

__version__ = "0.1.0"
