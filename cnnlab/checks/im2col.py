"""Exercise checkers of lesson 04: a convolution vectorised with im2col, and the cost of a layer.

:func:`check_conv2d_im2col` runs the learner's ``fn(x, kernel, bias, stride,
padding)``, a multi-channel, multi-filter convolution of channels-last
batches ``x (N, H, W, C_in)`` with ``kernel (KH, KW, C_in, C_out)`` and
``bias (C_out,)``, on the lesson's 5x5x3 worked example first (two filters,
stride 2, padding 1), then on seeded random batches with one or several
examples, one or several channels in and out, rectangular kernels, strides 1
to 3 and paddings 0 to 2, against :func:`cnnlab.kernels.conv2d`.

:func:`check_conv_layer_cost` runs ``fn(input_shape, filters, kernel_size,
stride, padding)``, the parameters and the multiply-adds of a convolutional
layer, on the lesson's 1x1 / 3x3 / 5x5 layers over 192 maps, then on layers
with strides, "valid" and "same" padding and rectangular kernels, against
:func:`conv_layer_cost_reference` (:func:`cnnlab.shapes.conv2d_params` and
the count of the lesson: every weight is used once per output position).

Wrong answers are explained by recomputing them with one typical mistake
built in: the patches flattened in another order than the kernel, the
kernel's filters and channels mixed up by a reshape, the product reshaped
through the wrong axes, the bias forgotten, added to every weight or summed;
the bias or the input depth left out of the count, the input size used where
the output size belongs, the bias counted as a multiply-add.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from .. import kernels, shapes
from . import _hints
from ._calls import (
    DEFAULT_TIME_LIMIT, PADDING_NAMES, STRIDE_NAMES, Call, Params, check_time_limit, compare,
)
from ._cases import random_array
from ._results import CheckFailed, passed, short_traceback

__all__ = [
    "check_conv2d_im2col", "conv2d_im2col_reference", "im2col_reference",
    "check_conv_layer_cost", "conv_layer_cost_reference",
]

AXIS_WORDS = {"h": "kernel row", "w": "kernel column", "c": "channel"}
ORDER_HINT = ("Your patches are flattened in a different order than the kernel: each row of "
              "your patch matrix runs ({got}), but kernel.reshape(-1, C_out) runs (kernel row, "
              "kernel column, channel), with the channel changing fastest. Cut the windows as "
              "(N, H_out, W_out, KH, KW, C_in) before you reshape them to "
              "(N * H_out * W_out, KH * KW * C_in).")
KERNEL_RESHAPE_HINT = ("The filters and the channels are mixed up: kernel.reshape(C_out, -1).T "
                       "cuts the kernel's numbers in the wrong places, because the filter is "
                       "the LAST axis of (KH, KW, C_in, C_out). Use kernel.reshape(-1, C_out): "
                       "one column per filter.")
OUTPUT_AXES_HINT = ("Your numbers are right but sit in the wrong cells: the product "
                    "patches @ weights has one row per output position (n, i, j) and one column "
                    "per filter, so reshape it straight to (N, H_out, W_out, C_out), with no "
                    ".T and no (N, C_out, H_out, W_out) in between.")
BIAS_FORGOTTEN_HINT = "Your output is off by exactly the bias: add `bias` (one value per filter)."
BIAS_WEIGHTS_HINT = ("The bias is added to every weight (weights + bias adds it to each row of "
                     "the weight matrix), so it is counted once per product: add it once, to the "
                     "product, patches @ weights + bias.")
BIAS_SUM_HINT = ("Every cell got the sum of all the biases: each filter has its own bias, so "
                 "filter f adds bias[f] only — patches @ weights + bias broadcasts it per column.")
BIAS_TWICE_HINT = "The bias is added twice: add it once, after the product."

COST_BIAS_HINT = ("Your parameter count leaves out the biases: every filter has one bias, so "
                  "add `filters` to the weights.")
COST_DEPTH_HINT = ("You left out the input's depth: every filter is KH x KW x C_in (it reaches "
                   "through all the channels), so there are KH·KW·C_in·filters weights.")
COST_POSITIONS_PARAMS_HINT = ("Your parameter count grows with the image: the weights are SHARED "
                              "by every output position, so the count is KH·KW·C_in·filters + "
                              "filters whatever the image size.")
COST_INPUT_SIZE_HINT = ("You multiplied by the input's height and width: each weight is used once "
                        "per OUTPUT position, so multiply by H_out·W_out (stride and padding "
                        "change it).")
COST_BIAS_MADDS_HINT = ("Your multiply-adds count the biases too: a bias is only added, so the "
                        "lesson counts the weights times the output positions, KH·KW·C_in·"
                        "filters·H_out·W_out.")
COST_STRIDE_HINT = ("Your output size ignores the stride: the window jumps `stride` cells, so "
                    "H_out = conv_output_size(H, KH, stride, padding), not the size for stride 1.")
COST_PADDING_HINT = ("Your output size ignores the padding: the zeros make room for more "
                     "positions; H_out = conv_output_size(H, KH, stride, padding).")
COST_SWAPPED_HINT = "Your pair is the wrong way round: return (params, multiply_adds)."
COST_FILTERS_HINT = ("Your multiply-adds count one filter: each of the `filters` filters runs "
                     "over every output position, so multiply by the number of filters as well.")


# --------------------------------------------------------------------------
# Exercise 1: a convolution vectorised with im2col
# --------------------------------------------------------------------------

def im2col_reference(x, kernel_size, stride=1, padding=0, order="hwc"):
    """The patch matrix of a channels-last batch: one row per output position.

    Parameters
    ----------
    x : (N, H, W, C_in) array_like
    kernel_size : (int, int)
        ``(KH, KW)``.
    stride : int
    padding : int
        Zeros on every side.
    order : str
        The order of a row's axes, fastest last: ``"hwc"`` (kernel row, kernel
        column, channel) matches ``kernel.reshape(-1, C_out)``.

    Returns
    -------
    cols : (N * H_out * W_out, KH * KW * C_in) ndarray
        Rows in the order (n, i, j) of the output cells.
    out_shape : (int, int, int)
        ``(N, H_out, W_out)``.
    """
    x = np.asarray(x, dtype=float)
    kh, kw = kernel_size
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]              # (N, H_out, W_out, C_in, KH, KW)
    axes = {"h": 4, "w": 5, "c": 3}
    windows = windows.transpose(0, 1, 2, *(axes[a] for a in order))
    n, h_out, w_out = windows.shape[:3]
    return windows.reshape(n * h_out * w_out, -1), (n, h_out, w_out)


def conv2d_im2col_reference(x, kernel, bias, stride=1, padding=0):
    """The exercise's answer: :func:`cnnlab.kernels.conv2d` with the exercise's arguments.

    Parameters
    ----------
    x : (N, H, W, C_in) array_like
    kernel : (KH, KW, C_in, C_out) array_like
    bias : (C_out,) array_like
    stride : int
    padding : int
        Zeros on every side.

    Returns
    -------
    (N, H_out, W_out, C_out) ndarray
    """
    return kernels.conv2d(x, kernel, bias, stride=stride, padding=padding)


def lesson_example():
    """Lesson 04's worked example: x (1, 5, 5, 3), w (3, 3, 3, 2), bias (2,), stride 2, padding 1."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(5, 5, 3)).astype(float)
    w = rng.integers(-1, 2, size=(3, 3, 3, 2)).astype(float)
    return x[None], w, np.array([1.0, 0.0]), 2, 1


