"""Train LeNet-5 on MNIST quickly on a small CPU (lesson 09).

From a terminal, in the course folder::

    python -m cnnlab.train lenet5 --variant modern --out data/weights/lenet5_modern.keras

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
  steps, then follows a cosine curve down to 0 (peak 1.2e-2 / 1e-2);
- label smoothing 0.1 (targets 0.91 and 0.01 instead of 1 and 0);
- the modern variant: every digit of every batch shifted by a random pixel
  (up, down, left, right or diagonally, or not at all), cut out of the
  zero-padded digit inside the compiled graph; and bfloat16 arithmetic (float32 weights)
  where the CPU has it in hardware (``precision="auto"``); the trained model
  is handed on in float32;
- TensorFlow's oneDNN kernels (``TF_ENABLE_ONEDNN_OPTS=1``, set here before
  TensorFlow starts, and by ``cnnlab.setup`` and the Makefile).

Test accuracy is measured after every epoch (not counted in the training time).
The loop itself is :func:`cnnlab.train.loop.fit`, shared with the ResNets of lesson 11.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

from .._validate import (  # noqa: E402
    check_choice, check_epochs, check_int, check_real, check_seed, check_verbose, describe,
)
from ..weights import note_made_again  # noqa: E402
from .loop import STEPS_PER_CALL, TrainResult, fit, load_mnist_for_training  # noqa: E402
from .precision import PRECISIONS, dtype_policy, hand_back, resolve_precision  # noqa: E402

__all__ = ["RECIPES", "VARIANTS", "PRECISIONS", "LABEL_SMOOTHING", "FAST_LIMIT", "train_lenet5",
           "check_out"]

VARIANTS = ("classic", "modern")
#: The recipe of each variant: passes over the data, images per step, largest learning rate,
#: largest random shift of the digits (pixels) and the arithmetic.
RECIPES = {
    "modern": {"epochs": 4, "batch_size": 256, "peak_lr": 1.2e-2, "max_shift": 1,
               "precision": "auto"},
    "classic": {"epochs": 5, "batch_size": 128, "peak_lr": 1e-2, "max_shift": 0,
                "precision": "float32"},
}
LABEL_SMOOTHING = 0.1     # share of each target spread over the other classes
FAST_LIMIT = (512, 1000)   # --fast: training and test images


def train_lenet5(variant="modern", epochs=None, *, batch_size=None, peak_lr=None,
                 max_shift=None, precision=None, limit=None, seed=0, verbose=1,
                 out=None) -> TrainResult:
    """Train LeNet-5 on MNIST with the course's fast recipe (lesson 09).

    Parameters
    ----------
    variant : {"classic", "modern"}
        Which model :func:`cnnlab.lenet.build_lenet5` builds.
    epochs, batch_size, peak_lr : optional
        Passes over the training set (1 .. 1000), images per step (at most
        the number of training images) and the largest learning rate of the
        warm-up + cosine schedule (in (0, 1]); by default the variant's recipe
        in :data:`RECIPES` (modern: 4, 256, 1.2e-2; classic: 5, 128, 1e-2).
    max_shift : int, optional
        Largest random shift, in pixels, of each digit in each batch (drawn
        afresh every step; 0: no augmentation), at most 4; by default the
        recipe's (modern 1, classic 0).
    precision : {"auto", "float32", "mixed_bfloat16"}, optional
        Arithmetic of the training steps; ``"auto"`` (the modern recipe) is
        bfloat16 where the CPU has it in hardware
        (:func:`cnnlab.train.precision.bfloat16_supported`), float32 elsewhere.
        The returned model computes in float32 whichever was used.
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
        :class:`~cnnlab.train.loop.EpochLog` per epoch. The file written to
        ``out`` holds the architecture and the weights, not compiled: call
        ``compile`` after ``keras.saving.load_model`` to evaluate or train it
        further.
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
    max_shift = recipe["max_shift"] if max_shift is None else max_shift
    max_shift = check_int(max_shift, "max_shift", minimum=0)
    if max_shift > 4:
        raise ValueError(f"`max_shift` must be at most 4 pixels, got {max_shift}")
    policy = resolve_precision(recipe["precision"] if precision is None else precision)
    seed = check_seed(seed)
    verbose = check_verbose(verbose)
    out = check_out(out)

    from ..models.lenet import build_lenet5, prepare_images

    (x_train, y_train), (x_test, y_test) = load_mnist_for_training(limit, batch_size)
    import keras

    x_train, y_train = prepare_images(x_train), y_train.astype(np.int32)   # (N, 28, 28, 1)
    x_test, y_test = prepare_images(x_test), y_test.astype(np.int64)

    keras.utils.set_random_seed(seed)
    with dtype_policy(policy):
        model = build_lenet5(variant, seed=seed)
    result = fit(model, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                 peak_lr=peak_lr, label_smoothing=LABEL_SMOOTHING,
                 batch_shift=max_shift, seed=seed,
                 steps_per_call=STEPS_PER_CALL["lenet5"], eval_batch_size=2000, verbose=verbose)
    if policy != "float32":   # hand on a float32 model; score the last epoch as it computes
        result = hand_back(result, build_lenet5(variant, seed=seed), x_test, y_test,
                           eval_batch_size=2000, verbose=verbose)
        model = result.model
    if out is not None:  # architecture and weights only: no optimizer state to restore
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save(out)
        note_made_again(out)
        if verbose:
            print(f"saved {out}", flush=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return result


def check_out(out):
    """``out``: None or a file path ending in ``.keras`` (not a folder), as a Path."""
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
