"""Lesson 08's backward-pass checkers pass right answers and explain wrong ones.

Every wrong function below makes one mistake a learner makes; the test
asserts that the checker fails it *and* names that mistake in its hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import backprop, checks
from cnnlab.checks import CheckFailed, NotAFunction


def expect_hint(check, fn, *parts):
    """Run a checker that must fail; every part must appear in its message."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"
    return info.value


# --------------------------------------------------------------------------
# Convolution backward: a learner's loops, with one mistake at a time
# --------------------------------------------------------------------------

def conv_backward(dout, x, w, stride=1, padding=0, *, step=None, kernel_flip=False, crop="middle",
                  dw_examples=None, db_axes=(0, 1, 2), dw_assign=False):
    """The loop version of the lesson, with switches for the mistakes."""
    dout, x, w = (np.asarray(v, dtype=float) for v in (dout, x, w))
    p, (kh, kw) = padding, w.shape[:2]
    step = stride if step is None else step
    xp = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    k = w[::-1, ::-1] if kernel_flip else w
    batch = slice(None) if dw_examples is None else dw_examples
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows, cols = slice(i * step, i * step + kh), slice(j * step, j * step + kw)
            g = dout[:, i, j, :]                                  # (N, C_out)
            dxp[:, rows, cols, :] += np.einsum("nf,abcf->nabc", g, k)
            share = np.einsum("nabc,nf->abcf", xp[batch, rows, cols, :], g[batch])
            dw = share if dw_assign else dw + share
    h, wd = x.shape[1:3]
    if crop == "middle":
        dx = dxp[:, p:p + h, p:p + wd, :]
    elif crop == "minus":
        dx = dxp[:, p:-p, p:-p, :]
    elif crop == "start":
        dx = dxp[:, :h, :wd, :]
    else:
        dx = dxp
    return dx, dw, dout.sum(axis=db_axes)


def my_conv2d_backward(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding)


def conv_backward_vectorised(dout, x, w, stride=1):
    """Right, through the course's own reference (no padding parameter)."""
    return backprop.conv2d_backward(dout, x, w, stride=stride)


def conv_no_stride_parameter(dout, x, w):
    return conv_backward(dout, x, w)


def conv_db_per_example(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, db_axes=(1, 2))


def conv_db_all(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, db_axes=None)


def conv_db_mean(dout, x, w, stride=1, padding=0):
    dx, dw, _ = conv_backward(dout, x, w, stride, padding)
    return dx, dw, np.asarray(dout).mean(axis=(0, 1, 2))


def conv_dw_first_example(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, dw_examples=slice(0, 1))


def conv_dw_overwritten(dout, x, w, stride=1, padding=0):
    """``dw = ...`` in a loop over the batch: the last example wins."""
    dx, _, db = conv_backward(dout, x, w, stride, padding)
    dw = None
    for n in range(len(x)):
        dw = conv_backward(dout[n:n + 1], x[n:n + 1], w, stride, padding)[1]
    return dx, dw, db


def conv_dw_per_example(dout, x, w, stride=1, padding=0):
    dx, _, db = conv_backward(dout, x, w, stride, padding)
    dws = [conv_backward(dout[n:n + 1], x[n:n + 1], w, stride, padding)[1] for n in range(len(x))]
    return dx, np.stack(dws), db


def conv_dx_flipped(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, kernel_flip=True)


def conv_stride_ignored(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, step=1)


def conv_dx_not_cropped(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, crop=None)


def conv_dx_minus_crop(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, crop="minus")


def conv_dx_cropped_at_start(dout, x, w, stride=1, padding=0):
    return conv_backward(dout, x, w, stride, padding, crop="start")


def conv_dw_flipped(dout, x, w, stride=1, padding=0):
    dx, dw, db = conv_backward(dout, x, w, stride, padding)
    return dx, dw[::-1, ::-1], db


@pytest.mark.parametrize("fn", [my_conv2d_backward, conv_backward_vectorised, conv_no_stride_parameter])
def test_check_conv2d_backward_passes_right_answers(fn, capsys):
    result = checks.check_conv2d_backward(fn)
    printed = capsys.readouterr().out.strip()
    assert printed == str(result) and printed.startswith(f"Well done: {fn.__name__} passed all")
    assert "relative error < 1e-6" in printed
    errors = dict(result.rel_errors)
    assert set(errors) == {"dx", "dw", "db"} and max(errors.values()) < 1e-6
    assert result.cases >= 7


