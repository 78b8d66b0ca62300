"""Every Keras model of the course, one module per family (lesson 07 onwards).

- :mod:`cnnlab.models.mnist_cnn`  the lesson-07 MNIST network, its trained copy
  (:func:`load_mnist_cnn`) and :func:`forward_numpy`
- :mod:`cnnlab.models.lenet`      LeNet-5, classic and modern, with its tables (lesson 09)
- :mod:`cnnlab.models.classic`    AlexNet, VGG-16, NiN, Inception (lesson 10)
- :mod:`cnnlab.models.mini`       a small VGG and a small NiN for Fashion-MNIST (lesson 10)
- :mod:`cnnlab.models.resnet`     residual, plain and bottleneck blocks, ResNet builders (lesson 11)
- :mod:`cnnlab.models.denoise`    the denoising autoencoder (lesson 12)
- :mod:`cnnlab.models.style`      Gram matrices and the style-feature network (lesson 12)
- :mod:`cnnlab.models.saved`      :func:`load_model`: the shipped models (lessons 09-12)

Builders are plain functions returning Keras functional models with fixed
layer names; their weights come from seeded initialisers. This package
re-exports every builder, so ``models.build_lenet5`` and
``models.build_resnet`` work as well as the family modules. Importing it
starts Keras quietly and registers the course's custom layers
(``Subsampling``, ``TableConv2D``, ``LocalResponseNormalization``), so a
shipped model opens with ``keras.saving.load_model`` once ``cnnlab.models`` is
imported (or with :func:`load_model`, which also takes a shipped model's name)::

    import keras
    import cnnlab.models
    model = keras.saving.load_model("data/weights/lenet5_classic.keras")

Training lives in :mod:`cnnlab.train`.
"""

from __future__ import annotations

from .classic import (
    LocalResponseNormalization, build_alexnet, build_inception_3a, build_nin, build_vgg16,
    inception_module,
)
from .lenet import Subsampling, TableConv2D, build_lenet5
from .mini import build_mini_nin, build_mini_vgg
from .mnist_cnn import (
    MNIST_SHAPE, SUPPORTED_LAYERS, build_mnist_cnn, forward_numpy, load_mnist_cnn, mnist_cnn_layers,
)
from .resnet import bottleneck_block, build_plain, build_resnet, plain_block, residual_block
from .saved import load_model

__all__ = [
    "build_mnist_cnn", "load_mnist_cnn", "mnist_cnn_layers", "forward_numpy", "SUPPORTED_LAYERS",
    "MNIST_SHAPE",
    # lesson 09
    "build_lenet5", "Subsampling", "TableConv2D",
    # lesson 10
    "build_alexnet", "build_vgg16", "build_nin", "inception_module", "build_inception_3a",
    "LocalResponseNormalization", "build_mini_vgg", "build_mini_nin",
    # lesson 11
    "residual_block", "plain_block", "bottleneck_block", "build_resnet", "build_plain",
    "load_model",
]
