"""cnnlab: the helper package of a hands-on course on convolutional neural networks.

Modules (imported on first use, so ``import cnnlab`` stays quick):

- :mod:`cnnlab.kernels`     hand-written convolution, pooling and activations (numpy),
  a readable loop version beside each fast one; :mod:`cnnlab.transposed` for
  transposed convolution
- :mod:`cnnlab.shapes`      output sizes, parameter counts, receptive fields
- :mod:`cnnlab.filters`     preset filters (line detectors, Sobel, blur, ...)
- :mod:`cnnlab.data`        MNIST / Fashion-MNIST loaders and synthetic inputs
- :mod:`cnnlab.plot`        figures used by the lessons
- :mod:`cnnlab.widgets`     interactive explorers for JupyterLab
- :mod:`cnnlab.backprop`, :mod:`cnnlab.optim`, :mod:`cnnlab.regularise`,
  :mod:`cnnlab.tinycnn`     training written out by hand (lesson 08)
- :mod:`cnnlab.models`      every Keras model builder (MNIST CNN; LeNet-5 from :mod:`cnnlab.lenet`,
  classic nets from :mod:`cnnlab.classic`, ResNet from :mod:`cnnlab.resnet`) and ``load_model``
- :mod:`cnnlab.train`       ``python -m cnnlab.train``: the training commands
- :mod:`cnnlab.weights`     the trained models the course ships in ``data/weights``
- :mod:`cnnlab.checks`      exercise checkers that explain a wrong answer
- :mod:`cnnlab.assignments` ``python -m cnnlab.assignments``: nbgrader student versions and grading
- :mod:`cnnlab.doctor`      ``cnnlab.doctor()`` checks that the course can run here
"""

from __future__ import annotations

import importlib

from .session import fast_mode, setup

__version__ = "0.1.0"
__all__ = ["setup", "fast_mode", "__version__"]

_SUBMODULES = {
    "kernels", "transposed", "pooling", "activations", "shapes", "filters", "data", "plot",
    "widgets", "checks", "models", "lenet", "classic", "resnet", "backprop", "optim",
    "regularise", "tinycnn", "train", "denoise", "style", "beyond", "weights", "course",
    "doctor",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