def im2col_cases(strided, padded):
    """``(x, kernel, bias, stride, padding)``: the lesson's example, then seeded random ones."""
    cases = [lesson_example()] if strided and padded else []
    # (N, H, W, C_in), (KH, KW, C_out), stride, padding
    settings = [((1, 4, 4, 1), (3, 3, 1), 1, 0), ((2, 5, 6, 3), (3, 2, 2), 1, 0),
                ((1, 6, 5, 2), (2, 3, 3), 1, 0), ((3, 4, 4, 2), (1, 1, 4), 1, 0),
                ((2, 5, 5, 3), (5, 5, 2), 1, 0), ((1, 6, 6, 4), (3, 3, 4), 1, 0),
                ((2, 7, 6, 2), (3, 3, 3), 2, 0), ((1, 9, 8, 3), (3, 2, 2), 3, 0),
                ((2, 5, 4, 3), (3, 3, 2), 1, 1), ((1, 4, 5, 2), (2, 2, 3), 1, 2),
                ((2, 8, 7, 3), (3, 4, 2), 2, 1), ((1, 7, 9, 1), (4, 3, 5), 3, 2),
                ((4, 6, 6, 3), (3, 3, 8), 1, 1)]
    for i, (x_shape, (kh, kw, c_out), stride, padding) in enumerate(settings):
        if (stride != 1 and not strided) or (padding != 0 and not padded):
            continue
        fractional = i % 4 == 3
        x = random_array(x_shape, seed=400 + i, fractional=fractional)
        kernel = random_array((kh, kw, x_shape[-1], c_out), seed=500 + i, fractional=fractional)
        bias = np.round(np.random.default_rng(600 + i).normal(size=c_out), 2) + 0.5
        bias[bias == 0] = 1.0
        cases.append((x, kernel, bias, stride, padding))
    return cases


