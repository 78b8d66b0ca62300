"""Helpers shared by the test files: the project's folders and seeded random arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def random_array(seed, shape, dtype=np.float64):
    """Standard-normal values of ``shape``, the same for the same ``seed``."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
