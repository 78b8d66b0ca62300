"""Exercise checkers that speak to learners (every lesson from 01 to 12).

An exercise's test cell hands the learner's function to a checker::

    checks.check_conv2d(my_conv2d)

The checker calls the function on a series of inputs, from the lesson's own
example to random ones, and compares every answer with the course's own
version (:mod:`cnnlab.kernels`, :mod:`cnnlab.shapes`, :mod:`cnnlab.backprop`,
...). The checkers of this module cover convolution, output sizes and
pooling; one module per topic holds the others (``filter_design``,
``arithmetic``, ``im2col``, ``pooling``, ``activations``, ``classifier``,
``backward``, ``normalise``, ``keras_models``, ``receptive``, ``transposed``),
and every checker is importable from here. At the first wrong answer it raises
:class:`CheckFailed`, an ``AssertionError`` (so nbgrader and pytest count a
failed test), whose message says what was called, what was expected, what
came back, and gives a hint about the likely mistake (a flipped kernel, a
missing bias, an output one cell too small, ...). When every case passes it
prints one line and returns a :class:`CheckResult`.

What is tested depends on the function's signature
--------------------------------------------------
The checkers read the parameter names (``inspect.signature``) and test only
what the function accepts:

- always: the first parameters, in order (input and kernel; ``n`` and ``k``
  for the size functions; the input for pooling), with no padding and stride 1;
- a parameter named ``bias`` (or ``b``): cases with a bias;
- ``stride`` (or ``s``, ``step``): strides 2 and 3;
- ``padding`` (or ``pad``, ``p``): when its default is a string, ``"valid"``
  and ``"same"`` (TensorFlow's rule); otherwise 1 and 2 cells of zeros on
  every side;
- pooling: a second parameter (or one named ``pool_size``, ``size``) is the
  window size; windows of 2 and 3 cells are tested.

``**kwargs`` declares nothing, so it is not tested. The keywords
``strides=``, ``paddings=`` and ``channels=True`` (the batched channels-last
form of :mod:`cnnlab.kernels`, ``(N, H, W, C_in)`` with a
``(KH, KW, C_in, C_out)`` kernel) choose the cases explicitly.

Time limit
----------
Every call of the learner's function may take at most ``time_limit``
seconds (``DEFAULT_TIME_LIMIT``, 5 s, by default; ``time_limit=None`` for no
limit): an infinite loop fails the check with a hint instead of hanging the
notebook. In the main thread (a notebook cell, a test) the call is
interrupted with ``SIGALRM``; elsewhere, or where there is no ``SIGALRM``
(Windows), it runs in a helper thread that is left behind when it does not
finish (restart the kernel to stop it).
"""

from __future__ import annotations

import numbers

from . import _cases, _hints
from ._calls import (  # noqa: F401 - MAX_/MIN_TIME_LIMIT are part of the API
    DEFAULT_TIME_LIMIT, MAX_TIME_LIMIT, MIN_TIME_LIMIT, PADDING_NAMES, STRIDE_NAMES, Call, Params,
    check_flag, check_teacher_values, check_time_limit, choose, compare, keyword,
)
from ._results import CheckFailed, CheckResult, NotAFunction, passed, short_traceback
from .. import kernels, shapes
from . import (
    activations, answers, arithmetic, backward, classifier, filter_design, im2col, keras_models,
    normalise, pooling, receptive, transposed,
)
from .activations import *  # noqa: F401,F403 - each checker module lists its names in __all__
from .answers import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .backward import *  # noqa: F401,F403
from .classifier import *  # noqa: F401,F403
from .filter_design import *  # noqa: F401,F403
from .im2col import *  # noqa: F401,F403
from .keras_models import *  # noqa: F401,F403
from .normalise import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .receptive import *  # noqa: F401,F403
from .transposed import *  # noqa: F401,F403

__all__ = [
    "CheckFailed", "CheckResult", "NotAFunction", "check_conv1d", "check_conv2d",
    "check_output_size", "check_feature_map_length", "check_max_pool",
]
for _module in (activations, answers, arithmetic, backward, classifier, filter_design, im2col,
                keras_models, normalise, pooling, receptive, transposed):
    __all__ += _module.__all__
del _module

MAX_CHECK_STRIDE = 8      # largest stride a teacher may ask for (the inputs are at most 9x8)
MAX_CHECK_PADDING = 8     # most zeros of padding
MAX_CHECK_POOL = 6        # largest pooling window (the random maps are 7x6)
PADDING_WORDS = ("valid", "same", "full")

