"""cnnlab: the helper package of a hands-on course on convolutional neural networks.

Modules (imported on first use, so ``import cnnlab`` stays quick):

- :mod:`cnnlab.kernels`  hand-written convolution, pooling and activations (numpy)
- :mod:`cnnlab.shapes`   output sizes and parameter counts
- :mod:`cnnlab.filters`  preset filters (line detectors, Sobel, blur, ...)
- :mod:`cnnlab.data`     MNIST / Fashion-MNIST loaders and synthetic inputs
- :mod:`cnnlab.plot`     figures used by the lessons
- :mod:`cnnlab.widgets`  interactive explorers for JupyterLab
- :mod:`cnnlab.doctor`   ``cnnlab.doctor()`` checks that the course can run here
"""

from __future__ import annotations

import importlib

from .session import fast_mode, setup

__version__ = "0.1.0"
__all__ = ["setup", "fast_mode", "__version__"]

_SUBMODULES = {"kernels", "shapes", "filters", "data", "plot", "widgets", "checks", "models",
               "transposed", "doctor"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
