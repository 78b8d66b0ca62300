"""Transfer learning in miniature (lesson 12): features learned on clothes, reused for digits.

The lesson pretrains the lesson-07 network (:func:`cnnlab.models.build_mnist_cnn`)
on Fashion-MNIST, then teaches it MNIST digits from only a few labelled
examples, and compares it with the same network trained from scratch on the
same digits:

- :func:`pretrain_fashion` trains the network on Fashion-MNIST with the
  course's fast loop (:func:`cnnlab.train.loop.fit`);
- :func:`few_per_class` picks the same number of labelled examples of every
  class, a seeded choice;
- :func:`reuse_base` builds a fresh network whose convolutional base (the
  layers in :data:`BASE_LAYERS`) holds the pretrained weights, with a new,
  untrained classifier head;
- :func:`train_few` trains a network on a handful of images (the layers whose
  ``trainable`` is False stay as they are) and :func:`cnnlab.train.evaluate`
  scores it; :func:`three_ways` does all three (scratch, frozen base,
  fine-tuned) on one set of labelled images.

Nothing is downloaded or shipped: everything trains in the lesson.
"""

from __future__ import annotations

import numpy as np

from .._validate import (
    as_array, check_classifier, check_epochs, check_int, check_labels, check_real, check_seed,
    check_verbose, describe, model_images,
)
from ..session import import_keras

__all__ = ["BASE_LAYERS", "few_per_class", "pretrain_fashion", "reuse_base", "three_ways",
           "train_few"]

#: The convolutional base of :func:`cnnlab.models.build_mnist_cnn`: the layers that carry
#: weights before the flattening (the poolings between them have none).
BASE_LAYERS = ("conv1", "conv2")


def few_per_class(labels, per_class, *, seed=0) -> np.ndarray:
    """Positions of ``per_class`` examples of every class, a seeded random choice (lesson 12).

    Parameters
    ----------
    labels : (N,) array_like of int
        Class numbers ``0 .. n_classes - 1`` (``n_classes`` is the largest label + 1).
    per_class : int
        Examples to take of each class, at least 1.
    seed : int
        The same seed picks the same examples.

    Returns
    -------
    (n_classes * per_class,) ndarray of int64
        Positions into ``labels``, sorted by class (``per_class`` of class 0 first,
        then class 1, ...), each class's positions in increasing order.

    Raises
    ------
    ValueError
        If a class has fewer than ``per_class`` examples, or ``labels`` is not flat.
    """
    arr = np.asarray(labels) if labels is not None else None
    if arr is None or arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`labels` must be a flat, non-empty array of class numbers, got "
                         f"{describe(labels)}")
    n_classes = int(as_array(arr, "labels").max()) + 1
    arr = check_labels(arr, "labels", len(arr), n_classes, images="labels")
    per_class = check_int(per_class, "per_class", minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    chosen = []
    for c in range(n_classes):
        where = np.flatnonzero(arr == c)                                # (n_c,)
        if len(where) < per_class:
            raise ValueError(f"`per_class` is {per_class}, but class {c} has only {len(where)} "
                             "examples in `labels`")
        chosen.append(np.sort(rng.choice(where, per_class, replace=False)))
    return np.concatenate(chosen).astype(np.int64)


def pretrain_fashion(n_train=60000, epochs=1, *, n_test=10000, batch_size=128, peak_lr=3e-3,
                     seed=0, verbose=1):
    """Train the lesson-07 network on the first ``n_train`` Fashion-MNIST images (lesson 12).

    The network is :func:`cnnlab.models.build_mnist_cnn` (seeded), trained with
    the course's fast loop (Adam, warm-up then cosine decay of the learning
    rate), its test accuracy measured on the first ``n_test`` Fashion-MNIST
    test images after every epoch.

    Parameters
    ----------
    n_train : int
        1 .. 60000 training images (at least ``batch_size``).
    epochs : int
        1 .. 1000.
    n_test : int
        1 .. 10000 test images.
    batch_size : int
    peak_lr : float
        Largest learning rate, in (0, 1].
    seed : int
        Seeds the starting weights and the shuffling.
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar per epoch and one line per epoch; 2 the lines only.

    Returns
    -------
    cnnlab.train.TrainResult
        ``.model`` (``(N, 28, 28, 1)`` images in [0, 1] -> ``(N, 10)``
        probabilities of the ten clothing classes) and ``.history``, one
        :class:`~cnnlab.train.EpochLog` per epoch.
    """
    n_train = check_int(n_train, "n_train", minimum=1)
    if n_train > 60000:
        raise ValueError(f"`n_train` must be at most 60000 (the Fashion-MNIST training images), "
                         f"got {n_train:,}")
    n_test = check_int(n_test, "n_test", minimum=1)
    if n_test > 10000:
        raise ValueError(f"`n_test` must be at most 10000 (the Fashion-MNIST test images), "
                         f"got {n_test:,}")
    epochs = check_epochs(epochs)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if batch_size > n_train:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {n_train} training images")
    peak_lr = check_real(peak_lr, "peak_lr", above=0, maximum=1)
    seed = check_seed(seed)
    verbose = check_verbose(verbose)
    keras = import_keras()

    from ..data import load_fashion_mnist
    from ..models.mnist_cnn import build_mnist_cnn
    from .loop import fit

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(limit=(n_train, n_test))
    x_train = (x_train / 255.0).astype(np.float32)[..., None]           # (n_train, 28, 28, 1)
    x_test = (x_test / 255.0).astype(np.float32)[..., None]             # (n_test, 28, 28, 1)
    keras.utils.set_random_seed(seed)
    model = build_mnist_cnn(seed=seed)
    return fit(model, x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int64),
               epochs=epochs, batch_size=batch_size, peak_lr=peak_lr, seed=seed,
               steps_per_call=16, eval_batch_size=1000, verbose=verbose)


