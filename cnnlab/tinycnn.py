"""A tiny CNN trained with the hand-written numpy kernels (lesson 08).

    image (N, 28, 28, 1)
    -> conv 8@3x3 + bias     (N, 26, 26, 8)      kernels.conv2d
    -> ReLU                  (N, 26, 26, 8)      kernels.relu
    -> 2x2 max pool          (N, 13, 13, 8)      kernels.max_pool2d
    -> flatten               (N, 1352)
    -> dense 10              (N, 10)  logits
    -> softmax cross-entropy loss                backprop.softmax_cross_entropy

The backward pass runs the same chain in reverse with :mod:`cnnlab.backprop`,
and :func:`train` moves the weights with an optimiser of :mod:`cnnlab.optim`.
No TensorFlow anywhere: every number is computed by code the course shows.
"""

from __future__ import annotations

import numpy as np

from . import backprop, kernels, optim
from ._validate import as_array, as_pixels, check_epochs, check_int, check_labels, describe

__all__ = ["TinyCNN", "to_images", "train"]

#: The most parameters a TinyCNN may have (80 MB of float64 weights): numpy trains it.
MAX_PARAMS = 10_000_000


class TinyCNN:
    """conv -> ReLU -> max pool -> dense -> softmax, with its backward pass.

    Parameters
    ----------
    filters : int
        Number of 3x3 (``kernel_size``) filters of the convolution.
    kernel_size : int
    image_size : int
        Height and width of the (square, one-channel) input images.
    n_classes : int
    seed : int
        Seed of the random initial weights (He initialisation).

    Raises
    ------
    ValueError
        For a network of more than :data:`MAX_PARAMS` (10 million) parameters:
        it is trained in numpy, one multiplication at a time.

    Attributes
    ----------
    params : dict of name -> ndarray
        ``"kernel" (K, K, 1, F)``, ``"bias" (F,)``, ``"weights" (F * P * P, n_classes)``
        and ``"dense_bias" (n_classes,)``, where ``P = (image_size - K + 1) // 2``.
        The optimisers update these arrays in place.
    """

    def __init__(self, filters=8, kernel_size=3, image_size=28, n_classes=10, seed=0):
        f = check_int(filters, "filters", minimum=1)
        k = check_int(kernel_size, "kernel_size", minimum=1)
        size = check_int(image_size, "image_size", minimum=k + 1)
        n_classes = check_int(n_classes, "n_classes", minimum=2)
        rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
        pooled = (size - k + 1) // 2  # side of the pooled maps
        n_params = k * k * f + f + pooled * pooled * f * n_classes + n_classes
        if n_params > MAX_PARAMS:
            raise ValueError(
                f"`filters`, `kernel_size`, `image_size` and `n_classes`: the network would have "
                f"{n_params:,} parameters; TinyCNN runs in numpy and stops at {MAX_PARAMS:,} "
                "(the lesson's network has 13,610). Use smaller values.")
        self.image_size = size
        features = pooled * pooled * f
        self.params = {
            "kernel": rng.normal(0, np.sqrt(2 / (k * k)), (k, k, 1, f)),  # (K, K, 1, F)
            "bias": np.zeros(f),  # (F,)
            "weights": rng.normal(0, np.sqrt(1 / features), (features, n_classes)),  # (F*P*P, 10)
            "dense_bias": np.zeros(n_classes),  # (10,)
        }

    def forward(self, x):
        """Class scores (logits) of a batch, and what the backward pass needs.

        Parameters
        ----------
        x : (N, H, W, 1) array_like

        Returns
        -------
        logits : (N, n_classes) ndarray
        cache : dict of the intermediate arrays
        """
        x = self._check_images(x)
        p = self.params
        z = kernels.conv2d(x, p["kernel"], p["bias"])  # (N, 26, 26, F)
        a = kernels.relu(z)  # (N, 26, 26, F)
        pooled = kernels.max_pool2d(a, 2)  # (N, 13, 13, F)
        flat = pooled.reshape(len(x), -1)  # (N, 1352)
        logits = flat @ p["weights"] + p["dense_bias"]  # (N, 10)
        return logits, {"x": x, "z": z, "a": a, "flat": flat}

    def loss_and_grads(self, x, y):
        """Mean cross-entropy of a batch and its gradient for every parameter.

        Parameters
        ----------
        x : (N, H, W, 1) array_like
        y : (N,) array_like of int

        Returns
        -------
        loss : float
        grads : dict, the keys and shapes of :attr:`params`
        """
        x = self._check_images(x)
        y = self._check_labels(y, len(x))
        logits, c = self.forward(x)
        loss, dlogits = backprop.softmax_cross_entropy(logits, y)  # (N, 10)
        dflat, dweights, ddense_bias = backprop.dense_backward(dlogits, c["flat"], self.params["weights"])
        dpooled = dflat.reshape(len(c["x"]), *self._pooled_shape())  # (N, 13, 13, F)
        da = backprop.max_pool2d_backward(dpooled, c["a"], 2)  # (N, 26, 26, F)
        dz = backprop.relu_backward(da, c["z"])  # (N, 26, 26, F)
        _, dkernel, dbias = backprop.conv2d_backward(dz, c["x"], self.params["kernel"])
        grads = {"kernel": dkernel, "bias": dbias, "weights": dweights, "dense_bias": ddense_bias}
        return loss, grads

    def predict(self, x):
        """Most likely class of every image: (N,) int ndarray."""
        return self.forward(x)[0].argmax(axis=1)

    def accuracy(self, x, y) -> float:
        """Fraction of the images ``x (N, H, W, 1)`` classified as their label ``y (N,)``.

        ``y`` must hold one class number ``0 .. n_classes - 1`` per image.
        """
        x = self._check_images(x)
        y = self._check_labels(y, len(x))
        if len(x) == 0:
            raise ValueError("`x` must hold at least one image to measure an accuracy")
        return float(np.mean(self.predict(x) == y))

    @property
    def n_classes(self) -> int:
        """Number of classes (outputs of the dense layer)."""
        return int(self.params["dense_bias"].shape[0])

    def _check_labels(self, y, n):
        return check_labels(y, "y", n, self.n_classes)

    def _pooled_shape(self):
        k, f = self.params["kernel"].shape[0], self.params["kernel"].shape[3]
        side = (self.image_size - k + 1) // 2
        return side, side, f

    def _check_images(self, x):
        x = as_array(x, "x", ndims=4)
        want = (self.image_size, self.image_size, 1)
        if x.shape[1:] != want:
            hint = ("; add the channel axis with tinycnn.to_images(x) or x[..., None]"
                    if x.shape[1:3] == want[:2] else "")
            raise ValueError(f"`x` must have shape (N, {', '.join(map(str, want))}), got "
                             f"{x.shape}{hint}")
        return x

    def __repr__(self):
        k, _, _, f = self.params["kernel"].shape
        return f"TinyCNN(filters={f}, kernel_size={k}, image_size={self.image_size})"


