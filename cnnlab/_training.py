"""The fast training loop shared by :mod:`cnnlab.train` (LeNet-5) and :mod:`cnnlab.resnet`.

The whole training set lives in memory as one tensor; each step gathers its
batch by index, and many steps run inside one compiled TensorFlow graph (a
``tf.function`` holding a loop), so Python and Keras do not intervene between
steps. The learning rate warms up linearly from 0, then follows a cosine
curve down to 0.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from .session import import_keras

WARMUP_FRACTION = 0.1      # share of all steps spent warming the learning rate up


class TrainResult(NamedTuple):
    """The trained model and one epoch log per epoch (``.loss``, ``.test_accuracy``, ``.seconds``, ...)."""

    model: object
    history: list

    @property
    def train_seconds(self) -> float:
        """Seconds spent training (evaluation after each epoch excluded)."""
        return float(sum(e.seconds for e in self.history))


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


def make_train_chunk(model, optimizer, batch_size: int, label_smoothing: float = 0.0):
    """A compiled function running the steps of ``plan``; returns (sum of losses, correct count).

    Its arguments are the images ``(N, H, W, C)``, the labels ``(N,)`` and the
    plan ``(steps, batch_size)``. The batch size is fixed in the signature so
    every shape inside the graph is known when TensorFlow picks its kernels.
    Targets are smoothed: ``(1 - e) * one_hot + e / n_classes``.
    """
    keras = import_keras()
    import tensorflow as tf

    n_classes = model.output.shape[-1]
    variables = model.trainable_variables
    shape = [None, *model.input.shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32), tf.TensorSpec([None], tf.int32),
                                  tf.TensorSpec([None, batch_size], tf.int32)])
    def train_chunk(x, y, plan):
        total_loss = tf.constant(0.0)
        correct = tf.constant(0, tf.int32)
        for i in tf.range(tf.shape(plan)[0]):
            xb = tf.gather(x, plan[i])                                  # (B, H, W, C)
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

    return train_chunk


def progress(total: int, description: str, verbose: int):
    """A progress bar over ``total`` steps (a widget in JupyterLab, text in a terminal) when ``verbose == 1``."""
    if verbose != 1:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step", leave=False, dynamic_ncols=True)


def run_epoch(train_chunk, x, y, plan, *, steps_per_call: int, description: str, verbose: int):
    """Run one epoch's ``plan`` ``(steps, B)`` in chunks; return (mean loss, accuracy, seconds).

    ``x`` and ``y`` are tensors (images and int32 labels). The progress bar
    advances after every chunk of ``steps_per_call`` steps.
    """
    import tensorflow as tf

    steps, batch_size = plan.shape
    bar = progress(steps, description, verbose)
    start = time.perf_counter()
    loss_sum, correct = 0.0, 0
    for first in range(0, steps, steps_per_call):
        chunk = plan[first:first + steps_per_call]
        chunk_loss, chunk_correct = train_chunk(x, y, tf.constant(chunk))
        loss_sum += float(chunk_loss)
        correct += int(chunk_correct)
        if bar is not None:
            bar.update(len(chunk))
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return loss_sum / steps, correct / (steps * batch_size), seconds
