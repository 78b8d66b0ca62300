"""Input checks shared by the public functions of :mod:`cnnlab`.

Every public function validates its arguments up front with these helpers, so
that a learner who passes something odd gets a ``ValueError`` or ``TypeError``
naming the argument, what was expected and what was given, instead of a numpy
broadcasting traceback from deep inside a loop.

The first half serves every module (arrays, ints, choices, memory and time
limits); the second the Keras models and their training (:mod:`cnnlab.models`,
:mod:`cnnlab.train`, :mod:`cnnlab.tinycnn`): seeds, numbers, image shapes and
the smallest image a network accepts, the size of a network, pixels, labels
and the model a batch is meant for. None of them imports Keras.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def describe(value) -> str:
    """Return a short, readable description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{value!r} ({type(value).__name__})"


def as_array(value, name: str, ndims=None, *, finite: bool = True) -> np.ndarray:
    """Convert ``value`` to a floating-point array and check it.

    Parameters
    ----------
    value : array_like
        Numbers (ints, floats or bools); strings and objects are refused.
    name : str
        The argument name used in error messages.
    ndims : int or tuple of int, optional
        Allowed numbers of dimensions.
    finite : bool
        Refuse NaN and infinity.

    Returns
    -------
    ndarray
        ``float64`` unless the input was ``float32`` (kept as is).
    """
    if value is None:
        raise TypeError(f"`{name}` must be an array of numbers, got None")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(
            f"`{name}` must be a rectangular array of numbers; could not convert "
            f"{describe(value)}: {exc}"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(
            f"`{name}` must hold numbers, got dtype {arr.dtype} ({describe(value)})"
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must hold real numbers, got complex dtype {arr.dtype}")
    if ndims is not None:
        allowed = (ndims,) if isinstance(ndims, int) else tuple(ndims)
        if arr.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"`{name}` must have {want} dimensions, got {arr.ndim} (shape {arr.shape})"
            )
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"`{name}` must hold finite numbers, got {bad} NaN or infinite value(s)"
        )
    return arr


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, refusing floats, bools and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, got {value}")
    return value


def check_pair(value, name: str, *, minimum: int | None = None) -> tuple[int, int]:
    """Accept an int or a pair of ints; return a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"`{name}` must be an int or a pair of ints, got {describe(value)}"
            )
        return (check_int(value[0], name, minimum=minimum),
                check_int(value[1], name, minimum=minimum))
    v = check_int(value, name, minimum=minimum)
    return (v, v)


def check_choice(value, name: str, choices) -> str:
    """Check that ``value`` is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}, got {describe(value)}")
    return value


def check_bias(bias, c_out: int, single: bool, dtype) -> np.ndarray:
    """One bias per filter, as a ``(C_out,)`` array of ``dtype``; ``None`` gives zeros.

    ``single`` is True when the call had one filter (a plain 2D kernel), where
    only a single number makes sense.
    """
    if bias is None:
        return np.zeros(c_out, dtype=dtype)
    b = as_array(bias, "bias")
    if b.ndim == 0:
        return np.full(c_out, b, dtype=dtype)
    if single or b.shape != (c_out,):
        want = "a single number" if single else f"a number or shape ({c_out},), one per filter"
        raise ValueError(f"`bias` must be {want}, got shape {b.shape}")
    return b.astype(dtype, copy=False)


#: The largest array any public function of :mod:`cnnlab` agrees to make (4 GB).
MAX_BYTES = 4 * 2**30


