"""A small denoising autoencoder for MNIST digits (lesson 12).

The network sees a digit covered in noise and must output the clean digit.
Its encoder halves the image twice with stride-2 convolutions (28x28 ->
14x14 -> 7x7); its decoder doubles it back twice with stride-2 transposed
convolutions (7x7 -> 14x14 -> 28x28). The decoder's kernels are 4x4, a
multiple of the stride, so every output cell gets the same number of
contributions and no checkerboard pattern appears.

The course ships a trained copy, ``data/weights/denoiser.keras``, made by::

    python -m cnnlab.beyond train-denoiser

Shapes: images ``(N, 28, 28, 1)`` float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np

from ..train.loop import as_pixels, check_epochs, check_seed, check_verbose
from .._validate import as_array, check_int, describe

__all__ = [
    "NOISE",
    "add_noise",
    "build_denoiser",
    "load_denoiser",
    "mse",
    "psnr",
    "to_images",
    "train_denoiser",
]

NOISE = 0.5  # standard deviation of the Gaussian noise, in units of the [0, 1] brightness
WEIGHTS_NAME = "denoiser"


def to_images(x) -> np.ndarray:
    """MNIST pixels as network input: ``(N, 28, 28)`` uint8 or float -> ``(N, 28, 28, 1)`` float32 in [0, 1].

    Integer pixels (uint8, as loaded) and floats reaching 2 or more (0-255 pixels) are
    divided by 255; floats already in [0, 1] are kept, so preparing twice
    changes nothing. A single image ``(28, 28)`` becomes a batch of one and
    ``(N, H, W, 1)`` is accepted too. The same rule as
    :func:`cnnlab.lenet.prepare_images` and :func:`cnnlab.resnet.prepare_images`.

    Raises
    ------
    ValueError
        For negative values, NaN, values above 255, floats just above 1
        (between 1 and 2) or more than one channel.
    """
    return as_pixels(x, "x", ndims=(2, 3, 4))                        # (N, H, W, 1)


def add_noise(images, noise=NOISE, *, seed=0) -> np.ndarray:
    """Add Gaussian noise and clip back to [0, 1].

    Parameters
    ----------
    images : (N, H, W, 1) or (H, W) array_like
        Brightness in [0, 1].
    noise : float
        Standard deviation of the noise (0.5: half the brightness range).
    seed : int
        The same seed gives the same noise.

    Returns
    -------
    ndarray
        Same shape, float32, in [0, 1].
    """
    images = as_array(images, "images")
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"`images` must hold brightness in [0, 1], got values "
                         f"{images.min():g}..{images.max():g}; turn 0-255 pixels into brightness "
                         "with denoise.to_images(x)")
    _check_noise(noise)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    noisy = images + noise * rng.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def _check_noise(noise) -> float:
    if (isinstance(noise, (bool, np.bool_)) or not isinstance(noise, (int, float, np.floating,
                                                                      np.integer))
            or not np.isfinite(noise) or noise < 0):
        raise ValueError(f"`noise` must be a number >= 0, got {describe(noise)}")
    return float(noise)


def mse(a, b) -> float:
    """Mean squared difference of two arrays of the same shape."""
    a, b = as_array(a, "a"), as_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"`a` and `b` must hold at least one value, got shape {a.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        error = float(np.mean((a.astype(np.float64) - b) ** 2))
    if not np.isfinite(error):
        raise ValueError("`a` and `b` differ by more than float64 can square (values near "
                         "1e154 or more); compare images in [0, 1] or 0-255")
    return error


def psnr(a, b, data_range=1.0) -> float:
    """Peak signal-to-noise ratio in decibels: ``10 log10(data_range**2 / mse(a, b))``.

    Higher is better; each 10 dB is a tenfold smaller squared error.
    Infinite for identical arrays.
    """
    error = mse(a, b)
    if (isinstance(data_range, (bool, np.bool_))
            or not isinstance(data_range, (int, float, np.floating, np.integer))
            or not np.isfinite(data_range) or data_range <= 0):
        raise ValueError(f"`data_range` must be a positive number, got {describe(data_range)}")
    if error == 0:
        return float("inf")
    with np.errstate(over="ignore", divide="ignore"):
        value = float(10 * np.log10(np.float64(data_range) ** 2 / error))
    if not np.isfinite(value):
        raise ValueError(f"`data_range` {data_range:g} is too large for float64 (its square "
                         "overflows); use the brightness range of the images, 1.0 or 255")
    return value


def build_denoiser(*, seed=0):
    """The autoencoder: two stride-2 convolutions down, two stride-2 transposed convolutions up.

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1) -> (N, 28, 28, 1)``, layers ``enc1`` (14x14x16),
        ``enc2`` (7x7x32), ``dec1`` (14x14x32), ``dec2`` (28x28x16),
        ``clean`` (28x28x1, sigmoid); 29,569 parameters.
    """
    seed = check_seed(seed)
    import keras
    from keras import layers

    def init(offset):
        return keras.initializers.HeUniform(seed=seed + offset)

    inputs = keras.Input(shape=(28, 28, 1), name="noisy")                      # (N, 28, 28, 1)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu",
                      kernel_initializer=init(1), name="enc1")(inputs)          # (N, 14, 14, 16)
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu",
                      kernel_initializer=init(2), name="enc2")(x)               # (N, 7, 7, 32)
    x = layers.Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu",
                               kernel_initializer=init(3), name="dec1")(x)      # (N, 14, 14, 32)
    x = layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu",
                               kernel_initializer=init(4), name="dec2")(x)      # (N, 28, 28, 16)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid",
                            kernel_initializer=init(5), name="clean")(x)        # (N, 28, 28, 1)
    return keras.Model(inputs, outputs, name="denoiser")


def train_denoiser(n_train=20000, epochs=5, *, noise=NOISE, batch_size=128, seed=0, verbose=0):
    """Train a fresh denoiser on the first ``n_train`` MNIST training digits.

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
    n_train, epochs, noise, batch_size, seed, verbose = _check_training(
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


def _check_training(n_train, epochs, noise, batch_size, seed, verbose):
    """The arguments of :func:`train_denoiser`, checked before anything is loaded."""
    n_train = check_int(n_train, "n_train", minimum=1)
    if n_train > 60000:
        raise ValueError(f"`n_train` must be at most 60000 (the MNIST training digits), got "
                         f"{n_train:,}")
    return (n_train, check_epochs(epochs), _check_noise(noise),
            check_int(batch_size, "batch_size", minimum=1), check_seed(seed),
            check_verbose(verbose))


def load_denoiser(path=None):
    """The course's trained denoiser (``data/weights/denoiser.keras``), or the model at ``path``.

    The shipped file is checked (present, whole, the shipped SHA-256) first;
    a damaged one raises :class:`cnnlab.weights.ModelFileError` naming the
    file and how to restore it.
    """
    from ..weights import _load

    return _load(WEIGHTS_NAME if path is None else path, "path")