@short_traceback
def check_conv2d_im2col(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check a learner's ``fn(x, kernel, bias, stride=1, padding=0)`` against ``kernels.conv2d``.

    Parameters
    ----------
    fn : callable
        ``fn(x, kernel, bias)`` with ``x (N, H, W, C_in)``, ``kernel (KH, KW,
        C_in, C_out)`` and ``bias (C_out,)``, returning ``(N, H_out, W_out,
        C_out)``. Strides 2 and 3 are tested when it has a parameter
        ``stride``, paddings of 1 and 2 zeros on every side when it has one
        called ``padding``.
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
    params = Params(fn, ("x", "kernel", "bias"))
    limit = check_time_limit(time_limit)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    cases = im2col_cases(stride_param is not None, padding_param is not None)
    for x, kernel, bias, stride, padding in cases:
        kwargs = {**({stride_param.name: stride} if stride != 1 else {}),
                  **({padding_param.name: padding} if padding != 0 else {})}
        want = conv2d_im2col_reference(x, kernel, bias, stride, padding)
        call = Call(fn, params, (x, kernel, bias), kwargs, limit)
        got = call.run(want.ndim)
        compare(call, got, want, lambda g: im2col_hint(x, kernel, bias, stride, padding, want, g))
    covered = ["batches", "several channels and filters", "bias"]
    covered += ["stride 2, 3"] if stride_param is not None else []
    covered += ["padding 1, 2"] if padding_param is not None else []
    return passed(params.name, len(cases), covered)


def im2col_hint(x, kernel, bias, stride, padding, want, got) -> str:
    """The likely mistake of an im2col convolution that returned ``got`` instead of ``want``."""
    if got.shape == want.shape:
        for answer, text in im2col_mistakes(x, kernel, bias, stride, padding):
            if not _hints.close(answer, want) and _hints.close(got, answer):
                return text
    conv = _hints.Conv(x, kernel, bias, stride, padding, kernels.conv2d, 2)
    return conv.hint(want, got)


def im2col_mistakes(x, kernel, bias, stride, padding):
    """``(wrong answer, hint)`` for each typical mistake of an im2col convolution."""
    kh, kw, _, c_out = kernel.shape
    cols, (n, h_out, w_out) = im2col_reference(x, (kh, kw), stride, padding)
    weights = kernel.reshape(-1, c_out)                    # (KH * KW * C_in, C_out)
    product = cols @ weights + bias                        # (N * H_out * W_out, C_out)

    def shaped(matrix):
        return matrix.reshape(n, h_out, w_out, c_out)
    for order in ("".join(p) for p in itertools.permutations("hwc")):
        if order != "hwc":
            wrong_cols = im2col_reference(x, (kh, kw), stride, padding, order)[0]
            got = ", ".join(AXIS_WORDS[a] for a in order)
            yield shaped(wrong_cols @ weights + bias), ORDER_HINT.format(got=got)
    yield shaped(cols @ kernel.reshape(c_out, -1).T + bias), KERNEL_RESHAPE_HINT
    yield product.T.reshape(n, h_out, w_out, c_out), OUTPUT_AXES_HINT
    yield product.reshape(n, c_out, h_out, w_out).transpose(0, 2, 3, 1), OUTPUT_AXES_HINT
    yield shaped(cols @ weights), BIAS_FORGOTTEN_HINT
    yield shaped(cols @ (weights + bias)), BIAS_WEIGHTS_HINT
    yield shaped(cols @ (weights + bias) + bias), BIAS_WEIGHTS_HINT
    yield shaped(cols @ weights + np.sum(bias)), BIAS_SUM_HINT
    yield shaped(cols @ weights + 2 * bias), BIAS_TWICE_HINT


# --------------------------------------------------------------------------
# Exercise 2: parameters and multiply-adds of a convolutional layer
# --------------------------------------------------------------------------

def conv_layer_cost_reference(input_shape, filters, kernel_size, stride=1, padding="valid"):
    """Parameters and multiply-adds of a 2D convolutional layer with bias.

    Parameters
    ----------
    input_shape : (int, int, int)
        ``(H, W, C_in)`` of one input.
    filters : int
        ``C_out``.
    kernel_size : int or (int, int)
        ``(KH, KW)``.
    stride : int
    padding : {"valid", "same", "full"} or int
        As in :func:`cnnlab.shapes.conv_output_size`.

    Returns
    -------
    (int, int)
        ``(KH·KW·C_in·C_out + C_out, KH·KW·C_in·C_out·H_out·W_out)``: the
        weights and biases, and one multiply-add per weight and output position.
    """
    h, w, c_in, kh, kw, h_out, w_out = _layer(input_shape, kernel_size, stride, padding)
    weights = shapes.conv2d_params((kh, kw), c_in, filters, use_bias=False)
    return shapes.conv2d_params((kh, kw), c_in, filters), weights * h_out * w_out


def _layer(input_shape, kernel_size, stride, padding):
    h, w, c_in = input_shape
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, numbers.Integral) else kernel_size
    h_out = shapes.conv_output_size(h, kh, stride, padding)
    w_out = shapes.conv_output_size(w, kw, stride, padding)
    return h, w, c_in, kh, kw, h_out, w_out