BIAS_NAMES = ("bias", "b")
POOL_NAMES = ("pool_size", "size", "pool", "window")


# --------------------------------------------------------------------------
# Public checkers
# --------------------------------------------------------------------------

@short_traceback
def check_conv1d(fn, *, channels=False, strides=None, paddings=None,
                 time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's 1D convolution ``fn(x, k, ...)`` against ``kernels.conv1d``.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with ``x (L,)`` and ``k (K,)`` returning ``(L_out,)``;
        with ``channels=True``, ``x (N, L, C_in)`` and ``k (K, C_in, C_out)``
        returning ``(N, L_out, C_out)``. Optional ``bias``, ``stride``,
        ``padding`` parameters are tested when present (see the module docstring).
    channels : bool
        Test the batched channels-last form.
    strides, paddings : sequence, optional
        Values to test instead of the ones chosen from the signature:
        strides 1 to 8, paddings 0 to 8 zeros or "valid", "same", "full".
    time_limit : float or None
        Seconds each call of ``fn`` may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult

    Raises
    ------
    CheckFailed
        At the first case that gives a wrong answer (or takes too long), with a hint.
    NotAFunction
        If ``fn`` is not a function (a ``TypeError`` too).
    """
    return _check_conv(fn, 1, channels, strides, paddings, time_limit)


@short_traceback
def check_conv2d(fn, *, channels=False, strides=None, paddings=None,
                 time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's 2D convolution ``fn(x, k, ...)`` against ``kernels.conv2d``.

    Parameters
    ----------
    fn : callable
        ``fn(x, k)`` with ``x (H, W)`` and ``k (KH, KW)`` returning
        ``(H_out, W_out)``; with ``channels=True``, ``x (N, H, W, C_in)`` and
        ``k (KH, KW, C_in, C_out)`` returning ``(N, H_out, W_out, C_out)``.
    channels, strides, paddings, time_limit
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    return _check_conv(fn, 2, channels, strides, paddings, time_limit)


@short_traceback
def check_output_size(fn, *, strides=None, paddings=None,
                      time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(n, k, ...)``, the output size of a convolution, against ``shapes``.

    Parameters
    ----------
    fn : callable
        ``fn(n, k)`` returning an int; optional ``stride`` and ``padding``
        parameters are tested when present.
    strides, paddings : sequence, optional
        Values to test instead of the ones chosen from the signature.
    time_limit : float or None
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    return _check_size(fn, strides, paddings, time_limit, what="output size")


@short_traceback
def check_feature_map_length(fn, *, time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(n, k)``: the length of a 1D feature map (no padding, stride 1).

    ``time_limit`` as in :func:`check_conv1d`.
    """
    return _check_size(fn, (1,), (0,), time_limit, what="feature map length")


@short_traceback
def check_max_pool(fn, *, channels=False, pool_sizes=None, strides=None,
                   time_limit=DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a learner's max pooling ``fn(x, ...)`` against ``kernels.max_pool2d``.

    Parameters
    ----------
    fn : callable
        ``fn(x)`` or ``fn(x, pool_size)`` with ``x (H, W)`` (``(N, H, W, C)``
        with ``channels=True``); windows do not overlap unless a ``stride``
        parameter says otherwise; odd sizes are floored ("valid").
    channels : bool
        Test the batched channels-last form.
    pool_sizes, strides : sequence, optional
        Values to test instead of the ones chosen from the signature (pool
        sizes 1 to 6, strides 1 to 8).
    time_limit : float or None
        As in :func:`check_conv1d`.

    Returns
    -------
    CheckResult
    """
    params = Params(fn, ("x",))
    channels = check_flag(channels, "channels")
    limit = check_time_limit(time_limit)
    pool_sizes = check_teacher_values(pool_sizes, "pool_sizes", 1, MAX_CHECK_POOL)
    strides = check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    size_param = params.find(POOL_NAMES) or params.extra_positional()
    stride_param = params.find(STRIDE_NAMES)
    sizes = choose(pool_sizes, size_param, (2, 3), (2,), "pool_sizes")
    steps = choose(strides, stride_param, (1,), (None,), "strides")
    cases = [(x, 2, None) for x in _cases.pool_inputs(channels)]
    shape = (1, 7, 6, 2) if channels else (7, 6)
    cases += [(_cases.random_array(shape, seed=40 + p), p, None) for p in sizes if p != 2]
    cases += [(_cases.random_array(shape, seed=50 + s), 2, s) for s in steps if s is not None]
    for x, p, s in cases:
        kwargs = {**keyword(size_param, p, (2,)),
                  **keyword(stride_param, p if s is None else s, (None, p))}
        want = kernels.max_pool2d(x, p, s)
        call = Call(fn, params, (x,), kwargs, limit)
        got = call.run(want.ndim)
        compare(call, got, want, lambda g: _hints.pool(x, p, s, want, g))
    covered = ["2D maps" + (" with channels" if channels else "")]
    covered += [f"pool size {', '.join(map(str, sizes))}"] if len(sizes) > 1 else []
    covered += [f"stride {', '.join(str(s) for s in steps)}"] if steps != (None,) else []
    return passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Convolution cases
# --------------------------------------------------------------------------

def _check_conv(fn, dims, channels, strides, paddings, time_limit):
    params = Params(fn, ("x", "k"))
    channels = check_flag(channels, "channels")
    limit = check_time_limit(time_limit)
    strides = check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    paddings = check_teacher_values(paddings, "paddings", 0, MAX_CHECK_PADDING, PADDING_WORDS)
    bias_param = params.find(BIAS_NAMES)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    steps = choose(strides, stride_param, (2, 3), (1,), "strides")
    text_padding = padding_param is not None and isinstance(padding_param.default, str)
    pads = choose(paddings, padding_param, ("valid", "same") if text_padding else (1, 2),
                   (0,), "paddings")
    reference = kernels.conv1d if dims == 1 else kernels.conv2d
    cases = _cases.conv_cases(dims, channels, bias_param is not None, steps, pads)
    for x, k, bias, stride, padding in cases:
        kwargs = {**keyword(bias_param, bias, (0, None)),
                  **keyword(stride_param, stride, (1, (1, 1))),
                  **keyword(padding_param, padding, (0, "valid"))}
        want = reference(x, k, bias, stride=stride, padding=padding)
        call = Call(fn, params, (x, k), kwargs, limit)
        got = call.run(want.ndim)
        conv = _hints.Conv(x, k, bias, stride, padding, reference, dims)
        compare(call, got, want, lambda g: conv.hint(want, g))
    covered = [("1D signals" if dims == 1 else "2D images") + (" with channels" if channels else "")]
    covered += ["bias"] if bias_param is not None else []
    covered += [f"stride {', '.join(str(s) for s in steps if s != 1)}"] if steps != (1,) else []
    covered += [f"padding {', '.join(repr(p) for p in pads)}"] if pads != (0,) else []
    return passed(params.name, len(cases), covered)


# --------------------------------------------------------------------------
# Output sizes
# --------------------------------------------------------------------------

def _check_size(fn, strides, paddings, time_limit, what):
    params = Params(fn, ("n", "k"))
    limit = check_time_limit(time_limit)
    strides = check_teacher_values(strides, "strides", 1, MAX_CHECK_STRIDE)
    paddings = check_teacher_values(paddings, "paddings", 0, MAX_CHECK_PADDING, PADDING_WORDS)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    text_padding = padding_param is not None and isinstance(padding_param.default, str)
    steps = choose(strides, stride_param, (1, 2, 3), (1,), "strides")
    pads = choose(paddings, padding_param, ("valid", "same") if text_padding else (0, 1, 2),
                   (0,), "paddings")
    grid = [(8, 3), (10, 1), (5, 5), (100, 7), (28, 5), (7, 2)]
    cases = [(n, k, 1, pads[0]) for n, k in grid]
    cases += [(n, k, s, p) for s in steps for p in pads for n, k in ((7, 3), (32, 5), (6, 4))
              if (s, p) != (1, pads[0])]
    for n, k, s, p in cases:
        kwargs = {**keyword(stride_param, s, (1,)), **keyword(padding_param, p, (0, "valid"))}
        want = shapes.conv_output_size(n, k, s, p)
        call = Call(fn, params, (n, k), kwargs, limit)
        got = call.run(None)
        if not (isinstance(got, numbers.Integral) and not isinstance(got, bool)) or got != want:
            problem, hint = _hints.size_failure(n, k, s, p, want, got, what)
            raise CheckFailed(problem, call=call.text(), hint=hint)
    covered = ["sizes"]
    covered += [f"stride {', '.join(str(s) for s in steps if s != 1)}"] if steps != (1,) else []
    covered += [f"padding {', '.join(repr(p) for p in pads if p not in (0, 'valid'))}"] \
        if len(pads) > 1 else []
    return passed(params.name, len(cases), covered)
