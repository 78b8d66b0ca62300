"""Train lesson 07's MNIST network quickly on a small CPU (the shipped ``mnist_cnn.keras``).

From a terminal, in the course folder::

    python -m cnnlab.train mnist-cnn                  # writes data/weights/mnist_cnn.keras
    python -m cnnlab.train mnist-cnn --fast --out /tmp/check.keras

From Python::

    from cnnlab.train.mnist_cnn import train_mnist_cnn
    result = train_mnist_cnn()
    result.model, result.history

Lesson 07 builds the network (:func:`cnnlab.models.build_mnist_cnn`) and never
trains it; lesson 08 explains training. The course ships one trained copy,
opened with :func:`cnnlab.models.load_mnist_cnn`, so lesson 07 can end on a
network that knows digits. The recipe is LeNet-5's fast loop
(:func:`cnnlab.train.loop.fit`): the training set in memory, many steps per
compiled graph call, Adam with a warm-up + cosine learning rate, a fresh
seeded shuffle every epoch, and no label smoothing (lesson 07's softmax
explorer reads the network's own probabilities, so they are not capped).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from .._validate import (  # noqa: E402
    MAX_EPOCHS, MAX_SEED, check_epochs, check_int, check_real, check_seed, check_verbose,
)
from ..session import fast_mode  # noqa: E402
from ..weights import note_made_again, save_model, weights_path  # noqa: E402
from .lenet5 import FAST_LIMIT, check_out  # noqa: E402
from .loop import TrainResult, fit, load_mnist_for_training  # noqa: E402

__all__ = ["RECIPE", "FAST_LIMIT", "STEPS_PER_CALL", "train_mnist_cnn"]

#: The shipped model's recipe: passes over the data, images per step, largest learning rate.
RECIPE = {"epochs": 2, "batch_size": 128, "peak_lr": 2e-3}
#: Training steps inside one compiled graph call (also the progress bar's step).
STEPS_PER_CALL = 24


def train_mnist_cnn(epochs=None, *, batch_size=None, peak_lr=None, limit=None, seed=0,
                    verbose=1, out=None) -> TrainResult:
    """Train :func:`cnnlab.models.build_mnist_cnn` on MNIST (the network of lesson 07).

    Parameters
    ----------
    epochs, batch_size, peak_lr : optional
        Passes over the training set (1 .. 1000), images per step (at most
        the number of training images) and the largest learning rate of the
        warm-up + cosine schedule (in (0, 1]); by default :data:`RECIPE`
        (2, 128, 2e-3).
    limit : None, int or (int, int)
        Train and test on fewer images, as :func:`cnnlab.data.load_mnist` takes it.
    seed : int
        Seeds the starting weights, dropout and the shuffling.
    verbose : {0, 1, 2}
        0: silent; 1: a progress bar per epoch and one line per epoch; 2: the lines only.
    out : str or Path, optional
        Save the trained model there (``.keras``: architecture and weights,
        no optimizer state, via :func:`cnnlab.weights.save_model`).

    Returns
    -------
    TrainResult
        ``.model`` (trained, uncompiled) and ``.history``, one
        :class:`~cnnlab.train.loop.EpochLog` per epoch.
    """
    epochs = RECIPE["epochs"] if epochs is None else check_epochs(epochs)
    batch_size = check_int(RECIPE["batch_size"] if batch_size is None else batch_size,
                           "batch_size", minimum=1)
    peak_lr = RECIPE["peak_lr"] if peak_lr is None else peak_lr
    peak_lr = check_real(peak_lr, "peak_lr", above=0, maximum=1)
    seed = check_seed(seed)
    verbose = check_verbose(verbose)
    out = check_out(out)

    from ..models.mnist_cnn import build_mnist_cnn

    (x_train, y_train), (x_test, y_test) = load_mnist_for_training(limit, batch_size)
    import keras

    x_train = (x_train[..., None] / np.float32(255)).astype(np.float32)   # (N, 28, 28, 1)
    x_test = (x_test[..., None] / np.float32(255)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = build_mnist_cnn(seed=seed)
    result = fit(model, x_train, y_train.astype(np.int32), x_test, y_test.astype(np.int64),
                 epochs=epochs, batch_size=batch_size, peak_lr=peak_lr, seed=seed,
                 steps_per_call=STEPS_PER_CALL, eval_batch_size=1000, verbose=verbose)
    if out is not None:
        save_model(model, out)
        if verbose:
            print(f"saved {out}", flush=True)
    return result


# ----------------------------------------------------------------- the subcommand

def add_mnist_cnn_parser(sub):
    """Add ``mnist-cnn`` to the subparsers ``sub`` of ``python -m cnnlab.train``."""
    p = sub.add_parser(
        "mnist-cnn", help="lesson 07's MNIST network: data/weights/mnist_cnn.keras",
        description="Train lesson 07's MNIST network (conv 32, pool, conv 64, pool, dense 512, "
                    "10 classes) and save it with its training record (.json beside it).")
    p.add_argument("--epochs", default=None,
                   help=f"passes over the training set (default {RECIPE['epochs']}; 1 with --fast)")
    p.add_argument("--batch-size", default=str(RECIPE["batch_size"]),
                   help=f"images per step (default {RECIPE['batch_size']})")
    p.add_argument("--lr", default=f"{RECIPE['peak_lr']:g}",
                   help=f"peak learning rate (default {RECIPE['peak_lr']:g})")
    p.add_argument("--seed", default="0", help="seed of weights, dropout and shuffling")
    p.add_argument("--out", default=None,
                   help="where to save the model (.keras; default data/weights/mnist_cnn.keras, "
                        "and nothing is saved in fast mode unless --out is given)")
    p.add_argument("--fast", action="store_true",
                   help=f"a quick check (also when CNNLAB_FAST=1): {FAST_LIMIT[0]} training "
                        f"and {FAST_LIMIT[1]} test images, 1 epoch unless --epochs is given")
    p.add_argument("--quiet", action="store_true", help="no progress bar, one line per epoch")
    return p


def _option(text, option, kind=int, *, minimum=None, above=None, maximum=None):
    """One command-line value, checked, with a message naming the option."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{option} must be {what}, got {text!r}") from None
    if kind is float and not np.isfinite(value):
        raise ValueError(f"{option} must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{option} must be at least {minimum}, got {text}")
    if above is not None and value <= above:
        raise ValueError(f"{option} must be above {above}, got {text}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{option} must be at most {maximum}, got {text}")
    return value