def cost_cases(strided, padded):
    """``(input_shape, filters, kernel_size, stride, padding)``: the lesson's layers, then others."""
    same = "same" if padded else "valid"
    cases = [((28, 28, 192), 64, (1, 1), 1, same), ((28, 28, 192), 64, (3, 3), 1, same),
             ((28, 28, 192), 64, (5, 5), 1, same), ((64, 64, 1), 32, (3, 3), 1, "valid"),
             ((64, 64, 3), 64, (3, 3), 1, "valid"), ((28, 28, 1), 6, (5, 5), 1, "valid"),
             ((32, 32, 3), 10, (5, 5), 1, 2), ((227, 227, 3), 96, (11, 11), 4, "valid"),
             ((7, 9, 4), 5, (3, 2), 2, 1), ((14, 14, 16), 8, (1, 3), 3, "same"),
             ((10, 6, 2), 3, (4, 4), 2, "valid"), ((5, 5, 3), 2, (3, 3), 2, 1)]
    rng = np.random.default_rng(404)
    for _ in range(12):
        h, w = (int(v) for v in rng.integers(6, 40, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        padding = [0, 1, 2, "valid", "same"][int(rng.integers(5))]
        cases.append(((h, w, int(rng.integers(1, 65))), int(rng.integers(1, 129)), (kh, kw),
                      int(rng.integers(1, 4)), padding))
    return [c for c in cases if (strided or c[3] == 1) and (padded or c[4] in (0, "valid"))]


@short_traceback
def check_conv_layer_cost(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(input_shape, filters, kernel_size, stride=1, padding="valid")``: (params, multiply-adds).

    Parameters
    ----------
    fn : callable
        ``fn(input_shape, filters, kernel_size)`` with ``input_shape (H, W,
        C_in)`` and ``kernel_size (KH, KW)``, returning ``(params,
        multiply_adds)`` as ints (see :func:`conv_layer_cost_reference`).
        Strides are tested when it has a parameter ``stride``, paddings
        (``"valid"``, ``"same"``, numbers of zeros) when it has ``padding``.
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
    params = Params(fn, ("input_shape", "filters", "kernel_size"))
    limit = check_time_limit(time_limit)
    stride_param, padding_param = params.find(STRIDE_NAMES), params.find(PADDING_NAMES)
    cases = cost_cases(stride_param is not None, padding_param is not None)
    for input_shape, filters, kernel_size, stride, padding in cases:
        kwargs = {**({stride_param.name: stride} if stride != 1 else {}),
                  **({padding_param.name: padding} if padding not in (0, "valid") else {})}
        call = Call(fn, params, (input_shape, filters, kernel_size), kwargs, limit)
        got = as_cost(call, call.run(None))
        want = conv_layer_cost_reference(input_shape, filters, kernel_size, stride, padding)
        if got != want:
            try:
                hint = cost_hint(input_shape, filters, kernel_size, stride, padding, want, got)
            except ValueError:  # noqa: BLE001 - a diagnosis that cannot be made is left out
                hint = None
            raise CheckFailed(f"Expected (params, multiply_adds) = {want} but got {got}.",
                              call=call.text(), hint=hint)
    covered = ["the lesson's layers", "rectangular kernels"]
    covered += ["strides"] if stride_param is not None else []
    covered += ["'valid', 'same' and numbers of zeros"] if padding_param is not None else []
    return passed(params.name, len(cases), covered)


def as_cost(call, got):
    """The answer as (int, int), or CheckFailed saying what came back instead."""
    if isinstance(got, np.ndarray) and got.ndim == 1 and got.dtype.kind in "iu":
        got = tuple(got.tolist())                       # np.array([params, madds]) is fine
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        raise CheckFailed(f"{call.params.name} returned {_hints.short(got)}, not two numbers.",
                          call=call.text(), hint="Return both counts: `return params, multiply_adds`.")
    for what, value in zip(("params", "multiply_adds"), got):
        if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
            raise CheckFailed(f"{call.params.name} returned {_hints.short(value)} as `{what}`, "
                              "not a whole number.", call=call.text(),
                              hint="Counts are ints: multiply ints and use // (not /, which "
                                   "gives a float; no np.prod of floats, no round()).")
    return int(got[0]), int(got[1])


def cost_hint(input_shape, filters, kernel_size, stride, padding, want, got) -> str:
    """The likely mistake of a cost ``got`` that should be ``want``."""
    h, w, c_in, kh, kw, h_out, w_out = _layer(input_shape, kernel_size, stride, padding)
    weights, positions = kh * kw * c_in * filters, h_out * w_out
    if got == want[::-1]:
        return COST_SWAPPED_HINT
    if got[0] != want[0]:
        for value, text in [(weights, COST_BIAS_HINT), (kh * kw * filters + filters, COST_DEPTH_HINT),
                            (kh * kw * filters, COST_DEPTH_HINT + " " + COST_BIAS_HINT),
                            (want[0] * positions, COST_POSITIONS_PARAMS_HINT),
                            (weights * positions, COST_POSITIONS_PARAMS_HINT)]:
            if got[0] == value:
                return text
        return (f"The parameters are {kh}·{kw}·{c_in}·{filters} weights + {filters} biases "
                f"= {want[0]}.")
    sizes = [(kh * kw * filters * positions, COST_DEPTH_HINT),
             (weights * h * w, COST_INPUT_SIZE_HINT), (want[0] * positions, COST_BIAS_MADDS_HINT),
             (kh * kw * c_in * positions, COST_FILTERS_HINT)]
    if stride > 1:
        ones = _layer(input_shape, kernel_size, 1, padding)
        sizes.append((weights * ones[5] * ones[6], COST_STRIDE_HINT))
    if padding not in (0, "valid"):
        valid = _layer(input_shape, kernel_size, stride, "valid")
        sizes.append((weights * valid[5] * valid[6], COST_PADDING_HINT))
    for value, text in sizes:
        if got[1] == value and value != want[1]:
            return text
    return (f"The output is {h_out}x{w_out} positions; at each, each of the {weights} weights "
            f"is one multiply-add: {weights} · {h_out} · {w_out} = {want[1]}.")
