"""Training the denoising autoencoder of lesson 12 (``denoise.train_denoiser``).

The course ships the result, ``data/weights/denoiser.keras``, made from the
course folder by::

    python -m cnnlab.train denoiser

The network, its noise and its scores are in :mod:`cnnlab.denoise`.
"""

from __future__ import annotations

from .._validate import check_epochs, check_int, check_noise, check_seed, check_verbose
from ..models.denoise import NOISE, add_noise, build_denoiser, to_images

__all__ = ["train_denoiser", "check_training"]


def train_denoiser(n_train=20000, epochs=5, *, noise=NOISE, batch_size=128, seed=0, verbose=0):
    """Train a fresh :func:`cnnlab.denoise.build_denoiser` on the first ``n_train`` MNIST digits.

    Each epoch draws new noise (seeded), so the network cannot learn the noise
    by heart. The loss is the binary cross-entropy between output and clean
    pixels (treated as probabilities of "ink"): its gradients stay strong
    where the sigmoid saturates, which keeps the network from settling on a
    flat grey output early on, as plain mean squared error tends to.

    Parameters
    ----------
    n_train : int
        1 .. 60000 training digits.
    epochs : int
        1 .. 1000.
    noise : float
        Standard deviation of the noise, >= 0.
    batch_size : int
        At least 1.
    seed : int
        0 .. 2**32 - 1.
    verbose : {0, 1, 2}
        As ``keras.Model.fit``.

    Returns
    -------
    model : keras.Model
    losses : list of float
        Mean squared error on the training set in each epoch.
    """
    n_train, epochs, noise, batch_size, seed, verbose = check_training(
        n_train, epochs, noise, batch_size, seed, verbose)
    import keras

    from ..data import load_mnist

    keras.utils.set_random_seed(seed)
    (x_train, _), _ = load_mnist(limit=(n_train, 1))
    clean = to_images(x_train)  # (n_train, 28, 28, 1)
    model = build_denoiser(seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=["mse"])
    losses = []
    for epoch in range(epochs):
        noisy = add_noise(clean, noise, seed=seed + epoch)
        history = model.fit(noisy, clean, batch_size=batch_size, epochs=1, shuffle=True,
                            verbose=verbose)
        losses.append(float(history.history["mse"][-1]))
    return model, losses


def check_training(n_train, epochs, noise, batch_size, seed, verbose):
    """The arguments of :func:`train_denoiser`, checked before anything is loaded."""
    n_train = check_int(n_train, "n_train", minimum=1)
    if n_train > 60000:
        raise ValueError(f"`n_train` must be at most 60000 (the MNIST training digits), got "
                         f"{n_train:,}")
    return (n_train, check_epochs(epochs), check_noise(noise),
            check_int(batch_size, "batch_size", minimum=1), check_seed(seed),
            check_verbose(verbose))
