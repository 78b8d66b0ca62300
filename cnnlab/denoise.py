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

from ._validate import as_array, check_int, describe

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

    Values above 1 are taken as 0-255 pixels and divided by 255; a single
    image ``(28, 28)`` becomes a batch of one.
    """
    x = as_array(x, "x", ndims=(2, 3, 4))
    if x.ndim == 4:
        if x.shape[-1] != 1:
            raise ValueError(f"`x` must have one channel, got shape {x.shape}")
        x = x[..., 0]
    if x.ndim == 2:
        x = x[None]
    scale = 255.0 if x.max(initial=0.0) > 1.0 else 1.0
    return (x / scale).astype(np.float32)[..., None]  # (N, H, W, 1)


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
    if not (isinstance(noise, (int, float)) and not isinstance(noise, bool)) or noise < 0:
        raise ValueError(f"`noise` must be a number >= 0, got {describe(noise)}")
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    noisy = images + noise * rng.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def mse(a, b) -> float:
    """Mean squared difference of two arrays of the same shape."""
    a, b = as_array(a, "a"), as_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same shape, got {a.shape} and {b.shape}")
    return float(np.mean((a.astype(np.float64) - b) ** 2))


def psnr(a, b, data_range=1.0) -> float:
    """Peak signal-to-noise ratio in decibels: ``10 log10(data_range**2 / mse(a, b))``.

    Higher is better; each 10 dB is a tenfold smaller squared error.
    Infinite for identical arrays.
    """
    error = mse(a, b)
    if not isinstance(data_range, (int, float)) or isinstance(data_range, bool) or data_range <= 0:
        raise ValueError(f"`data_range` must be a positive number, got {describe(data_range)}")
    return float("inf") if error == 0 else float(10 * np.log10(data_range**2 / error))


def build_denoiser(*, seed=0):
    """The autoencoder: two stride-2 convolutions down, two stride-2 transposed convolutions up.

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1) -> (N, 28, 28, 1)``, layers ``enc1`` (14x14x16),
        ``enc2`` (7x7x32), ``dec1`` (14x14x32), ``dec2`` (28x28x16),
        ``clean`` (28x28x1, sigmoid); 29,569 parameters.
    """
    import keras
    from keras import layers

    seed = check_int(seed, "seed", minimum=0)

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

    Returns
    -------
    model : keras.Model
    losses : list of float
        Mean squared error on the training set in each epoch.
    """
    import keras

    from .data import load_mnist

    n_train = check_int(n_train, "n_train", minimum=1)
    epochs = check_int(epochs, "epochs", minimum=1)
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


def load_denoiser(path=None):
    """The course's trained denoiser (``data/weights/denoiser.keras``), or the model at ``path``."""
    from .weights import load_model

    return load_model(WEIGHTS_NAME if path is None else path)
