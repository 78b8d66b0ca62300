"""The one fast training loop of the course's classifiers (LeNet-5 in lesson 09, the ResNets in 11).

The whole training set lives in memory as one tensor; each step gathers its
batch by index, and many steps run inside one compiled TensorFlow graph (a
``tf.function`` holding a loop), so Python and Keras do not intervene between
steps. The learning rate warms up linearly from 0, then follows a cosine
curve down to 0. :func:`fit` runs it, one :class:`EpochLog` per epoch;
:func:`evaluate`, :func:`loss_and_accuracy` and :func:`predict_classes`
score a trained classifier in batches.

The argument checks training shares with the builders (seeds, epochs, pixels,
labels, the model a batch is for) live in :mod:`cnnlab._validate`; the ones
training code takes are offered here too.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .._validate import (
    as_pixels, check_classifier, check_epochs, check_int, check_labels, model_images,
)
from ..session import import_keras

__all__ = ["EpochLog", "TrainResult", "STEPS_PER_CALL", "WARMUP_FRACTION", "fit",
           "evaluate", "load_mnist_for_training",
           "loss_and_accuracy", "predict_classes", "schedule", "batch_plan", "make_train_chunk",
           "windows",
           "run_epoch", "as_pixels", "check_epochs", "check_labels"]

WARMUP_FRACTION = 0.1      # share of all steps spent warming the learning rate up
#: Training steps inside one compiled graph call (also the progress bar's step), by
#: network: LeNet-5's steps are short, so more of them share one call.
STEPS_PER_CALL = {"lenet5": 48, "resnet": 32}


class EpochLog(NamedTuple):
    """One epoch: mean training loss and accuracy, test loss and accuracy, training seconds."""

    epoch: int
    loss: float
    accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


class TrainResult(NamedTuple):
    """The trained model and one epoch log per epoch (``.loss``, ``.test_accuracy``, ``.seconds``, ...)."""

    model: object
    history: list

    @property
    def train_seconds(self) -> float:
        """Seconds spent training (evaluation after each epoch excluded)."""
        return float(sum(e.seconds for e in self.history))


# ----------------------------------------------------------------- scoring a classifier

def load_mnist_for_training(limit, batch_size: int):
    """MNIST for a training command, checked against the batch size before and after loading.

    Parameters
    ----------
    limit : see :func:`cnnlab.data.check_limit` (None: all 60,000 / 10,000 digits)
    batch_size : int
        Already checked to be a whole number >= 1.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        uint8 images ``(N, 28, 28)`` and their labels, as :func:`cnnlab.data.load_mnist` gives.
    """
    from .. import data

    n_train, _ = data.check_limit(limit, 60000, 10000)      # a clear error before any loading
    if n_train < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {n_train} "
                         "training images")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(limit)
    if len(x_train) < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {len(x_train)} "
                         "training images")
    return (x_train, y_train), (x_test, y_test)


def _probabilities(model, x, batch_size: int) -> np.ndarray:
    """Class probabilities ``(N, n_classes)`` of prepared images ``x``, in batches, inference mode."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def loss_and_accuracy(model, x, y, batch_size=1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on images ``x (N, H, W, C)``, labels ``y (N,)``.

    ``x`` may hold raw uint8 pixels 0-255 (``(N, H, W)`` or ``(N, H, W, C)``)
    or images already prepared in [0, 1]: both give the same numbers (see
    :func:`cnnlab.resnet.prepare_images`). ``y`` holds class numbers
    ``0 .. n_classes - 1``. This is ``cnnlab.resnet.evaluate`` (lesson 11).
    """
    shape, n_classes = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)                  # (N, H, W, C) in [0, 1]
    y = check_labels(y, "y", len(x), n_classes)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    probs = _probabilities(model, x, batch_size)                        # (N, n_classes)
    loss = -np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)))
    return float(loss), float(np.mean(probs.argmax(axis=1) == y))


def evaluate(model, x, y, batch_size=2000) -> float:
    """Accuracy of ``model`` on images ``x (N, 28, 28, 1)`` and labels ``y (N,)``, silently.

    ``x`` may hold raw uint8 pixels 0-255 (``(N, 28, 28)`` as
    :func:`cnnlab.data.load_mnist` gives them) or images already prepared in
    [0, 1] (:func:`cnnlab.lenet.prepare_images`): both give the same accuracy.
    ``y`` holds class numbers ``0 .. n_classes - 1``, one per image. The
    accuracy of :func:`loss_and_accuracy`, without the loss.
    """
    return loss_and_accuracy(model, x, y, batch_size)[1]


def predict_classes(model, x, batch_size=2000) -> np.ndarray:
    """Most probable class of every image, ``(N,)`` int (batched forward passes).

    ``x`` as in :func:`evaluate`: raw uint8 pixels or images in [0, 1].
    """
    shape, _ = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)
    return _probabilities(model, x, check_int(batch_size, "batch_size", minimum=1)).argmax(axis=1)


# ----------------------------------------------------------------- the loop

def schedule(peak_lr: float, total_steps: int):
    """Learning rate: 0 -> ``peak_lr`` over the first tenth of the steps, then a cosine down to 0."""
    keras = import_keras()
    warmup = max(1, int(WARMUP_FRACTION * total_steps))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=max(1, total_steps - warmup),
        warmup_target=peak_lr, warmup_steps=warmup)


def batch_plan(n: int, batch_size: int, rng) -> np.ndarray:
    """One epoch of shuffled indices, ``(steps, batch_size)`` int32; a last partial batch is dropped."""
    steps = n // batch_size
    return rng.permutation(n)[: steps * batch_size].reshape(steps, batch_size).astype(np.int32)


def make_train_chunk(model, optimizer, batch_size: int, label_smoothing: float = 0.0,
                     max_shift: int = 0):
    """A compiled function running the steps of ``plan``; returns (sum of losses, correct count).

    Its arguments are the images ``(N, H, W, C)``, the labels ``(N,)`` and the
    plan ``(steps, batch_size)``. The batch size is fixed in the signature so
    every shape inside the graph is known when TensorFlow picks its kernels.
    Targets are smoothed: ``(1 - e) * one_hot + e / n_classes``.

    With ``max_shift = s > 0`` the images come padded with ``s`` zeros on every
    side, ``(N, H + 2s, W + 2s, C)``, and a fourth argument ``offsets (steps, B, 2)``
    gives each image's window in each step (top row and left column, each in
    ``0 .. 2s``): every image moves by its own random shift, cut out inside the
    graph by two gathers.
    """
    keras = import_keras()
    import tensorflow as tf

    n_classes = model.output.shape[-1]
    variables = model.trainable_variables
    h, w, c = model.input.shape[1:]
    pad = 2 * max_shift
    specs = [tf.TensorSpec([None, h + pad, w + pad, c], tf.float32), tf.TensorSpec([None], tf.int32),
             tf.TensorSpec([None, batch_size], tf.int32)]

    def steps(x, y, plan, offsets):
        total_loss = tf.constant(0.0)
        correct = tf.constant(0, tf.int32)
        for i in tf.range(tf.shape(plan)[0]):
            xb = tf.gather(x, plan[i])                                  # (B, H (+2s), W (+2s), C)
            if offsets is not None:
                xb = windows(xb, offsets[i], h, w)                      # (B, H, W, C)
            yb = tf.gather(y, plan[i])                                  # (B,)
            target = tf.one_hot(yb, n_classes) * (1 - label_smoothing) + label_smoothing / n_classes
            with tf.GradientTape() as tape:
                probs = tf.cast(model(xb, training=True), tf.float32)   # (B, n_classes)
                loss = tf.reduce_mean(keras.losses.categorical_crossentropy(target, probs))
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            total_loss += loss
            hits = tf.equal(tf.argmax(probs, axis=1, output_type=tf.int32), yb)
            correct += tf.reduce_sum(tf.cast(hits, tf.int32))
        return total_loss, correct

    if max_shift:
        return tf.function(steps, input_signature=[
            *specs, tf.TensorSpec([None, batch_size, 2], tf.int32)])
    return tf.function(lambda x, y, plan: steps(x, y, plan, None), input_signature=specs)


def windows(images, offsets, height: int, width: int):
    """Cut each image's own ``height x width`` window, at its ``(row, column)`` offset.

    Parameters
    ----------
    images : (B, H', W', C) tensor
        Padded images (``H' >= height + max offset``).
    offsets : (B, 2) int32 tensor
        Top row and left column of each image's window.

    Returns
    -------
    (B, height, width, C) tensor
        ``images[b, r_b:r_b + height, q_b:q_b + width]`` for every ``b``, by two
        gathers (rows, then columns), so it runs inside a compiled graph.
    """
    import tensorflow as tf

    rows = offsets[:, :1] + tf.range(height)                            # (B, height)
    cols = offsets[:, 1:] + tf.range(width)                             # (B, width)
    images = tf.gather(images, rows, axis=1, batch_dims=1)              # (B, height, W', C)
    return tf.gather(images, cols, axis=2, batch_dims=1)                # (B, height, width, C)


def progress(total: int, description: str, verbose: int):
    """A progress bar over ``total`` steps (a widget in JupyterLab, text in a terminal) when ``verbose == 1``."""
    if verbose != 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", leave=False, dynamic_ncols=True)


def run_epoch(train_chunk, x, y, plan, *, steps_per_call: int, description: str, verbose: int,
              offsets=None):
    """Run one epoch's ``plan`` ``(steps, B)`` in chunks; return (mean loss, accuracy, seconds).

    ``x`` and ``y`` are tensors (images and int32 labels); ``offsets (steps, B, 2)``,
    for a chunk function made with ``max_shift``, places each image's window.
    The progress bar advances after every chunk of ``steps_per_call`` steps.
    """
    import tensorflow as tf

    steps, batch_size = plan.shape
    bar = progress(steps, description, verbose)
    start = time.perf_counter()
    loss_sum, correct = 0.0, 0
    for first in range(0, steps, steps_per_call):
        chunk = plan[first:first + steps_per_call]
        if offsets is None:
            chunk_loss, chunk_correct = train_chunk(x, y, tf.constant(chunk))
        else:
            chunk_loss, chunk_correct = train_chunk(
                x, y, tf.constant(chunk), tf.constant(offsets[first:first + steps_per_call]))
        loss_sum += float(chunk_loss)
        correct += int(chunk_correct)
        if bar is not None:
            bar.update(len(chunk))
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return loss_sum / steps, correct / (steps * batch_size), seconds


def fit(model, x_train, y_train, x_test, y_test, *, epochs, batch_size, peak_lr,
        weight_decay=None, label_smoothing=0.0, augment=None, batch_shift=0, seed=0,
        steps_per_call, eval_batch_size, verbose=1, label="") -> TrainResult:
    """Train ``model`` with the fast loop, scoring the test set after every epoch.

    The arguments are checked by the callers (:func:`cnnlab.train.train_lenet5`,
    :func:`cnnlab.train.resnet.train`); this function only trains.

    Parameters
    ----------
    model : keras.Model
        ``(N, H, W, C)`` -> ``(N, n_classes)`` probabilities.
    x_train, x_test : (N, H, W, C) float32 ndarray
        Images in [0, 1].
    y_train, y_test : (N,) int ndarray
        Class numbers.
    epochs, batch_size, peak_lr : int, int, float
        Passes over the training set, images per step, largest learning rate
        of the warm-up + cosine :func:`schedule`.
    weight_decay : float, optional
        None: Adam (LeNet-5's recipe); a number: AdamW with that decoupled
        weight decay (the ResNets' recipe).
    label_smoothing : float
        Targets ``(1 - e) * one_hot + e / n_classes``.
    augment : callable, optional
        ``augment(x_train, rng)`` -> fresh training images every epoch (drawn
        before the epoch's shuffle, counted in the epoch's seconds); None
        trains on ``x_train`` itself.
    batch_shift : int
        0, or the largest random shift (pixels): each image of each batch is
        moved by its own shift drawn in ``[-batch_shift, batch_shift]`` along
        each axis (zero fill), inside the compiled graph.
    seed : int
        Seeds the shuffling (and the random numbers of ``augment`` and ``batch_shift``).
    steps_per_call : int
        Steps per compiled graph call (:data:`STEPS_PER_CALL`).
    eval_batch_size : int
        Images per forward pass when scoring the test set.
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar per epoch and one line per epoch; 2 the lines only.
    label : str
        Printed at the start of each epoch's line (the ResNets print their name).

    Returns
    -------
    TrainResult
        The same ``model`` (trained) and one :class:`EpochLog` per epoch.
    """
    keras = import_keras()
    import tensorflow as tf

    steps = len(x_train) // batch_size
    if weight_decay is None:
        optimizer = keras.optimizers.Adam(schedule(peak_lr, steps * epochs))
    else:
        optimizer = keras.optimizers.AdamW(schedule(peak_lr, steps * epochs),
                                           weight_decay=weight_decay)
    optimizer.build(model.trainable_variables)
    train_chunk = make_train_chunk(model, optimizer, batch_size, float(label_smoothing),
                                   max_shift=batch_shift)
    rng = np.random.default_rng(seed)
    margin = ((0, 0), (batch_shift, batch_shift), (batch_shift, batch_shift), (0, 0))

    def images_tensor(images):                                          # (N, H (+2s), W (+2s), C)
        return tf.constant(np.pad(images, margin) if batch_shift else images)

    x_tensor = None if augment is not None else images_tensor(x_train)
    y_tensor = tf.constant(np.asarray(y_train).astype(np.int32))        # (N,)
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        images = x_tensor if augment is None else images_tensor(augment(x_train, rng))
        plan = batch_plan(len(x_train), batch_size, rng)                # (steps, B)
        offsets = (rng.integers(0, 2 * batch_shift + 1, size=(*plan.shape, 2)).astype(np.int32)
                   if batch_shift else None)                            # (steps, B, 2)
        preparing = time.perf_counter() - start
        loss, accuracy, seconds = run_epoch(train_chunk, images, y_tensor, plan,
                                            steps_per_call=steps_per_call,
                                            description=f"epoch {epoch}/{epochs}", verbose=verbose,
                                            offsets=offsets)
        seconds += preparing
        log = EpochLog(epoch, loss, accuracy,
                       *loss_and_accuracy(model, x_test, y_test, eval_batch_size), seconds)
        history.append(log)
        if verbose:
            print(f"{label + ' ' if label else ''}epoch {epoch}/{epochs}: loss {log.loss:.4f}, "
                  f"train accuracy {100 * log.accuracy:.2f} %, test accuracy "
                  f"{100 * log.test_accuracy:.2f} %, {log.seconds:.1f} s", flush=True)
    return TrainResult(model, history)
