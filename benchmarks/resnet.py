"""How fast ResNet-14 reaches 93 % on Fashion-MNIST: the course's recipe, its earlier version and a plain ``model.fit``.

Measured side by side in one run, on lesson 11's ResNet-14 (16/32/64
channels, 176,090 parameters), all 60,000 training images, test accuracy
after every epoch (evaluation not counted; graph tracing and the per-epoch
flips counted):

- ``recipe``: ``cnnlab.train.resnet.train`` with the recipe of the shipped
  ``data/weights/resnet_14.keras`` (read from ``resnet_14.json``): batch 128,
  AdamW (weight decay 5e-4) with 10 % warm-up to 3e-3 then cosine decay,
  random flips, label smoothing 0.1, batch norm in one fused kernel,
  bfloat16 arithmetic where the CPU has it (``precision="auto"``);
- ``recipe (float32)``: the same with float32 arithmetic (fused batch norm
  kept), to show what bfloat16 buys;
- ``plain twin``: the same recipe on ``build_plain`` (no shortcuts), the
  comparison lesson 11 makes;
- ``previous recipe``: the recipe as it shipped before fused batch norm and
  bfloat16 (Keras's own ``BatchNormalization``, float32, 6 epochs);
- ``baseline (model.fit)``: the same network with Keras's defaults,
  ``model.compile("adam", ...)`` and ``model.fit(x, y)`` (batch 32, learning
  rate 1e-3, no augmentation), for ``--baseline-epochs`` epochs.

Target: 93.0 % within 300 s of training on 2 cores. Both sides use oneDNN
(``TF_ENABLE_ONEDNN_OPTS=1``, set here before TensorFlow starts). Run with
``make bench`` or ``.venv/bin/python benchmarks/resnet.py`` on a quiet machine
(the 1-minute load average is printed at the start and the end); it takes
about 25 minutes. ``--only recipe,plain twin`` runs some of the rows, and
``--seed 1`` another seed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from cnnlab.session import native_stderr_silenced  # noqa: E402
from _epochs import describe, first_at, keras_fit  # noqa: E402

TARGET = 0.93
BUDGET_S = 300.0
PREVIOUS_EPOCHS = 6
ROWS = ("recipe", "recipe (float32)", "plain twin", "previous recipe", "baseline (model.fit)")


def as_logs(history):
    return [(log.epoch, log.seconds, log.test_accuracy) for log in history]


def build(record, seed, plain=False):
    import keras

    from cnnlab import resnet

    keras.utils.set_random_seed(seed)
    builder = resnet.build_plain if plain else resnet.build_resnet
    return builder(record["depth"], widths=tuple(record["widths"]), seed=seed)


def run_recipe(record, data_, seed, precision="auto", plain=False):
    from cnnlab.train.resnet import train

    (x_train, y_train), (x_test, y_test) = data_
    result = train(build(record, seed, plain), x_train, y_train, x_test, y_test,
                   epochs=record["epochs"], batch_size=record["batch_size"],
                   peak_lr=record["peak_lr"], label_smoothing=record["label_smoothing"],
                   augment=record["augment"], max_shift=record["max_shift"],
                   precision=precision, seed=seed, verbose=0)
    return as_logs(result.history)


def run_previous(record, data_, seed):
    """The loop on the Keras model itself: Keras's batch norm, float32, 6 epochs."""
    from cnnlab.train.augment import augment_images
    from cnnlab.train.loop import STEPS_PER_CALL, fit

    (x_train, y_train), (x_test, y_test) = data_
    model = build(record, seed)
    result = fit(model, x_train, y_train, x_test, y_test, epochs=PREVIOUS_EPOCHS,
                 batch_size=record["batch_size"], peak_lr=record["peak_lr"], weight_decay=5e-4,
                 label_smoothing=record["label_smoothing"],
                 augment=lambda images, rng: augment_images(images, rng, max_shift=0),
                 seed=seed, steps_per_call=STEPS_PER_CALL["resnet"], eval_batch_size=1000,
                 verbose=0)
    return as_logs(result.history)


def run_baseline(record, data_, seed, epochs):
    (x_train, y_train), (x_test, y_test) = data_
    return keras_fit(build(record, seed), x_train, y_train, x_test, y_test, epochs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None, help="default: the record's")
    parser.add_argument("--only", default=",".join(ROWS),
                        help="comma-separated rows to run (default all): " + ", ".join(ROWS))
    args = parser.parse_args(argv)
    rows = [r.strip() for r in args.only.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; valid: {', '.join(ROWS)}")

    with native_stderr_silenced():     # TensorFlow's start-up lines bypass its log level
        import keras  # noqa: F401
        import tensorflow as tf

    from cnnlab import data, resnet, weights
    from cnnlab.train.precision import resolve_precision

    record = json.loads(weights.weights_path("resnet_14.json").read_text())
    seed = record["seed"] if args.seed is None else args.seed
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    data_ = ((resnet.prepare_images(x_train), y_train), (resnet.prepare_images(x_test), y_test))
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ['TF_ENABLE_ONEDNN_OPTS']}, "
          f"precision auto = {resolve_precision('auto')}, load average {os.getloadavg()[0]:.2f}")
    print(f"recipe ({record['command']}): {record['epochs']} epochs, batch {record['batch_size']}, "
          f"peak lr {record['peak_lr']}, label smoothing {record['label_smoothing']}, seed {seed}")
    work = {
        "recipe": lambda: run_recipe(record, data_, seed),
        "recipe (float32)": lambda: run_recipe(record, data_, seed, precision="float32"),
        "plain twin": lambda: run_recipe(record, data_, seed, plain=True),
        "previous recipe": lambda: run_previous(record, data_, seed),
        "baseline (model.fit)": lambda: run_baseline(record, data_, seed, args.baseline_epochs),
    }
    runs = {}
    for name in rows:
        runs[name] = work[name]()
        keras.backend.clear_session()
        print(f"{name}: " + " ".join(f"{100 * a:.2f}" for _, _, a in runs[name]), flush=True)

    print(f"\n{'':22s}{'s/epoch':>8s}{'total s':>9s}{'to 92 %':>14s}{'to 93 %':>14s}"
          "  test accuracy after each epoch (%)")
    print("-" * 110)
    for name, logs in runs.items():
        seconds = [s for _, s, _ in logs]
        steady = np.median(seconds)
        print(f"{name:22s}{steady:>8.1f}{sum(seconds):>9.0f}{describe(logs, 0.92, 0)}"
              f"{describe(logs, TARGET, 0)}  " + " ".join(f"{100 * a:.2f}" for _, _, a in logs))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if "recipe" not in runs:
        return 0
    reached = first_at(runs["recipe"], TARGET)
    verdict = "met" if reached and reached[1] <= BUDGET_S else "NOT met"
    print(f"target {100 * TARGET:.1f} % within {BUDGET_S:.0f} s of training: {verdict}")
    return 0 if reached else 1


if __name__ == "__main__":
    raise SystemExit(main())
