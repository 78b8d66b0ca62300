"""What the training benchmarks share: per-epoch logs, the time to a target, a plain ``model.fit``.

A log is a list of ``(epoch, seconds, test_accuracy)``, one per epoch. The
benchmarks import this module from their own folder (``import _epochs``).
"""

from __future__ import annotations

import time


def first_at(logs, target):
    """(epoch, cumulated seconds) of the first epoch at ``target`` or above; None if never."""
    elapsed = 0.0
    for epoch, seconds, accuracy in logs:
        elapsed += seconds
        if accuracy >= target:
            return epoch, elapsed
    return None


def describe(logs, target, decimals=1):
    """``"ep 3, 12.5 s"`` (14 characters wide) for when ``logs`` first reached ``target``, or ``never``."""
    reached = first_at(logs, target)
    if reached is None:
        return f"{'never':>14s}"
    return f"{f'ep {reached[0]}, {reached[1]:.{decimals}f} s':>14s}"


def keras_fit(model, x_train, y_train, x_test, y_test, epochs):
    """Keras's defaults: ``compile("adam", ...)`` then ``model.fit`` (batch 32) one epoch at a time."""
    from cnnlab.train import evaluate

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=1, verbose=0)
        logs.append((epoch, time.perf_counter() - start, evaluate(model, x_test, y_test)))
    return logs
