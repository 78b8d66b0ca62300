"""A small denoising autoencoder for MNIST digits (lesson 12).

The network sees a digit covered in noise and must output the clean digit.
Its encoder halves the image twice with stride-2 convolutions (28x28 ->
14x14 -> 7x7); its decoder doubles it back twice with stride-2 transposed
convolutions (7x7 -> 14x14 -> 28x28). The decoder's kernels are 4x4, a
multiple of the stride, so every output cell gets the same number of
contributions and no checkerboard pattern appears.

The course ships a trained copy, ``data/weights/denoiser.keras``
(:func:`load_denoiser`). Its training is :func:`cnnlab.train.denoise.train_denoiser`,
also reachable as ``denoise.train_denoiser``; the shipped copy was made from
the course folder by::

    python -m cnnlab.train denoiser

Shapes: images ``(N, 28, 28, 1)`` float32 in [0, 1].
"""

from __future__ import annotations

import importlib

import numpy as np

from .._validate import as_array, as_pixels, check_int, check_noise, check_seed, describe
from .saved import open_model

__all__ = [
    "NOISE",
    "add_noise",
    "build_denoiser",
    "load_denoiser",
    "mse",
    "psnr",
    "to_images",
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
    check_noise(noise)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    noisy = images + noise * rng.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


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


def load_denoiser(path=None):
    """The course's trained denoiser (``data/weights/denoiser.keras``), or the model at ``path``.

    The shipped file is checked (present, whole, the shipped SHA-256) first;
    a damaged one raises :class:`cnnlab.weights.ModelFileError` naming the
    file and how to restore it.
    """
    return open_model(WEIGHTS_NAME if path is None else path, "path")


def __getattr__(name):
    if name == "train_denoiser":
        return importlib.import_module("cnnlab.train.denoise").train_denoiser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
