"""Train LeNet-5 on MNIST quickly on a small CPU (lesson 09).

From a terminal, in the course folder::

    python -m cnnlab.train lenet5 --variant modern --epochs 5 --out data/weights/lenet5_modern.keras

From Python (what lesson 09 calls)::

    from cnnlab.train import train_lenet5
    result = train_lenet5("modern")
    result.model, result.history

The recipe, and why it is faster than ``model.fit`` with Keras's defaults:

- the whole training set lives in memory as one float32 tensor; each step
  gathers its batch by index (a fresh seeded shuffle every epoch);
- many steps run inside one compiled TensorFlow graph (a ``tf.function``
  holding a loop), so Python and Keras do not intervene between steps;
- large batches (256 for the modern variant, 128 for the classic one) and
  Adam whose learning rate warms up linearly for the first tenth of the
  steps, then follows a cosine curve down to 0 (peak 8e-3 / 1e-2);
- label smoothing 0.1 (targets 0.91 and 0.01 instead of 1 and 0);
- TensorFlow's oneDNN kernels (``TF_ENABLE_ONEDNN_OPTS=1``, set here before
  TensorFlow starts, and by ``cnnlab.setup`` and the Makefile).

Test accuracy is measured after every epoch (not counted in the training time).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from .loop import (  # noqa: E402
    MAX_EPOCHS, MAX_SEED, TrainResult, batch_plan, check_argv, check_classifier, check_epochs,
    check_labels, check_real, check_seed, check_verbose, make_train_chunk, model_images,
    run_epoch, schedule,
)
from .._validate import check_choice, check_int, describe  # noqa: E402
from ..weights import _note_made_again, weights_path  # noqa: E402

__all__ = ["MODELS", "RECIPES", "EpochLog", "TrainResult", "train_lenet5", "evaluate",
           "predict_classes", "main", "weights_path"]

MODELS = ("lenet5", "resnet")  # resnet: see `python -m cnnlab.resnet train --help`
VARIANTS = ("classic", "modern")
#: The recipe of each variant: passes over the data, images per step, largest learning rate.
RECIPES = {
    "modern": {"epochs": 5, "batch_size": 256, "peak_lr": 8e-3},
    "classic": {"epochs": 5, "batch_size": 128, "peak_lr": 1e-2},
}
LABEL_SMOOTHING = 0.1     # share of each target spread over the other classes
STEPS_PER_CALL = 48        # training steps inside one graph call (also the progress-bar step)
FAST_LIMIT = (512, 1000)   # --fast: training and test images


class EpochLog(NamedTuple):
    """What one epoch did: mean training loss and accuracy, test accuracy, training seconds."""

    epoch: int
    loss: float
    accuracy: float
    test_accuracy: float
    seconds: float


def evaluate(model, x, y, batch_size: int = 2000) -> float:
    """Accuracy of ``model`` on images ``x (N, 28, 28, 1)`` and labels ``y (N,)``, silently.

    ``x`` may hold raw uint8 pixels 0-255 (``(N, 28, 28)`` as
    :func:`cnnlab.data.load_mnist` gives them) or images already prepared in
    [0, 1] (:func:`cnnlab.lenet.prepare_images`): both give the same accuracy.
    ``y`` holds class numbers ``0 .. n_classes - 1``, one per image.
    """
    shape, n_classes = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)                  # (N, H, W, C) in [0, 1]
    y = check_labels(y, "y", len(x), n_classes)
    predicted = _predict(model, x, _check_batch(batch_size))
    return float(np.mean(predicted == y))


def predict_classes(model, x, batch_size: int = 2000) -> np.ndarray:
    """Most probable class of every image, ``(N,)`` int (batched forward passes).

    ``x`` as in :func:`evaluate`: raw uint8 pixels or images in [0, 1].
    """
    shape, _ = check_classifier(model)
    x = model_images(model, x, "x", input_shape=shape)
    return _predict(model, x, _check_batch(batch_size))


def _check_batch(batch_size) -> int:
    return check_int(batch_size, "batch_size", minimum=1)


def _predict(model, x, batch_size):
    return np.concatenate([
        np.asarray(model(x[i:i + batch_size], training=False)).argmax(axis=1)
        for i in range(0, len(x), batch_size)])


def train_lenet5(variant="modern", epochs=None, *, batch_size=None, peak_lr=None,
                 limit=None, seed=0, verbose=1, out=None) -> TrainResult:
    """Train LeNet-5 on MNIST with the course's fast recipe (lesson 09).

    Parameters
    ----------
    variant : {"classic", "modern"}
        Which model :func:`cnnlab.lenet.build_lenet5` builds.
    epochs, batch_size, peak_lr : optional
        Passes over the training set (1 .. 1000), images per step (at most
        the number of training images) and the largest learning rate of the
        warm-up + cosine schedule (in (0, 1]); by default the variant's recipe
        in :data:`RECIPES` (modern: 5, 256, 8e-3; classic: 5, 128, 1e-2).
    limit : None, int or (int, int)
        Train and test on fewer images, as :func:`cnnlab.data.load_mnist` takes it.
    seed : int
        Seeds the starting weights and the shuffling.
    verbose : {0, 1, 2}
        0: silent; 1: a progress bar per epoch (text in a terminal, a widget in
        JupyterLab) and one line per epoch; 2: one line per epoch.
    out : str or Path, optional
        Save the trained model there (``.keras``).

    Returns
    -------
    TrainResult
        ``.model`` (compiled with Adam, cross-entropy and accuracy, so
        ``evaluate`` and ``fit`` work on it) and ``.history``, one
        :class:`EpochLog` per epoch. The file written to ``out`` holds the
        architecture and the weights, not compiled: call ``compile`` after
        ``keras.saving.load_model`` to evaluate or train it further.
    """
    variant = check_choice(variant, "variant", VARIANTS)
    recipe = RECIPES[variant]
    epochs = recipe["epochs"] if epochs is None else check_epochs(epochs)
    batch_size = recipe["batch_size"] if batch_size is None else batch_size
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    peak_lr = recipe["peak_lr"] if peak_lr is None else peak_lr
    if isinstance(peak_lr, (bool, np.bool_)) or not isinstance(peak_lr, (int, float, np.floating,
                                                                         np.integer)):
        raise TypeError(f"`peak_lr` must be a number, got {describe(peak_lr)}")
    if not (math.isfinite(peak_lr) and peak_lr > 0):
        raise ValueError(f"`peak_lr` must be a positive number, got {peak_lr}")
    peak_lr = check_real(peak_lr, "peak_lr", maximum=1)
    seed = check_seed(seed)
    verbose = check_verbose(verbose)
    out = _check_out(out)

    from .. import data
    from ..models.lenet import build_lenet5, prepare_images

    n_train, _ = data._check_limit(limit, 60000, 10000)     # a clear error before any loading
    if n_train < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {n_train} "
                         "training images")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(limit)
    if len(x_train) < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {len(x_train)} "
                         "training images")
    import keras
    import tensorflow as tf

    x_train = tf.constant(prepare_images(x_train))                 # (N, 28, 28, 1)
    y_train = tf.constant(y_train.astype(np.int32))                # (N,)
    x_test, y_test = prepare_images(x_test), y_test.astype(np.int64)

    keras.utils.set_random_seed(seed)
    model = build_lenet5(variant, seed=seed)
    steps = len(x_train) // batch_size
    optimizer = keras.optimizers.Adam(schedule(peak_lr, steps * epochs))
    optimizer.build(model.trainable_variables)
    train_chunk = make_train_chunk(model, optimizer, batch_size, LABEL_SMOOTHING)
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(1, epochs + 1):
        plan = batch_plan(len(x_train), batch_size, rng)            # (steps, B)
        loss, accuracy, seconds = run_epoch(train_chunk, x_train, y_train, plan,
                                            steps_per_call=STEPS_PER_CALL,
                                            description=f"epoch {epoch}/{epochs}", verbose=verbose)
        log = EpochLog(epoch, loss, accuracy, evaluate(model, x_test, y_test), seconds)
        history.append(log)
        if verbose:
            print(f"epoch {epoch}/{epochs}: loss {log.loss:.4f}, train accuracy "
                  f"{100 * log.accuracy:.2f} %, test accuracy {100 * log.test_accuracy:.2f} %, "
                  f"{log.seconds:.1f} s", flush=True)
    if out is not None:  # architecture and weights only: no optimizer state to restore
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save(out)
        _note_made_again(out)
        if verbose:
            print(f"saved {out}", flush=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return TrainResult(model, history)


def _check_out(out):
    if out is None:
        return None
    if not isinstance(out, (str, os.PathLike)) or isinstance(os.fspath(out), bytes):
        raise TypeError(f"`out` must be a path ending in .keras, got {describe(out)}")
    if "\x00" in os.fspath(out):
        raise ValueError(f"`out` must be a file path, got {os.fspath(out)!r} (a NUL character)")
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"`out` must end in .keras (Keras's model format), got {str(out)!r}")
    if out.is_dir():
        raise ValueError(f"`out` {str(out)!r} is a folder; give a file name ending in .keras")
    return out


# ----------------------------------------------------------------- command line

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cnnlab.train",
        description="Train a course model on MNIST and save it.")
    parser.add_argument("model", help=f"which model: {', '.join(MODELS)}")
    parser.add_argument("--variant", default="modern", help="classic or modern (default modern)")
    parser.add_argument("--epochs", default=None,
                        help="passes over the training set "
                             f"(default {RECIPES['modern']['epochs']})")
    parser.add_argument("--out", default=None, help="where to save the model (.keras)")
    parser.add_argument("--fast", action="store_true",
                        help=f"a quick check: {FAST_LIMIT[0]} training and {FAST_LIMIT[1]} "
                             "test images, 1 epoch unless --epochs is given")
    parser.add_argument("--seed", default="0", help="seed of weights and shuffling (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, one line per epoch")
    return parser


def _positive_int(text: str, name: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 done, 1 data problem, 2 bad arguments)."""
    argv = check_argv(argv)
    if argv[:1] == ["resnet"]:          # lesson 11's command has options of its own
        from ..models.resnet import main as resnet_main

        return resnet_main(["train", *argv[1:]])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # argparse already printed the usage and the problem
        return int(exc.code or 0)
    try:
        if args.model not in MODELS:
            raise ValueError(f"unknown model {args.model!r}; valid models: {', '.join(MODELS)}")
        if args.variant not in VARIANTS:
            raise ValueError(f"unknown variant {args.variant!r}; valid variants: "
                             f"{', '.join(VARIANTS)}")
        epochs = (None if args.epochs is None
                  else _positive_int(args.epochs, "--epochs", 1, MAX_EPOCHS))
        if epochs is None and args.fast:
            epochs = 1
        seed = _positive_int(args.seed, "--seed", 0, MAX_SEED)
        out = _check_out(args.out)
    except (TypeError, ValueError) as exc:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    from ..data import DataFileError
    from ..session import import_keras

    import_keras()                      # TensorFlow's start-up lines bypass its log level
    try:
        result = train_lenet5(args.variant, epochs, limit=FAST_LIMIT if args.fast else None,
                              seed=seed, verbose=2 if args.quiet else 1, out=out)
    except DataFileError as exc:
        print(f"{parser.prog}: error: cannot read the MNIST data: {exc}", file=sys.stderr)
        return 1
    last = result.history[-1]
    print(f"{args.model} {args.variant}: test accuracy {100 * last.test_accuracy:.2f} % after "
          f"{len(result.history)} epoch(s), {result.train_seconds:.1f} s of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
