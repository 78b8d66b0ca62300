"""How fast LeNet-5 reaches 99 % on MNIST with the course's recipe, against a plain ``model.fit``.

Measured side by side in one run, on the modern LeNet-5 of lesson 09:

- recipe: ``cnnlab.train.train_lenet5("modern")`` (batch 128, Adam with warm-up
  and cosine decay, data in memory, many steps per compiled graph call).
  Test accuracy is measured after every epoch; the time to 99 % counts the
  training seconds of the epochs up to the first one at 99.0 % or more
  (graph tracing included, evaluation excluded);
- baseline: the same model with Keras's defaults, ``model.compile("adam",
  ...)`` and ``model.fit(x, y)`` (batch 32, learning rate 1e-3, Keras's
  progress bar off), timed for ``--baseline-epochs`` epochs (default 1;
  more to see when, if ever, it reaches 99 % itself).

Targets: 99.0 % within 60 s of training on 2 cores (never above 180 s).
Both sides use oneDNN (``TF_ENABLE_ONEDNN_OPTS=1``, set here before
TensorFlow starts). Run with ``make bench`` or ``.venv/bin/python benchmarks/lenet.py``
on a quiet machine (the 1-minute load average is printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from cnnlab import data  # noqa: E402
from cnnlab.session import native_stderr_silenced  # noqa: E402

TARGET = 0.99
BUDGET_S = 60.0
LIMIT_S = 180.0


def run_recipe(epochs, seed):
    from cnnlab.train import train_lenet5

    result = train_lenet5("modern", epochs, seed=seed, verbose=2)
    elapsed, reached = 0.0, None
    for log in result.history:
        elapsed += log.seconds
        if reached is None and log.test_accuracy >= TARGET:
            reached = (log.epoch, elapsed)
    return result, reached


def run_baseline(epochs, seed):
    import keras

    from cnnlab.models.lenet import build_lenet5, prepare_images
    from cnnlab.train import evaluate

    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train, x_test = prepare_images(x_train), prepare_images(x_test)
    keras.utils.set_random_seed(seed)
    model = build_lenet5("modern", seed=seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
        accuracy = evaluate(model, x_test, y_test)
        logs.append((epoch, seconds, accuracy))
        print(f"baseline epoch {epoch}: test accuracy {100 * accuracy:.2f} %, {seconds:.1f} s",
              flush=True)
    return logs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=None,
                        help="recipe epochs (default: the recipe's)")
    parser.add_argument("--baseline-epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with native_stderr_silenced():     # TensorFlow's start-up lines bypass its log level
        import keras  # noqa: F401
        import tensorflow as tf

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ['TF_ENABLE_ONEDNN_OPTS']}, load average {load:.2f}")

    print("\n== recipe: cnnlab.train.train_lenet5('modern')")
    result, reached = run_recipe(args.epochs, args.seed)
    recipe_epoch_s = [log.seconds for log in result.history]
    print("\n== baseline: model.fit with Keras defaults (batch 32, Adam 1e-3)")
    baseline = run_baseline(args.baseline_epochs, args.seed)
    baseline_epoch_s = float(np.mean([s for _, s, _ in baseline]))

    steady = recipe_epoch_s[1:] or recipe_epoch_s           # epoch 1 also traces the graph
    print("\n== summary")
    print(f"{'':34s}{'recipe':>10s}{'baseline':>10s}{'ratio':>8s}")
    print(f"{'seconds per epoch (after the 1st)':34s}{np.mean(steady):>10.1f}"
          f"{baseline_epoch_s:>10.1f}{baseline_epoch_s / np.mean(steady):>7.1f}x")
    print(f"{'test accuracy after epoch 1':34s}{100 * result.history[0].test_accuracy:>9.2f}%"
          f"{100 * baseline[0][2]:>9.2f}%")
    final = result.history[-1]
    print(f"recipe: {len(result.history)} epochs, {result.train_seconds:.1f} s of training, "
          f"final test accuracy {100 * final.test_accuracy:.2f} %")
    if reached is None:
        print(f"recipe did NOT reach {100 * TARGET:.1f} %")
        return 1
    epoch, seconds = reached
    verdict = ("met" if seconds <= BUDGET_S else
               "missed the 60 s target" if seconds <= LIMIT_S else "over the 180 s limit")
    print(f"recipe reached {100 * TARGET:.1f} % after epoch {epoch}: {seconds:.1f} s of training "
          f"(target {BUDGET_S:.0f} s: {verdict}); one baseline epoch takes "
          f"{baseline_epoch_s:.1f} s, "
          f"so the recipe's whole run to {100 * TARGET:.0f} % costs "
          f"{seconds / baseline_epoch_s:.1f} baseline epochs")
    base_reached = next(((e, sum(s for _, s, _ in baseline[:e])) for e, _, a in baseline
                         if a >= TARGET), None)
    if base_reached is not None:
        print(f"baseline reached {100 * TARGET:.1f} % after epoch {base_reached[0]}: "
              f"{base_reached[1]:.1f} s of training, {base_reached[1] / seconds:.1f}x the recipe's")
    elif len(baseline) > 1:
        print(f"baseline did not reach {100 * TARGET:.1f} % in {len(baseline)} epochs "
              f"({sum(s for _, s, _ in baseline):.1f} s)")
    return 0 if seconds <= LIMIT_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
