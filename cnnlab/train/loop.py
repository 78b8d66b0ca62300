"""The fast training loop shared by :mod:`cnnlab.train` (LeNet-5) and :mod:`cnnlab.resnet`.

The whole training set lives in memory as one tensor; each step gathers its
batch by index, and many steps run inside one compiled TensorFlow graph (a
``tf.function`` holding a loop), so Python and Keras do not intervene between
steps. The learning rate warms up linearly from 0, then follows a cosine
curve down to 0.

The second half holds the input checks shared by the model builders
(:mod:`cnnlab.models`, :mod:`cnnlab.lenet`, :mod:`cnnlab.classic`,
:mod:`cnnlab.resnet`, :mod:`cnnlab.denoise`, :mod:`cnnlab.style`) and the
training and evaluation helpers: seeds, numbers, image shapes and the
smallest image a network accepts, the size of a network, pixels, labels and
the model a batch is meant for. None of them imports Keras.
"""

from __future__ import annotations

import math
import numbers
import time
from typing import NamedTuple

import numpy as np

from .._validate import as_array, check_allocation, check_int, describe, format_bytes
from ..session import import_keras

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


# ---------------------------------------------------------------------------
# Input checks shared by the builders and the training helpers
# ---------------------------------------------------------------------------

#: The largest seed: ``keras.utils.set_random_seed`` and numpy take 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1
#: The most passes over the data a training function agrees to run (days on a laptop).
MAX_EPOCHS = 1000
#: The largest network a builder agrees to make: 150 million parameters (600 MB of
#: float32 weights); VGG-16, the largest network of the course, has 138,357,544.
MAX_PARAMS = 150_000_000


def check_seed(value, name: str = "seed") -> int:
    """An int in ``0 .. 2**32 - 1``, the seeds Keras and numpy take."""
    value = check_int(value, name, minimum=0)
    if value > MAX_SEED:
        raise ValueError(f"`{name}` must be at most 2**32 - 1 = {MAX_SEED:,} (the seeds Keras "
                         f"and numpy take), got {value:,}")
    return value


def check_flag(value, name: str) -> bool:
    """True or False (numpy booleans too); refuses 0, 1, strings and None."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False, got {describe(value)}")
    return bool(value)


def check_real(value, name: str, *, minimum=None, maximum=None, above=None, below=None) -> float:
    """A finite real number (not a bool) within the bounds; returned as a float.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value}")
    for bound, ok, words in ((minimum, lambda b: value >= b, "at least"),
                             (above, lambda b: value > b, "above"),
                             (maximum, lambda b: value <= b, "at most"),
                             (below, lambda b: value < b, "below")):
        if bound is not None and not ok(bound):
            raise ValueError(f"`{name}` must be {words} {bound:g}, got {value:g}")
    return value


def check_epochs(value, name: str = "epochs") -> int:
    """Passes over the data: 1 .. :data:`MAX_EPOCHS`."""
    value = check_int(value, name, minimum=1)
    if value > MAX_EPOCHS:
        raise ValueError(f"`{name}` must be at most {MAX_EPOCHS} (more passes would take days "
                         f"on a laptop), got {value:,}")
    return value


def check_verbose(value, name: str = "verbose") -> int:
    """0 (silent), 1 (progress bar and lines) or 2 (lines only)."""
    value = check_int(value, name, minimum=0)
    if value > 2:
        raise ValueError(f"`{name}` must be 0, 1 or 2, got {value}")
    return value


