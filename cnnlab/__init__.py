"""cnnlab: the helper package of a hands-on course on convolutional neural networks.

Modules (imported on first use, so ``import cnnlab`` stays quick). Notebooks
call them module-qualified: ``from cnnlab import kernels, plot``, then
``plot.show_matrix(...)``. Where each kind of new code goes, and the
direction imports may run, is in ``cnnlab/README.md``.

numpy, by hand (a readable loop version beside each fast one)
    :mod:`cnnlab.kernels`      convolution in 1D and 2D, the model every module copies
    :mod:`cnnlab.pooling`      max, average, sum and global pooling
    :mod:`cnnlab.activations`  ReLU, leaky ReLU, sigmoid, tanh, softmax
    :mod:`cnnlab.transposed`   transposed convolution and the convolution matrix
    :mod:`cnnlab.shapes`       output sizes, padding, parameter counts, receptive fields
    :mod:`cnnlab.steps`        the record of a convolution step (frames, channel steps)
    :mod:`cnnlab.metrics`      confusion counts of a classifier
lesson 08, training written out
    :mod:`cnnlab.backprop`, :mod:`cnnlab.optim`, :mod:`cnnlab.regularise`, :mod:`cnnlab.tinycnn`
inputs
    :mod:`cnnlab.data`         MNIST / Fashion-MNIST loaders and synthetic inputs
    :mod:`cnnlab.filters`      preset filters (line detectors, Sobel, blur, ...)
Keras
    :mod:`cnnlab.models`       every builder, one module per family (``models.lenet``,
                               ``models.classic``, ``models.resnet``, ``models.denoise``,
                               ``models.style``; also reachable as ``cnnlab.lenet`` etc.)
    :mod:`cnnlab.train`        the one training loop and ``python -m cnnlab.train``
    :mod:`cnnlab.weights`      the trained models the course ships in ``data/weights``
pictures and knobs
    :mod:`cnnlab.plot`         every figure of the lessons
    :mod:`cnnlab.widgets`      interactive explorers for JupyterLab
    :mod:`cnnlab.checks`       exercise checkers that explain a wrong answer
course tools (never any maths)
    :mod:`cnnlab.tools`        course map, ``cnnlab.doctor()``, assignments, website, execution
"""

from __future__ import annotations

import importlib

from .session import fast_mode, retrain_all, setup

__version__ = "0.1.0"
__all__ = ["setup", "fast_mode", "retrain_all", "doctor", "__version__"]

#: Every module of the package, by the name ``cnnlab.<name>`` gives it.
_MODULES = {name: f"{__name__}.{name}" for name in (
    "kernels", "pooling", "activations", "transposed", "shapes", "steps", "backprop", "optim",
    "regularise", "tinycnn", "data", "filters", "models", "train", "weights", "plot",
    "widgets", "checks", "tools", "session", "metrics",
)}
#: Short names kept for the lessons and for notebooks already handed out.
_MODULES.update({
    "lenet": f"{__name__}.models.lenet", "classic": f"{__name__}.models.classic",
    "resnet": f"{__name__}.models.resnet", "denoise": f"{__name__}.models.denoise",
    "style": f"{__name__}.models.style", "course": f"{__name__}.tools.course",
})


def doctor(*, tensorflow: bool = True, quiet: bool = False):
    """Check that the course can run here: see :func:`cnnlab.tools.doctor.doctor`."""
    from .tools.doctor import doctor as run
    return run(tensorflow=tensorflow, quiet=quiet)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))
