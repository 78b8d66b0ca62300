"""Input checks shared by the public functions of :mod:`cnnlab`.

Every public function validates its arguments up front with these helpers, so
that a learner who passes something odd gets a ``ValueError`` or ``TypeError``
naming the argument, what was expected and what was given, instead of a numpy
broadcasting traceback from deep inside a loop.
"""

from __future__ import annotations

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