def check_name(value, name: str = "name", *, optional: bool = True):
    """A non-empty string (a model or layer name), or None when ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"`{name}` must be a non-empty string{' or None' if optional else ''}, "
                        f"got {describe(value)}")
    return value


# ----------------------------------------------------------------- network sizes

def side_after(n: int, steps) -> int:
    """The side of a square grid after ``steps``, each ``(kernel, stride, padding)``; 0 if it vanishes."""
    for kernel, stride, padding in steps:
        if padding == "same":
            n = -(-n // stride)
        else:
            n = (n - kernel) // stride + 1 if n >= kernel else 0
        if n < 1:
            return 0
    return n


def smallest_side(steps) -> int:
    """The smallest input side that leaves at least one cell after every step of ``steps``."""
    need = 1
    for kernel, stride, padding in reversed(list(steps)):
        need = (need - 1) * stride + (1 if padding == "same" else kernel)
    return need


def check_image_shape(value, name: str = "input_shape", *, min_side: int = 1,
                      channels: int | None = None) -> tuple:
    """``(H, W, C)``: three positive ints, ``H`` and ``W`` at least ``min_side``."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"`{name}` must be (H, W, C), three positive ints such as (28, 28, 1), "
                         f"got {describe(value)}")
    h, w, c = (check_int(v, name, minimum=1) for v in value)
    if h < min_side or w < min_side:
        raise ValueError(
            f"`{name}` {(h, w, c)} is too small for this network: its convolutions and pooling "
            f"need images of at least {min_side}x{min_side} pixels, got {h}x{w}")
    if channels is not None and c != channels:
        raise ValueError(f"`{name}` must have {channels} channel(s), got {c}")
    return h, w, c


def check_params(count: int, names: str, what: str = "the network") -> None:
    """Refuse, before building it, a network of more than :data:`MAX_PARAMS` parameters."""
    if count > MAX_PARAMS:
        raise ValueError(
            f"{names}: {what} would have {count:,} parameters ({format_bytes(4 * count)} of "
            f"float32 weights); cnnlab's builders stop at {MAX_PARAMS:,} (VGG-16, the largest "
            f"network of the course, has 138,357,544). Use smaller {names}.")


def check_feature_maps(h: int, w: int, channels: int, names: str = "`input_shape`") -> None:
    """Refuse an input whose feature maps, for one image, would pass :func:`check_allocation`'s cap."""
    check_allocation((h, w, channels), names, itemsize=4, what="one image's feature maps")


# ----------------------------------------------------------------- pixels and labels

def as_pixels(value, name: str, *, ndims=(2, 3, 4), channels: int | None = 1) -> np.ndarray:
    """Images as float32 brightness in [0, 1], shaped ``(N, H, W, C)``.

    Accepts integer pixels 0-255 (uint8, as the loaders give them), floats
    already in [0, 1] (kept as they are) and floats whose largest value lies
    in [2, 255] (taken as 0-255 pixels). Integer pixels are always divided by
    255. ``(H, W)`` becomes one image, ``(N, H, W)`` gets a channel axis.

    Raises
    ------
    ValueError or TypeError
        For negative values, NaN, values above 255, floats just above 1
        (in (1, 2): rounding errors of brightness, not pixels), strings, and
        shapes of the wrong number of dimensions or channels.
    """
    arr = as_array(value, name, ndims=ndims)
    integers = np.issubdtype(np.asarray(value).dtype, np.integer)
    low = float(arr.min()) if arr.size else 0.0
    high = float(arr.max()) if arr.size else 0.0
    if low < 0:
        raise ValueError(f"`{name}` must hold pixels 0-255 or brightness in [0, 1], got values "
                         f"down to {low:g}")
    if high > 255:
        raise ValueError(f"`{name}` must hold pixels 0-255 (uint8) or brightness in [0, 1], got "
                         f"values up to {high:g}")
    if not integers and 1.0 < high < 2.0:
        raise ValueError(f"`{name}` holds floats up to {high:g}, just above 1: neither "
                         "brightness in [0, 1] nor plausibly 0-255 pixels; clip brightness with "
                         "np.clip(x, 0, 1), or pass 0-255 pixels as uint8")
    if arr.ndim == 4 and channels is not None and arr.shape[-1] != channels:
        count = "one channel" if channels == 1 else f"{channels} channels"
        raise ValueError(f"`{name}` must have {count} (N, H, W, {channels}), got shape "
                         f"{arr.shape}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = arr[..., None]
    if integers or high > 1.0:
        arr = arr / 255.0
    return arr.astype(np.float32)                                        # (N, H, W, C)


def check_labels(y, name: str, n: int, n_classes: int, *, images: str = "x") -> np.ndarray:
    """Class numbers ``(n,)`` in ``0 .. n_classes - 1``, returned as int64."""
    if y is None:
        raise TypeError(f"`{name}` must be an array of class numbers, got None")
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError):
        raise ValueError(f"`{name}` must be a flat array of class numbers, could not convert "
                         f"{describe(y)}") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"`{name}` must hold integer class numbers 0..{n_classes - 1}, got "
                        f"{describe(y)}")
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},), one label per image of `{images}`, "
                         f"got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"`{name}` must hold whole class numbers 0..{n_classes - 1}, got "
                             "fractions, NaN or infinity")
    if n and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"`{name}` must hold class numbers 0..{n_classes - 1} (the model has "
                         f"{n_classes} outputs), got values {arr.min():g}..{arr.max():g}")
    return arr.astype(np.int64)