def reuse_base(pretrained, *, seed=1, layers=BASE_LAYERS):
    """A fresh lesson-07 network whose convolutional base holds ``pretrained``'s weights (lesson 12).

    Every layer named in ``layers`` gets a copy of the weights of the layer of
    the same name in ``pretrained``; every other layer (the classifier head:
    ``dense`` and ``output``) keeps the untrained, seeded weights of
    :func:`cnnlab.models.build_mnist_cnn`. Every layer stays trainable: set
    ``model.get_layer(name).trainable = False`` to freeze one.

    Parameters
    ----------
    pretrained : keras.Model
        A :func:`cnnlab.models.build_mnist_cnn` network (e.g. from :func:`pretrain_fashion`).
    seed : int
        Seeds the new head (and the dropout).
    layers : sequence of str
        The layers to copy.

    Returns
    -------
    keras.Model
        ``(N, 28, 28, 1)`` -> ``(N, 10)`` probabilities; ``pretrained`` is not changed.
    """
    check_classifier(pretrained, "pretrained")
    seed = check_seed(seed)
    if isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"`layers` must be a sequence of layer names, got {describe(layers)}")
    from ..models.mnist_cnn import build_mnist_cnn

    model = build_mnist_cnn(seed=seed, input_shape=tuple(pretrained.input.shape[1:]),
                            n_classes=pretrained.output.shape[-1])
    for name in layers:
        try:
            source, target = pretrained.get_layer(name), model.get_layer(name)
        except ValueError:
            raise ValueError(f"`layers` names {name!r}, which is not a layer of both networks; "
                             f"the base of the lesson-07 network is {BASE_LAYERS}") from None
        weights = source.get_weights()
        if [w.shape for w in weights] != [w.shape for w in target.get_weights()]:
            raise ValueError(f"layer {name!r} of `pretrained` has weights of shapes "
                             f"{[w.shape for w in weights]}, the new network's of "
                             f"{[w.shape for w in target.get_weights()]}")
        target.set_weights(weights)
    return model