def to_images(x):
    """MNIST pixels as network input: ``(N, 28, 28) uint8`` -> ``(N, 28, 28, 1)`` floats in [0, 1].

    Also takes floats already in [0, 1] (kept as they are). float64, unlike
    the float32 of :func:`cnnlab.lenet.prepare_images`: the numpy network
    computes in float64.
    """
    arr = np.asarray(x) if isinstance(x, np.ndarray) else None
    if arr is None or arr.ndim != 3:
        raise ValueError(f"`x` must be (N, H, W) uint8 pixels as load_mnist gives them, got "
                         f"{describe(x)}")
    if arr.dtype == np.uint8:
        return (arr / 255.0)[..., None]  # (N, H, W, 1)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"`x` must be (N, H, W) uint8 pixels as load_mnist gives them, or "
                         f"floats in [0, 1], got {describe(x)}")
    as_pixels(arr, "x", ndims=3)                       # refuses NaN, negative and > 255
    high = float(arr.max()) if arr.size else 0.0
    if high > 1:
        raise ValueError(f"`x` holds floats up to {high:g}: pass uint8 pixels 0-255 as "
                         "load_mnist gives them, or floats in [0, 1]")
    return arr.astype(np.float64)[..., None]


def train(model, x, y, optimizer, *, epochs=1, batch_size=32, seed=0, validation=None, log=print):
    """Train ``model`` with ``optimizer`` on mini-batches; return the loss of every step.

    Parameters
    ----------
    model : TinyCNN
    x : (N, H, W, 1) array_like
    y : (N,) array_like of int
    optimizer : one of :mod:`cnnlab.optim`'s optimisers
    epochs : int
    batch_size : int
        ``len(x)`` for batch gradient descent, 1 for stochastic.
    seed : int
        Seed of the shuffling (a new order every epoch).
    validation : (x_val, y_val), optional
        Accuracy on these is printed after every epoch.
    log : callable or None
        Called with one progress line per epoch (``print`` by default).

    Returns
    -------
    list of float
        The training loss of every step, in order.
    """
    if not isinstance(model, TinyCNN):
        raise TypeError(f"`model` must be a TinyCNN, got {describe(model)}")
    if not hasattr(optimizer, "step"):
        raise TypeError(f"`optimizer` must be an optimiser from cnnlab.optim, got {describe(optimizer)}")
    x = model._check_images(x)
    y = model._check_labels(y, len(x))
    if len(x) == 0:
        raise ValueError("`x` must hold at least one training image, got 0")
    epochs = check_epochs(epochs)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"`validation` must be a pair (x_val, y_val) or None, got "
                            f"{describe(validation)}")
        try:
            x_val = model._check_images(validation[0])
            validation = (x_val, model._check_labels(validation[1], len(x_val)))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"`validation` (x_val, y_val): {exc}") from None
    if log is not None and not callable(log):
        raise TypeError(f"`log` must be a function such as print, or None, got {describe(log)}")
    losses = []
    for epoch in range(1, epochs + 1):
        batches = optim.minibatches(len(x), batch_size, rng)
        for idx in batches:
            loss, grads = model.loss_and_grads(x[idx], y[idx])
            optimizer.step(model.params, grads)
            losses.append(loss)
        if log is not None:
            line = (f"epoch {epoch}/{epochs}: {len(batches)} steps, "
                    f"mean loss {np.mean(losses[-len(batches):]):.3f}")
            if validation is not None:
                line += f", validation accuracy {model.accuracy(*validation):.3f}"
            log(line)
    return losses
