"""Training the course's Keras models: one loop, one command (lessons 07-12).

From a terminal, in the course folder (``--help`` after a subcommand lists its options)::

    python -m cnnlab.train {mnist-cnn,lenet5,resnet,degradation,gradient-norms,denoiser,style-features} [options]

- :mod:`cnnlab.train.loop`     the fast loop (:func:`~cnnlab.train.loop.fit`), :class:`EpochLog`,
                               :func:`evaluate`, :func:`loss_and_accuracy`, :func:`predict_classes`
- :mod:`cnnlab.train.precision` bfloat16 where the CPU has it, the training twin (fused batch
                               norm) and handing a trained model back in float32
- :mod:`cnnlab.train.fused_norm` :class:`FusedBatchNormalization`, batch norm in one kernel
- :mod:`cnnlab.train.augment`  random shifts and flips of the training images
- :mod:`cnnlab.train.mnist_cnn` the lesson-07 network, trained (lesson 07)
- :mod:`cnnlab.train.lenet5`   :func:`train_lenet5` and its recipes (lesson 09)
- :mod:`cnnlab.train.resnet`   :func:`train_resnet`, the degradation experiment (lesson 11)
- :mod:`cnnlab.train.gradients` per-layer gradient norms of the degradation networks (lesson 11)
- :mod:`cnnlab.train.denoise`  :func:`train_denoiser` (lesson 12)
- :mod:`cnnlab.train.style`    :func:`train_style_features` (lesson 12)
- :mod:`cnnlab.train.transfer` pretraining on Fashion-MNIST, reuse on a few MNIST digits (lesson 12)
- :mod:`cnnlab.train.cli`      ``python -m cnnlab.train``

Training imports the builders of :mod:`cnnlab.models`, never the other way
round. Importing this package does not start TensorFlow: the ResNet and
lesson-12 trainers (and Keras with them) load when first used.
"""

from __future__ import annotations

import importlib

from ..weights import weights_path
from .cli import MODELS, main
from .lenet5 import RECIPES, VARIANTS, train_lenet5
from .loop import EpochLog, TrainResult, evaluate, loss_and_accuracy, predict_classes

__all__ = ["MODELS", "RECIPES", "VARIANTS", "EpochLog", "TrainResult", "train_lenet5",
           "train_resnet", "degradation_experiment", "train_denoiser", "train_style_features",
           "evaluate", "loss_and_accuracy", "predict_classes", "main", "weights_path"]

#: The trainers whose modules start Keras, loaded on first use.
_LAZY = {"train_resnet": "resnet", "degradation_experiment": "resnet",
         "train_denoiser": "denoise", "train_style_features": "style"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