def train_few(model, x, y, *, epochs=60, learning_rate=1e-3, batch_size=20, seed=0):
    """Train ``model`` on a few labelled images with Adam; return the loss of every epoch (lesson 12).

    Only the layers whose ``trainable`` is True at the call change (a fresh
    optimizer and a compiled training step are made for them, the steps of one
    epoch in one graph call, as in :func:`cnnlab.train.loop.fit`). Training is
    silent; a last partial batch of each epoch is dropped.

    Parameters
    ----------
    model : keras.Model
        ``(N, H, W, C)`` -> ``(N, n_classes)`` probabilities.
    x : (N, H, W) or (N, H, W, C) array_like
        uint8 pixels 0-255 or brightness in [0, 1].
    y : (N,) array_like of int
        Class numbers.
    epochs : int
        Passes over the ``N`` images.
    learning_rate : float
        Adam's (constant) learning rate, in (0, 1].
    batch_size : int
    seed : int
        Seeds the shuffling and the dropout.

    Returns
    -------
    (epochs,) ndarray of float
        The mean training loss (cross-entropy) of every epoch.
    """
    shape, n_classes = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)                  # (N, H, W, C)
    y = check_labels(y, "y", len(x), n_classes)
    epochs = check_epochs(epochs)
    learning_rate = check_real(learning_rate, "learning_rate", above=0, maximum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_seed(seed)
    keras = import_keras()

    if batch_size > len(x):
        raise ValueError(f"`batch_size` {batch_size} is larger than the {len(x)} images of `x`")
    keras = import_keras()
    import tensorflow as tf

    from .loop import batch_plan, make_train_chunk

    keras.utils.set_random_seed(seed)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)
    train_chunk = make_train_chunk(model, optimizer, batch_size)      # trainable layers only
    rng = np.random.default_rng(seed)
    x, y = tf.constant(x), tf.constant(y.astype(np.int32))              # (N, H, W, C), (N,)
    losses = []
    for _ in range(epochs):
        plan = batch_plan(len(x), batch_size, rng)                      # (steps, B)
        loss_sum, _ = train_chunk(x, y, tf.constant(plan))
        losses.append(float(loss_sum) / len(plan))
    return np.asarray(losses)


def three_ways(pretrained, x, y, x_test, y_test, *, epochs=40, fine_tune_epochs=20,
               fine_tune_lr=1e-4, seed=1, layers=BASE_LAYERS) -> dict:
    """Test accuracy of one architecture trained three ways on the same few images (lesson 12).

    The three networks, all :func:`cnnlab.models.build_mnist_cnn` with the
    same seeded head:

    - ``"scratch"``: every layer starts untrained, ``epochs`` of :func:`train_few`;
    - ``"frozen base"``: the base comes from ``pretrained`` (:func:`reuse_base`)
      and stays frozen (``trainable = False``) while the new head trains for ``epochs``;
    - ``"fine-tuned"``: that network unfrozen, every layer trained for
      ``fine_tune_epochs`` more at the small learning rate ``fine_tune_lr``.

    Parameters
    ----------
    pretrained : keras.Model
        The source network (from :func:`pretrain_fashion`).
    x, y : (N, 28, 28) uint8 pixels and (N,) labels
        The few labelled images.
    x_test, y_test : (M, 28, 28) uint8 pixels and (M,) labels
        The images the three networks are scored on.
    epochs, fine_tune_epochs : int
    fine_tune_lr : float
    seed : int
        Seeds the heads (the same for all three networks).
    layers : sequence of str
        The base.

    Returns
    -------
    dict
        ``{"scratch": accuracy, "frozen base": accuracy, "fine-tuned": accuracy}``,
        each in [0, 1].
    """
    from ..models.mnist_cnn import build_mnist_cnn
    from .loop import evaluate

    scratch = build_mnist_cnn(seed=check_seed(seed))
    train_few(scratch, x, y, epochs=epochs)
    reused = reuse_base(pretrained, seed=seed, layers=layers)
    for name in layers:
        reused.get_layer(name).trainable = False
    train_few(reused, x, y, epochs=epochs)
    frozen = evaluate(reused, x_test, y_test)
    for name in layers:
        reused.get_layer(name).trainable = True
    train_few(reused, x, y, epochs=fine_tune_epochs, learning_rate=fine_tune_lr)
    return {"scratch": evaluate(scratch, x_test, y_test), "frozen base": frozen,
            "fine-tuned": evaluate(reused, x_test, y_test)}
