"""Fixtures shared by the figure tests."""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture
def keep_figure(monkeypatch):
    """The figures saved during a test, kept open so the test can read what was drawn."""
    figures = []
    close = plt.close
    monkeypatch.setattr(plt, "close", figures.append)
    yield figures
    for fig in figures:
        close(fig)