def test_check_conv2d_backward_covers_what_the_signature_accepts():
    full = checks.check_conv2d_backward(my_conv2d_backward)
    plain = checks.check_conv2d_backward(conv_no_stride_parameter)
    assert "stride 2, 3" in full.covered and "padding 1, 2" in full.covered
    assert "stride 2, 3" not in plain.covered and full.cases > plain.cases


@pytest.mark.parametrize("fn, parts", [
    (conv_db_per_example, ["db: Expected shape", "one row per example", "axes (0, 1, 2)"]),
    (conv_db_all, ["db: Expected shape", "one value per filter"]),
    (conv_db_mean, ["db: The shape is right", "db is a mean"]),
    (conv_dw_first_example, ["dw: The shape is right", "first example only"]),
    (conv_dw_overwritten, ["dw: The shape is right", "last example only", "dw += ..."]),
    (conv_dw_per_example, ["dw: Expected shape", "one kernel gradient per example"]),
    (conv_dw_flipped, ["dw:", "flipped in both spatial axes"]),
    (conv_dx_flipped, ["dx: The shape is right", "the kernel the wrong way round", "w[::-1, ::-1]"]),
    (conv_stride_ignored, ["dx: The shape is right", "ignores the stride", "i * 2"]),
    (conv_dx_not_cropped, ["dx: Expected shape", "still has the padding"]),
    (conv_dx_minus_crop, ["dx: Expected shape", "dxp[:, p:-p] is dxp[:, 0:0]"]),
])
def test_check_conv2d_backward_names_the_mistake(fn, parts):
    expect_hint(checks.check_conv2d_backward, fn, *parts)


def test_check_conv2d_backward_names_a_crop_on_the_wrong_side():
    def cropped_at_start(dout, x, w, padding=0):
        return conv_dx_cropped_at_start(dout, x, w, 1, padding)
    expect_hint(checks.check_conv2d_backward, cropped_at_start, "cropped on the wrong side")


def test_check_conv2d_backward_refuses_wrong_kinds_of_results():
    expect_hint(checks.check_conv2d_backward, lambda dout, x, w: conv_backward(dout, x, w)[:2],
                "not 3 values", "return dx, dw, db")
    expect_hint(checks.check_conv2d_backward,
                lambda dout, x, w: (*conv_backward(dout, x, w)[:2], "db"), "as db", "text")
    expect_hint(checks.check_conv2d_backward,
                lambda dout, x, w: (conv_backward(dout, x, w)[0] * 1j, 0, 0), "as dx", "complex")
    expect_hint(checks.check_conv2d_backward,
                lambda dout, x, w: (object(), 0, 0), "as dx", "not an array of numbers")
    expect_hint(checks.check_conv2d_backward, lambda dout, x, w: None, "returned None")


def test_check_conv2d_backward_stops_an_endless_loop():
    def forever(dout, x, w):
        while True:
            pass
    with pytest.raises(CheckFailed, match="did not finish within 0.2 s"):
        checks.check_conv2d_backward(forever, time_limit=0.2)


def test_check_conv2d_backward_rejects_bad_arguments():
    with pytest.raises(NotAFunction, match="Expected a function for `fn`"):
        checks.check_conv2d_backward(np.zeros(3))
    with pytest.raises(TypeError, match="`time_limit` must be a number of seconds"):
        checks.check_conv2d_backward(my_conv2d_backward, time_limit="5")
    with pytest.raises(ValueError, match="`time_limit` must be from"):
        checks.check_conv2d_backward(my_conv2d_backward, time_limit=0)
    with pytest.raises(CheckFailed, match="takes 2 argument"):
        checks.check_conv2d_backward(lambda dout, x: None)
    with pytest.raises(TypeError, match="integer padding"):
        checks.check_conv2d_backward(lambda dout, x, w, padding="valid": None)


# --------------------------------------------------------------------------
# Max pooling backward
# --------------------------------------------------------------------------

