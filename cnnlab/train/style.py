"""Training the feature network of lesson 12's style transfer (``style.train_style_features``).

The course ships the result, ``data/weights/style_features.keras``, made from
the course folder by::

    python -m cnnlab.train style-features

The network, the Gram matrices and the losses are in :mod:`cnnlab.style`.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_epochs, check_int, check_seed, check_verbose
from ..models.style import build_feature_network

__all__ = ["train_style_features"]


def train_style_features(n_train=20000, epochs=4, *, batch_size=128, seed=0, verbose=0):
    """Train :func:`cnnlab.style.build_feature_network` on the first ``n_train`` Fashion-MNIST images.

    Parameters
    ----------
    n_train : int
        1 .. 60000 training images.
    epochs : int
        1 .. 1000.
    batch_size : int
        At least 1.
    seed : int
        0 .. 2**32 - 1.
    verbose : {0, 1, 2}
        As ``keras.Model.fit``.

    Returns
    -------
    model : keras.Model
    accuracy : float
        On the 10,000 test images.
    """
    n_train = check_int(n_train, "n_train", minimum=1)
    if n_train > 60000:
        raise ValueError(f"`n_train` must be at most 60000 (the Fashion-MNIST training images), "
                         f"got {n_train:,}")
    epochs = check_epochs(epochs)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_seed(seed)
    verbose = check_verbose(verbose)
    import keras

    from ..data import load_fashion_mnist

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(limit=(n_train, None))
    x_train = (x_train / 255.0).astype(np.float32)[..., None]  # (n_train, 28, 28, 1)
    x_test = (x_test / 255.0).astype(np.float32)[..., None]    # (10000, 28, 28, 1)
    model = build_feature_network(seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, shuffle=True,
              verbose=verbose)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return model, float(accuracy)