def format_bytes(n_bytes: float) -> str:
    """``5.4e9`` -> ``'5.4 GB'``: a byte count a learner can read."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{int(n_bytes)} bytes"


def check_allocation(shape, name: str, *, itemsize: int = 8, what: str = "the result") -> None:
    """Refuse, before allocating it, an array of more than :data:`MAX_BYTES`.

    Parameters
    ----------
    shape : int or tuple of int
        The number of values, or the shape, of the array about to be made.
    name : str
        The argument (or arguments, as "`padding` and `stride`") that decided
        the size, named in the message.
    itemsize : int
        Bytes per value (8 for float64).
    what : str
        What the array is, for the message ("the padded input").

    Raises
    ------
    ValueError
        Saying how large the array would be and which argument to make smaller.
    """
    dims = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    n_values = 1
    for d in dims:
        n_values *= max(int(d), 0)          # Python ints: no overflow
    n_bytes = n_values * itemsize
    if n_bytes > MAX_BYTES:
        size = " x ".join(f"{int(d):,}" for d in dims) if len(dims) > 1 else f"{n_values:,}"
        label = name if name.startswith("`") else f"`{name}`"
        raise ValueError(
            f"{label}: {what} would hold {size} values ({format_bytes(n_bytes)}); "
            f"cnnlab refuses anything over {format_bytes(MAX_BYTES)}. Use a smaller {label}."
        )


# --------------------------------------------------------------------------
# Work limits and overflowed results (kernels, pooling, data, backprop, optim)
# --------------------------------------------------------------------------

#: The most values one call of a numpy-level function works through (windows
#: copied or read, cells filled): 2**27, about a second of numpy on a laptop.
MAX_WORK = 2**27

#: The most steps a loop written out in Python runs in one call (the readable
#: ``*_naive`` convolutions, the entries of ``conv_matrix``): about a second.
MAX_STEPS = 10**5


def check_work(n_units, name: str, *, what: str, limit: int = MAX_WORK,
               unit: str = "values", advice: str | None = None) -> None:
    """Refuse, before starting, a computation that would run for more than a few seconds.

    :func:`check_allocation` keeps memory in bounds; this keeps time in bounds
    (a small input with a huge padding fits in memory but takes minutes).

    Parameters
    ----------
    n_units : int
        Values the computation works through (or loop steps, see ``unit``).
    name : str
        The argument(s) that decided the amount, as for :func:`check_allocation`.
    what : str
        What would take the time ("the im2col matrix").
    limit : int
        :data:`MAX_WORK` for numpy work, :data:`MAX_STEPS` for Python loops.
    unit : str
        What ``n_units`` counts ("values", "steps of its Python loop").
    advice : str, optional
        How to fix it; default "Use a smaller <name>."

    Raises
    ------
    ValueError
        Saying how much work it would be and what to make smaller.
    """
    n = int(n_units)
    if n > limit:
        label = name if name.startswith("`") else f"`{name}`"
        raise ValueError(
            f"{label}: {what} would take {n:,} {unit}; cnnlab stops at {limit:,} "
            f"(a few seconds) rather than run for minutes. {advice or f'Use a smaller {label}.'}"
        )


def check_finite_result(result, names: str, *, what: str = "the result"):
    """Return ``result``, or refuse it when finite inputs overflowed to infinity or NaN.

    Parameters
    ----------
    result : ndarray or float
    names : str
        The arguments whose values are too large, as "`x` and `kernel`".
    what : str
        What overflowed, for the message.

    Raises
    ------
    ValueError
        Saying how many values overflowed and the largest number the dtype holds.
    """
    arr = np.asarray(result)
    if np.issubdtype(arr.dtype, np.floating) and arr.size and not np.all(np.isfinite(arr)):
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        label = names if names.startswith("`") else f"`{names}`"
        raise ValueError(
            f"{label}: {what} overflowed: {bad:,} value(s) came out infinite or NaN, beyond "
            f"the largest {arr.dtype} number (about {float(np.finfo(arr.dtype).max):.1e}); the "
            "inputs are too large for this computation. Scale them down (e.g. divide by 1e6)."
        )
    return result


# --------------------------------------------------------------------------
# Keras models and their training (models, train, tinycnn): seeds, numbers,
# image shapes and network sizes, pixels, labels and the model a batch is for
# --------------------------------------------------------------------------

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


def check_noise(noise) -> float:
    """The standard deviation of added noise: a finite number >= 0 (not a bool)."""
    if (isinstance(noise, (bool, np.bool_)) or not isinstance(noise, (int, float, np.floating,
                                                                      np.integer))
            or not np.isfinite(noise) or noise < 0):
        raise ValueError(f"`noise` must be a number >= 0, got {describe(noise)}")
    return float(noise)


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