def pool_backward(dout, x, pool_size=2, stride=None, *, ties=False, every=False, step=None,
                  assign=False, ones=False, share=False):
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    p = pool_size
    s = p if stride is None else stride
    step = s if step is None else step
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for i in range(dout.shape[1]):
            for j in range(dout.shape[2]):
                for c in range(x.shape[3]):
                    window = x[n, i * step:i * step + p, j * step:j * step + p, c]
                    g = 1.0 if ones else dout[n, i, j, c]
                    target = dx[n, i * step:i * step + p, j * step:j * step + p, c]
                    if every or share:
                        target += g / (p * p) if share else g
                    elif ties:
                        target += g * (window == window.max())
                    else:
                        a, b = np.unravel_index(np.argmax(window), window.shape)
                        if assign:
                            target[a, b] = g
                        else:
                            target[a, b] += g
    return dx


def my_max_pool_backward(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride)


def pool_ties(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, ties=True)


def pool_every_cell(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, every=True)


def pool_shared(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, share=True)


def pool_stride_ignored(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, step=1)


def pool_overwrites(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, assign=True)


def pool_ones(dout, x, pool_size=2, stride=None):
    return pool_backward(dout, x, pool_size, stride, ones=True)


def pool_returns_dout_shape(dout, x, pool_size=2, stride=None):
    return np.asarray(dout, dtype=float)


@pytest.mark.parametrize("fn", [my_max_pool_backward, backprop.max_pool2d_backward,
                                lambda dout, x: pool_backward(dout, x)])
def test_check_max_pool_backward_passes_right_answers(fn, capsys):
    result = checks.check_max_pool_backward(fn)
    printed = capsys.readouterr().out.strip()
    assert printed == str(result) and "relative error < 1e-6" in printed
    assert dict(result.rel_errors)["dx"] < 1e-6 and result.cases >= 6


def test_check_max_pool_backward_tests_overlap_only_with_a_stride():
    full = checks.check_max_pool_backward(my_max_pool_backward)
    plain = checks.check_max_pool_backward(lambda dout, x: pool_backward(dout, x))
    assert any("overlapping" in c for c in full.covered)
    assert not any("overlapping" in c for c in plain.covered) and full.cases > plain.cases


@pytest.mark.parametrize("fn, parts", [
    (pool_every_cell, ["Every cell of the window got the gradient"]),
    (pool_shared, ["average pooling's gradient"]),
    (pool_ties, ["several equal maxima", "counted twice", "np.argmax"]),
    (pool_stride_ignored, ["ignored the stride", "i * "]),
    (pool_overwrites, ["overlap", "+="]),
    (pool_ones, ["marked the winners with 1"]),
    (pool_returns_dout_shape, ["Expected shape", "has the shape of x"]),
])
def test_check_max_pool_backward_names_the_mistake(fn, parts):
    expect_hint(checks.check_max_pool_backward, fn, *parts)


def test_check_max_pool_backward_refuses_wrong_kinds_of_results():
    expect_hint(checks.check_max_pool_backward, lambda dout, x: str(dout), "text instead of numbers")
    expect_hint(checks.check_max_pool_backward,
                lambda dout, x: pool_backward(dout, x) + 0j, "complex numbers")
    expect_hint(checks.check_max_pool_backward, lambda dout, x: [dout, None],
                "not an array of numbers")


def test_check_max_pool_backward_rejects_bad_arguments():
    with pytest.raises(NotAFunction):
        checks.check_max_pool_backward("my_max_pool_backward")
    with pytest.raises(TypeError, match="`time_limit`"):
        checks.check_max_pool_backward(my_max_pool_backward, time_limit=[1])
    with pytest.raises(CheckFailed, match="takes 1 argument"):
        checks.check_max_pool_backward(lambda dout: dout)


def test_a_single_example_is_shown_without_its_axes_of_length_1():
    failure = expect_hint(checks.check_conv2d_backward, conv_dx_flipped,
                          "shown without the axes of length 1")
    assert failure.expected.shape == failure.got.shape == (4, 4)
    assert np.array_equal(failure.expected[0], [1, 2, -1, -2])
