"""Fixtures for every test file (helpers to import live in tests/helpers.py and tests/hostile.py)."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened (only where matplotlib is in use)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