def mnist_cnn_command(args):
    """Read and check the options of ``mnist-cnn``; return ``(run, save)`` for the command.

    ``run()`` trains (and saves the model); ``save(result)`` writes the JSON
    record beside the model and returns the line to print.
    """
    fast = args.fast or fast_mode()
    epochs = (1 if fast else RECIPE["epochs"]) if args.epochs is None else _option(
        args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS)
    limit = FAST_LIMIT if fast else None
    batch_size = _option(args.batch_size, "--batch-size", minimum=1,
                         maximum=FAST_LIMIT[0] if fast else 60000)
    peak_lr = _option(args.lr, "--lr", float, above=0, maximum=1)
    seed = _option(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    try:
        out = check_out(args.out if args.out is not None or fast
                        else weights_path("mnist_cnn"))
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc).replace("`out`", "--out")) from None

    def run():
        from ..session import import_keras

        import_keras()                  # TensorFlow's start-up lines bypass its log level
        return train_mnist_cnn(epochs, batch_size=batch_size, peak_lr=peak_lr, limit=limit,
                               seed=seed, verbose=2 if args.quiet else 1, out=out)

    def save(result):
        last = result.history[-1]
        line = (f"mnist-cnn: test accuracy {100 * last.test_accuracy:.2f} % after {epochs} "
                f"epoch(s), {result.train_seconds:.1f} s of training")
        if out is None:
            return line + " (fast mode: nothing saved; give --out to save the model)"
        record = {"command": "python -m cnnlab.train " + " ".join(getattr(args, "argv", [])),
                  "epochs": epochs, "batch_size": batch_size, "peak_lr": peak_lr,
                  "seed": seed, "fast": fast, "params": result.model.count_params(),
                  "history": [e._asdict() for e in result.history]}
        record_path = out.with_suffix(".json")
        record_path.write_text(json.dumps(record, indent=1) + "\n")
        note_made_again(record_path)
        return line + f"; saved {out} and its training record {record_path.name}"
    return run, save