def check_classifier(model, name: str = "model"):
    """A Keras model with one 4D image input and one ``(N, n_classes)`` output.

    Returns
    -------
    (H, W, C), n_classes
        ``H`` and ``W`` may be None (any size).
    """
    try:
        inputs, outputs = model.inputs, model.outputs
        call = callable(model)
    except Exception:  # noqa: BLE001 - not a built Keras model
        inputs = outputs = None
        call = False
    if not call or not isinstance(inputs, (list, tuple)) or not isinstance(outputs, (list, tuple)):
        raise TypeError(f"`{name}` must be a Keras model (e.g. from cnnlab.models), got "
                        f"{describe(model)}")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"`{name}` must have one input and one output, got {len(inputs)} and "
                         f"{len(outputs)}")
    shape, out = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(f"`{name}` must take images (N, H, W, C), its input has shape {shape}")
    if len(out) != 2 or out[-1] is None:
        raise ValueError(f"`{name}` must output class scores (N, n_classes), its output has "
                         f"shape {out}")
    return shape[1:], int(out[-1])


def model_images(model, x, name: str = "x", *, input_shape=None) -> np.ndarray:
    """Images for ``model`` as float32 ``(N, H, W, C)`` in [0, 1], from raw or prepared pixels.

    ``x`` may be uint8 pixels 0-255 (``(N, H, W)`` for one-channel models,
    or ``(N, H, W, C)``) or floats already in [0, 1]; see :func:`as_pixels`.
    """
    if input_shape is None:
        input_shape, _ = check_classifier(model)
    h, w, c = input_shape
    arr = as_pixels(x, name, ndims=(3, 4) if c == 1 else 4, channels=c)
    if (h is not None and arr.shape[1] != h) or (w is not None and arr.shape[2] != w):
        want = f"(N, {h or 'H'}, {w or 'W'}, {c})"
        raise ValueError(f"`{name}` must hold images of shape {want} for this model, got "
                         f"shape {np.shape(x)}")
    if len(arr) == 0:
        raise ValueError(f"`{name}` must hold at least one image, got shape {np.shape(x)}")
    return arr


def check_argv(argv) -> list:
    """Command-line words: None (``sys.argv[1:]``) or a list of strings (numbers are turned into text)."""
    import sys

    if argv is None:
        return sys.argv[1:]
    if not isinstance(argv, (list, tuple)):
        raise TypeError(f"`argv` must be a list of command-line words such as ['train', "
                        f"'--epochs', '1'], or None, got {describe(argv)}")
    bad = [a for a in argv if not isinstance(a, (str, int, float)) or isinstance(a, bool)]
    if bad:
        raise TypeError(f"`argv` must hold strings (or numbers), got {describe(bad[0])}")
    return [str(a) for a in argv]
