"""Hostile input to every numpy-level public function of the lesson modules.

``kernels``, ``pooling``, ``activations``, ``transposed``, ``shapes``,
``data``, ``filters``, ``backprop``, ``regularise``, ``optim`` and ``course``:
each function is called with valid arguments, then with one argument at a
time replaced by a value from :data:`hostile.hostile_values`, through
:func:`hostile.assert_clear` (a result or a ``ValueError``/``TypeError`` that
names an argument; never a hang, a ``MemoryError`` or a numpy traceback).
When a hostile value is an array a learner could mean (a list, a bool, uint8
or float16 array, float32) and the call succeeds, the result must equal the
result on the same numbers as a float64 array.

The second half holds one regression test per case found by the audit: sizes
refused before anything is allocated, data folders one level too deep,
messages that name the arguments of the function called, overflow and odd
dtypes.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import (
    activations, backprop, course, data, filters, kernels, optim, pooling, regularise, shapes,
    transposed,
)
from hostile import assert_clear, hostile_values, outcome

HOSTILE = settings(max_examples=20, deadline=None, derandomize=True, database=None)

MNIST_STACK = [("conv2d", {"filters": 4, "kernel_size": 3}), "max_pool2d", "flatten",
               ("dropout", {"rate": 0.5}), ("dense", {"units": 10})]


def square(v):
    """A loss for numerical_gradient: sum of squares."""
    return float(np.sum(v ** 2))


@dataclass
class Case:
    """One public function and valid arguments for it (made fresh for every call)."""

    fn: Callable
    args: Callable[[], dict]          # name -> valid value
    arrays: tuple = ()                # arguments whose clean float64 version gives the reference
    observe: Callable | None = None   # what to compare: default the result
    skip: tuple = field(default=())   # arguments not to replace (none so far)


def step_case(opt_class, **options):
    """``opt.step(params, grads)``: the parameters after one step are what is compared."""
    def args():
        return {"params": [np.ones((4, 4))], "grads": [np.full((4, 4), 0.5)]}

    def run(params, grads):
        opt_class(**options).step(params, grads)
        return params

    run.__signature__ = inspect.signature(opt_class.step).replace(
        parameters=list(inspect.signature(opt_class.step).parameters.values())[1:])
    run.__qualname__ = f"{opt_class.__name__}.step"
    return Case(run, args, arrays=("grads",))


X44 = np.arange(16.0).reshape(4, 4)

CASES = {
    # kernels
    "conv1d": Case(kernels.conv1d, lambda: {"x": np.arange(8.0), "kernel": [1.0, 0.0, -1.0],
                                            "bias": None, "stride": 1, "padding": "valid",
                                            "dilation": 1}, arrays=("x", "kernel", "bias")),
    "conv1d_naive": Case(kernels.conv1d_naive, lambda: {"x": np.arange(8.0), "kernel": [1.0, 2.0],
                                                        "bias": 0.5, "stride": 2, "padding": "same",
                                                        "dilation": 1},
                         arrays=("x", "kernel", "bias")),
    "conv2d": Case(kernels.conv2d, lambda: {"x": X44, "kernel": np.ones((3, 3)), "bias": None,
                                            "stride": 1, "padding": "valid", "dilation": 1},
                   arrays=("x", "kernel", "bias")),
    "conv2d_same": Case(kernels.conv2d, lambda: {"x": X44, "kernel": np.ones((2, 2)), "bias": 1.0,
                                                 "stride": 2, "padding": "same", "dilation": 2},
                        arrays=("x", "kernel", "bias")),
    "conv2d_batch": Case(kernels.conv2d, lambda: {"x": np.ones((1, 4, 4, 1)),
                                                  "kernel": np.ones((3, 3, 1, 2)), "bias": [1.0, 2.0],
                                                  "padding": 1},
                         arrays=("x", "kernel", "bias")),
    "conv2d_naive": Case(kernels.conv2d_naive, lambda: {"x": X44, "kernel": np.ones((3, 3)),
                                                        "bias": None, "stride": 1, "padding": "full",
                                                        "dilation": 1},
                         arrays=("x", "kernel", "bias")),
    "convolve2d": Case(kernels.convolve2d, lambda: {"x": X44, "kernel": np.eye(2), "bias": None,
                                                    "stride": 1, "padding": "valid", "dilation": 1},
                       arrays=("x", "kernel", "bias")),
    "pad2d": Case(kernels.pad2d, lambda: {"x": X44, "padding": "same", "kernel_size": 3,
                                          "stride": 1, "dilation": 1}, arrays=("x",)),
    # pooling
    "max_pool2d": Case(pooling.max_pool2d, lambda: {"x": X44, "pool_size": 2, "stride": None,
                                                    "padding": "valid"}, arrays=("x",)),
    "max_pool2d_same": Case(pooling.max_pool2d, lambda: {"x": X44, "pool_size": 3, "stride": 2,
                                                         "padding": "same"}, arrays=("x",)),
    "avg_pool2d": Case(pooling.avg_pool2d, lambda: {"x": X44, "pool_size": 3, "stride": 1,
                                                    "padding": "same"}, arrays=("x",)),
    "sum_pool2d": Case(pooling.sum_pool2d, lambda: {"x": X44, "pool_size": 2, "stride": None,
                                                    "padding": "valid"}, arrays=("x",)),
    "global_avg_pool2d": Case(pooling.global_avg_pool2d, lambda: {"x": X44}, arrays=("x",)),
    # activations
    "relu": Case(activations.relu, lambda: {"x": X44 - 8}, arrays=("x",)),
    "leaky_relu": Case(activations.leaky_relu, lambda: {"x": X44 - 8, "alpha": 0.2}, arrays=("x",)),
    "sigmoid": Case(activations.sigmoid, lambda: {"x": X44 - 8}, arrays=("x",)),
    "gelu": Case(activations.gelu, lambda: {"x": X44 - 8}, arrays=("x",)),
    "tanh": Case(activations.tanh, lambda: {"x": X44 - 8}, arrays=("x",)),
    "softmax": Case(activations.softmax, lambda: {"x": X44, "axis": -1}, arrays=("x",)),
    # transposed
    "conv_matrix": Case(transposed.conv_matrix, lambda: {"kernel": np.ones((3, 3)),
                                                         "input_shape": (4, 4), "stride": 1,
                                                         "padding": "valid"}, arrays=("kernel",)),
    "conv_transpose2d": Case(transposed.conv_transpose2d, lambda: {"x": X44, "kernel": np.ones((3, 3)),
                                                                   "bias": None, "stride": 2,
                                                                   "padding": "same"},
                             arrays=("x", "kernel", "bias")),
    "conv_transpose_output_size": Case(transposed.conv_transpose_output_size,
                                       lambda: {"n": 14, "kernel_size": 3, "stride": 2,
                                                "padding": "same"}),
    "insert_zeros": Case(transposed.insert_zeros, lambda: {"x": X44, "stride": 2}, arrays=("x",)),
    "overlap_counts": Case(transposed.overlap_counts, lambda: {"input_shape": 4, "kernel_size": 3,
                                                               "stride": 2, "padding": "same"}),
    # shapes
    "conv_output_size": Case(shapes.conv_output_size, lambda: {"n": 28, "kernel_size": 3, "stride": 1,
                                                               "padding": "valid", "dilation": 1}),
    "padding_amounts": Case(shapes.padding_amounts, lambda: {"n": 8, "kernel_size": 4, "stride": 1,
                                                             "padding": "same", "dilation": 1}),
    "pool_output_size": Case(shapes.pool_output_size, lambda: {"n": 26, "pool_size": 2,
                                                               "stride": None, "padding": "valid"}),
    "conv2d_params": Case(shapes.conv2d_params, lambda: {"kernel_size": 3, "c_in": 1, "c_out": 32,
                                                         "use_bias": True}),
    "dense_params": Case(shapes.dense_params, lambda: {"n_in": 1600, "n_out": 512, "use_bias": True}),
    "locally_connected_params": Case(shapes.locally_connected_params,
                                     lambda: {"out_size": (4, 4), "kernel_size": 3, "c_in": 1,
                                              "c_out": 2, "use_bias": True}),
    "layer_table": Case(shapes.layer_table, lambda: {"layers": MNIST_STACK, "input_shape": (28, 28, 1)}),
    "layer_output_shapes": Case(shapes.layer_output_shapes,
                                lambda: {"layers": MNIST_STACK, "input_shape": (28, 28, 1)}),
    "count_params": Case(shapes.count_params, lambda: {"layers": MNIST_STACK, "input_shape": (28, 28, 1)}),
    "lenet5_table": Case(shapes.lenet5_table, lambda: {"variant": "classic"}),
    "receptive_field": Case(shapes.receptive_field, lambda: {"layers": [(3, 1), ("pool", 2, 2), (3, 1, 2)]}),
    # data
    "bump_signal": Case(data.bump_signal, lambda: {"length": 8, "start": 3, "width": 2}),
    "line_image": Case(data.line_image, lambda: {"orientation": "diagonal", "size": 8, "position": 3,
                                                 "thickness": 2, "value": 1.0}),
    "class_names": Case(data.class_names, lambda: {"dataset": "mnist"}),
    "digit": Case(data.digit, lambda: {"index": 0, "split": "test"}),
    "sample_photo": Case(data.sample_photo, lambda: {"size": 8}),
    "sample_photo_rgb": Case(data.sample_photo_rgb, lambda: {"size": 8}),
    "load_mnist": Case(data.load_mnist, lambda: {"limit": 5, "data_dir": None}),
    "load_fashion_mnist": Case(data.load_fashion_mnist, lambda: {"limit": (3, 2), "data_dir": None}),
    # filters
    "filters.get": Case(filters.get, lambda: {"name": "box_blur", "size": 5}),
    "filters.get_1d": Case(filters.get_1d, lambda: {"name": "rising_edge"}),
    "filters.names": Case(filters.names, lambda: {"size": 5}),
    # backprop
    "conv2d_backward": Case(backprop.conv2d_backward,
                            lambda: {"dout": np.ones((2, 2)), "x": X44, "kernel": np.ones((3, 3)),
                                     "stride": 1, "padding": "valid", "dilation": 1},
                            arrays=("dout", "x", "kernel")),
    "max_pool2d_backward": Case(backprop.max_pool2d_backward,
                                lambda: {"dout": np.ones((2, 2)), "x": X44, "pool_size": 2,
                                         "stride": None, "padding": "valid"}, arrays=("dout", "x")),
    "avg_pool2d_backward": Case(backprop.avg_pool2d_backward,
                                lambda: {"dout": np.ones((2, 2)), "x": X44, "pool_size": 3,
                                         "stride": 2, "padding": "same"}, arrays=("dout", "x")),
    "relu_backward": Case(backprop.relu_backward, lambda: {"dout": np.ones((4, 4)), "x": X44 - 8},
                          arrays=("dout", "x")),
    "dense_backward": Case(backprop.dense_backward,
                           lambda: {"dout": np.ones((4, 4)), "x": X44, "weights": np.eye(4)},
                           arrays=("dout", "x", "weights")),
    "softmax_cross_entropy": Case(backprop.softmax_cross_entropy,
                                  lambda: {"logits": X44, "labels": np.array([0, 1, 2, 3])},
                                  arrays=("logits",)),
    "numerical_gradient": Case(backprop.numerical_gradient,
                               lambda: {"f": square, "x": np.ones((4, 4)), "h": 1e-5, "dout": None}),
    "rel_error": Case(backprop.rel_error, lambda: {"a": X44, "b": X44 + 1e-3}, arrays=("a", "b")),
    # regularise
    "inverted_dropout": Case(regularise.inverted_dropout,
                             lambda: {"a": X44, "keep_prob": 0.5, "rng": np.random.default_rng(0)},
                             arrays=("a",)),
    "batch_norm_forward": Case(regularise.batch_norm_forward,
                               lambda: {"x": X44, "gamma": np.ones(4), "beta": np.zeros(4),
                                        "training": True, "running_mean": np.zeros(4),
                                        "running_var": np.ones(4), "momentum": 0.9, "eps": 1e-3},
                               arrays=("x", "gamma", "beta", "running_mean", "running_var")),
    # optim
    "SGD": Case(optim.SGD, lambda: {"lr": 0.1}),
    "Momentum": Case(optim.Momentum, lambda: {"lr": 0.1, "beta": 0.9}),
    "RMSProp": Case(optim.RMSProp, lambda: {"lr": 0.1, "beta": 0.9, "eps": 1e-7}),
    "Adam": Case(optim.Adam, lambda: {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    "SGD.step": step_case(optim.SGD, lr=0.1),
    "Momentum.step": step_case(optim.Momentum, lr=0.1),
    "RMSProp.step": step_case(optim.RMSProp, lr=0.1),
    "Adam.step": step_case(optim.Adam, lr=0.1),
    "minibatches": Case(optim.minibatches, lambda: {"n": 10, "batch_size": 3,
                                                    "rng": np.random.default_rng(0)}),
    # course
    "lesson": Case(course.lesson, lambda: {"number": 3}),
}

NO_ARGUMENTS = [shapes.pool_params, shapes.lenet5_c3_table, filters.names]


# --------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------

def clean_version(value):
    """The float64 array a learner means by ``value``, or None if it is not one (or already it)."""
    if not isinstance(value, (list, tuple, np.ndarray)):
        return None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        return None
    clean = arr.astype(np.float64)
    if not np.all(np.isfinite(clean)) or (isinstance(value, np.ndarray) and arr.dtype == np.float64):
        return None
    return clean


def assert_same(got, want, rtol):
    """Results equal (recursively through tuples and lists); ``rtol`` 0 means exactly."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol)
    elif isinstance(want, np.ndarray) or isinstance(got, np.ndarray):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape
        if rtol:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
        else:
            assert got.dtype == want.dtype, (got.dtype, want.dtype)
            np.testing.assert_array_equal(got, want)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=rtol, abs=rtol) if rtol else got == want
    else:
        assert got == want


def call_with(case: Case, name: str, value):
    """Call ``case.fn`` with ``name`` replaced by ``value``; check the outcome (and the reference)."""
    args = case.args()
    args[name] = copy.deepcopy(value)  # the function may change it in place
    kind, result = assert_clear(case.fn, **args)
    clean = clean_version(value) if name in case.arrays else None
    if kind == "ok" and clean is not None:
        reference_args = case.args()
        reference_args[name] = clean
        want_kind, want = outcome(case.fn, **reference_args)
        assert want_kind == "ok", f"{case.fn.__qualname__}: clean {name} failed: {want!r}"
        float32 = isinstance(value, np.ndarray) and value.dtype == np.float32
        assert_same(result, want, 1e-5 if float32 else 0)
    return kind, result


def parameters(case: Case) -> list[str]:
    names = [n for n, p in inspect.signature(case.fn).parameters.items()
             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return [n for n in names if n not in case.skip]


@pytest.mark.parametrize("name", list(CASES))
def test_valid_arguments_work(name):
    case = CASES[name]
    kind, result = assert_clear(case.fn, **case.args())
    assert kind == "ok", result
    assert set(case.args()) <= set(parameters(case)) | {"params", "grads"}


@pytest.mark.parametrize("name", list(CASES))
@HOSTILE
@given(data=st.data())
def test_hostile_values_get_a_result_or_a_clear_error(name, data):
    case = CASES[name]
    argument = data.draw(st.sampled_from(parameters(case)), label="argument")
    value = data.draw(hostile_values, label="value")
    call_with(case, argument, value)


@pytest.mark.parametrize("fn", NO_ARGUMENTS)
def test_functions_without_arguments(fn):
    assert assert_clear(fn)[0] == "ok"


def test_every_public_function_has_a_case():
    modules = (kernels, pooling, activations, transposed, shapes, data, filters, backprop,
               regularise, optim, course)
    covered = {case.fn for case in CASES.values()} | set(NO_ARGUMENTS)
    covered |= {getattr(fn, "__wrapped__", fn) for fn in covered}
    missing = []
    for module in modules:
        for public in module.__all__:
            obj = getattr(module, public)
            if inspect.isfunction(obj) or (inspect.isclass(obj) and obj.__module__ == module.__name__
                                           and obj.__init__ is not object.__init__
                                           and not issubclass(obj, (tuple, Exception))):
                if obj not in covered and getattr(obj, "__wrapped__", obj) not in covered:
                    missing.append(f"{module.__name__}.{public}")
    assert not missing, f"no hostile-input case for {missing}"


# --------------------------------------------------------------------------
# Regression tests, one per case of the audit
# --------------------------------------------------------------------------

def refused(fn, *args, error=ValueError, names=(), says=(), seconds=2.0, **kwargs):
    """Call ``fn``; it must raise ``error`` quickly, naming ``names`` and saying ``says``."""
    start = time.perf_counter()
    kind, exc = assert_clear(fn, *args, names=names or None, **kwargs)
    elapsed = time.perf_counter() - start
    assert kind == "error", f"expected a refusal, got {exc!r}"
    assert isinstance(exc, error), exc
    message = str(exc)
    for name in names:
        assert f"`{name}`" in message, message
    for words in says:
        assert re.search(words, message), (words, message)
    assert elapsed < seconds, f"took {elapsed:.1f} s to refuse"
    return message


IMAGE, K3 = np.ones((4, 4)), np.ones((3, 3))


# --- 1. sizes refused before allocating, and no call that runs for minutes ----------------

@pytest.mark.parametrize("call, names, says", [
    (lambda: kernels.conv2d(IMAGE, K3, padding=20000), ["padding"], [r"11\.9 GB", "refuses"]),
    (lambda: kernels.conv2d(IMAGE, K3, padding=3500), ["padding"], ["im2col", "stops at"]),
    (lambda: kernels.conv2d(IMAGE, K3, padding="same", dilation=10**4), ["dilation"], ["stops at"]),
    (lambda: kernels.conv2d(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), padding=((0, 0), (10**9, 0))),
     ["padding"], ["GB"]),
    (lambda: kernels.convolve2d(IMAGE, K3, padding=10**6), ["padding"], ["GB"]),
    (lambda: kernels.conv2d_naive(IMAGE, K3, padding=300), ["padding"], ["loop", "conv2d gives"]),
    (lambda: kernels.conv1d_naive(np.ones(4), np.ones(3), padding=10**6), ["padding"],
     ["loop", "conv1d gives"]),
    (lambda: kernels.conv1d(np.ones(4), np.ones(3), padding="full", dilation=10**9), ["dilation"], ["GB"]),
    (lambda: kernels.pad2d(IMAGE, "full", kernel_size=10**5), ["kernel_size"], ["GB"]),
    (lambda: kernels.pad2d(IMAGE, 10**5), ["padding"], ["GB"]),
    (lambda: pooling.max_pool2d(IMAGE, pool_size=10**5, padding="same"), ["pool_size"], ["GB"]),
    (lambda: pooling.avg_pool2d(np.ones((1, 2000, 2000, 1)), pool_size=1000, stride=1),
     ["pool_size", "stride"], ["larger `stride`"]),
    (lambda: transposed.conv_matrix(K3, (1000, 1000)), ["input_shape"], ["GB"]),
    (lambda: transposed.conv_matrix(K3, (4, 4), padding=10**6), ["padding"], ["GB"]),
    (lambda: transposed.conv_matrix(np.ones((100, 100)), (150, 150)), ["kernel"], ["loop"]),
    (lambda: transposed.conv_transpose2d(IMAGE, K3, stride=10**6), ["stride"], ["GB"]),
    (lambda: transposed.conv_transpose2d(IMAGE, np.ones((1000, 1000))), ["kernel"], ["steps"]),
    (lambda: transposed.insert_zeros(IMAGE, 10**6), ["stride"], ["GB"]),
    (lambda: transposed.overlap_counts((10**6, 10**6), 3), ["input_shape"], ["GB"]),
    (lambda: transposed.overlap_counts(4, 10**4), ["kernel_size"], ["steps"]),
    (lambda: transposed.overlap_counts(4, 3, stride=10**5), ["stride"], ["GB"]),
    (lambda: data.bump_signal(10**10), ["length"], [r"74\.5 GB"]),
    (lambda: data.line_image(size=10**5, position=0), ["size"], ["GB"]),
    (lambda: data.line_image(size=20000, position=0), ["size"], ["stops at"]),
    (lambda: data.sample_photo(10**5), ["size"], ["GB"]),
    (lambda: data.sample_photo_rgb(7000), ["size"], ["stops at"]),
    (lambda: backprop.numerical_gradient(square, np.ones(10**6)), ["x"], ["calls of `f`"]),
    (lambda: backprop.max_pool2d_backward(np.ones((1, 1, 1, 1)), np.ones((1, 1000, 1000, 1)), 1000),
     ["pool_size"], ["steps"]),
    (lambda: optim.minibatches(10**12, 32), ["n"], ["GB"]),
    (lambda: optim.minibatches(10**8, 1), ["batch_size"], ["batches"]),
    (lambda: shapes.receptive_field([(3, 1)] * 10**6), ["layers"], ["at most 10,000"]),
    (lambda: shapes.receptive_field([(3, 2)] * 100), ["layers[62]"], ["no image"]),
    (lambda: shapes.receptive_field([(10**400, 10**400)] * 1000), ["layers[0]"], ["no image"]),
    (lambda: shapes.layer_table(itertools.repeat("dropout"), (8, 8, 1)), ["layers"], ["at most"]),
])
def test_huge_sizes_are_refused_up_front(call, names, says):
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        call()
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    for name in names:
        assert f"`{name}`" in message, message
    for words in says:
        assert re.search(words, message), (words, message)


def test_conv2d_hostile_padding_is_refused_through_the_harness():
    refused(kernels.conv2d, IMAGE, K3, padding=20000, names=["padding"], says=["GB"])
    refused(pooling.max_pool2d, IMAGE, pool_size=10**5, padding="same", names=["pool_size"])
    refused(data.bump_signal, 10**10, names=["length"])


def test_the_largest_padding_allowed_still_runs_quickly():
    start = time.perf_counter()
    out = kernels.conv2d(IMAGE, K3, padding=400)  # a 802 x 802 map: well inside the limits
    assert out.shape == (802, 802) and time.perf_counter() - start < 2.0


# --- 2. the data folder ---------------------------------------------------------------

DATA = Path(__file__).resolve().parent.parent / "data"


def test_data_dir_one_level_too_deep_says_to_pass_its_parent():
    message = refused(data.load_mnist, data_dir=DATA / "mnist", error=data.DataFileError,
                      names=["data_dir"], says=["one level too deep", "its parent"])
    assert repr(str(DATA)) in message and "git checkout" not in message


def test_data_dir_named_like_a_dataset_without_the_files(tmp_path):
    (tmp_path / "fashion-mnist").mkdir()
    message = refused(data.load_fashion_mnist, data_dir=tmp_path / "fashion-mnist",
                      error=data.DataFileError, names=["data_dir"], says=["one level too deep"])
    assert "git checkout" not in message


def test_data_dir_without_the_dataset_folder(tmp_path):
    message = refused(data.load_mnist, data_dir=tmp_path, error=data.DataFileError,
                      names=["data_dir"], says=["has no mnist/ folder", "holds mnist/ and fashion-mnist/"])
    assert "git checkout" not in message


def test_data_dir_that_does_not_exist_or_is_a_file(tmp_path):
    refused(data.load_mnist, data_dir=tmp_path / "nowhere", error=data.DataFileError,
            names=["data_dir"], says=["not an existing folder", "nothing is there"])
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    refused(data.load_mnist, data_dir=file, error=data.DataFileError, names=["data_dir"],
            says=["it is a file"])


def test_env_variable_one_level_too_deep(monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA", str(DATA / "mnist"))
    for call in (data.load_mnist, lambda: data.digit(0)):
        with pytest.raises(data.DataFileError) as info:
            call()
        message = str(info.value)
        assert "CNNLAB_DATA" in message and "one level too deep" in message, message
        assert f"set CNNLAB_DATA to its parent {str(DATA)!r}" in message
        assert "git checkout" not in message


def test_env_variable_pointing_at_a_file(tmp_path, monkeypatch):
    file = tmp_path / "data.zip"
    file.write_bytes(b"PK")
    monkeypatch.setenv("CNNLAB_DATA", str(file))
    refused(data.load_mnist, error=data.DataFileError, names=["data_dir"],
            says=["CNNLAB_DATA is set to", "it is a file"])


# --- 3. messages name the arguments of the function called -------------------------------

def test_overflowing_kernel_names_the_kernel_and_says_overflowed():
    for conv in (kernels.conv2d, kernels.conv2d_naive, kernels.convolve2d):
        refused(conv, IMAGE, np.full((3, 3), 1e308), names=["x", "kernel"], says=["overflowed"])
    refused(kernels.conv1d_naive, np.ones(4), np.full(3, 1e308), names=["kernel"], says=["overflowed"])
    refused(kernels.conv1d, np.ones(4), np.full(3, 1e308), names=["kernel"], says=["overflowed"])
    refused(transposed.conv_transpose2d, IMAGE, np.full((3, 3), 1e308), names=["kernel"],
            says=["overflowed"])
    refused(kernels.conv2d, IMAGE, np.full((3, 3), 1e307), bias=1e308, names=["bias"],
            says=["overflowed"])


def test_float32_input_with_weights_beyond_float32():
    refused(kernels.conv2d, IMAGE.astype(np.float32), np.full((3, 3), 1e300), names=["kernel", "x"],
            says=["float32"])
    refused(transposed.conv_transpose2d, IMAGE.astype(np.float32), np.full((3, 3), 1e300),
            names=["kernel"], says=["float32"])


@pytest.mark.parametrize("layers, words", [
    (["flatten", ("dense", {"units": 0})], r"layer 1 \('dense'\): `units` must be at least 1"),
    ([("convolution", {})], "layer 0 kind must be one of"),
    ([42], "layer 0 must be a kind name"),
    ([("conv2d", {"filters": 3, "kernel_size": 3, "stride": 0})], "`stride` must be at least 1"),
    ([("dropout", {"rate": 1.5})], r"`rate` must be a number in \[0, 1\)"),
    ([("activation", {"function": 3})], "`function` must be a name"),
])
def test_layer_table_messages_name_layers(layers, words):
    for fn in (shapes.layer_table, shapes.layer_output_shapes, shapes.count_params):
        refused(fn, layers, (8, 8, 1), error=(ValueError, TypeError), names=["layers"], says=[words])


def test_overlap_counts_names_its_own_arguments():
    refused(transposed.overlap_counts, 4, 3, stride=0, names=["stride"])
    refused(transposed.overlap_counts, (4, 0), 3, names=["input_shape"])


# --- 4. no silently wrong results --------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float16, np.uint8, np.int64, bool])
def test_odd_dtypes_give_the_float64_numbers(dtype):
    image = (np.arange(36).reshape(6, 6) % 7 * 40).astype(dtype)
    kernel = np.array([[1, 2], [3, 4]]).astype(dtype)
    want = kernels.conv2d(image.astype(np.float64), kernel.astype(np.float64))
    for conv in (kernels.conv2d, kernels.conv2d_naive):
        got = conv(image, kernel)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(pooling.sum_pool2d(image), pooling.sum_pool2d(image.astype(float)))


def test_uint8_image_does_not_wrap_around():
    image = np.full((5, 5), 255, dtype=np.uint8)
    out = kernels.conv2d(image, np.ones((3, 3), dtype=np.uint8))
    np.testing.assert_array_equal(out, np.full((3, 3), 9 * 255.0))
    assert pooling.sum_pool2d(image)[0, 0] == 4 * 255


@pytest.mark.parametrize("call, names", [
    (lambda: kernels.conv2d(np.zeros((0, 3)), K3), ["x"]),
    (lambda: kernels.conv1d(np.zeros(0), [1.0]), ["x"]),
    (lambda: pooling.max_pool2d(np.zeros((3, 0))), ["x"]),
    (lambda: transposed.insert_zeros(np.zeros((0, 3)), 2), ["x"]),
    (lambda: activations.softmax(np.zeros((3, 0))), ["x"]),
    (lambda: backprop.softmax_cross_entropy(np.zeros((2, 0)), [0, 0]), ["logits"]),
])
def test_empty_arrays_get_a_clear_error(call, names):
    refused(call, names=names, says=["empty|at least one"])


def test_empty_arrays_with_a_correct_empty_result():
    assert activations.softmax(np.zeros((0, 3))).shape == (0, 3)
    assert activations.relu(np.zeros((0, 3))).shape == (0, 3)
    assert kernels.conv2d(np.zeros((0, 4, 4, 1)), np.ones((3, 3, 1, 2))).shape == (0, 2, 2, 2)


def test_softmax_of_huge_logits_stays_finite():
    probs = activations.softmax([1e308, -1e308, 0.0])
    np.testing.assert_array_equal(probs, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(activations.softmax(np.float32([3e38, -3e38])), [1.0, 0.0])
    loss, dlogits = backprop.softmax_cross_entropy(np.array([[1e308, 1e308]]), [0])
    assert loss == pytest.approx(math.log(2)) and np.all(np.isfinite(dlogits))
    refused(backprop.softmax_cross_entropy, np.array([[1e308, -1e308]]), [1], names=["logits"],
            says=["overflowed"])


def test_means_of_huge_values_are_right_not_infinite():
    big = np.full((4, 4), 1.5e308)
    np.testing.assert_array_equal(pooling.avg_pool2d(big), np.full((2, 2), 1.5e308))
    assert pooling.global_avg_pool2d(big) == 1.5e308
    refused(pooling.sum_pool2d, big, names=["x"], says=["overflowed"])


def test_rel_error_of_huge_opposite_values_is_finite():
    assert backprop.rel_error([1e308], [-1e308]) == 1.0
    assert backprop.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0


@pytest.mark.parametrize("call, names", [
    (lambda: shapes.conv_output_size(0, 3), ["n"]),
    (lambda: shapes.conv_output_size(5, -3), ["kernel_size"]),
    (lambda: kernels.conv2d(IMAGE, K3, stride=0), ["stride"]),
    (lambda: kernels.conv2d(IMAGE, K3, padding=-1), ["padding"]),
    (lambda: pooling.max_pool2d(IMAGE, pool_size=0), ["pool_size"]),
    (lambda: transposed.insert_zeros(IMAGE, -2), ["stride"]),
    (lambda: data.bump_signal(-5), ["length"]),
    (lambda: data.sample_photo(0), ["size"]),
    (lambda: optim.minibatches(0, 3), ["n"]),
    (lambda: optim.minibatches(5, 0), ["batch_size"]),
])
def test_negative_and_zero_sizes_are_refused(call, names):
    refused(call, names=names, says=["at least|negative"])


def test_optimizer_step_that_would_overflow_changes_nothing():
    params, opt = [np.ones(3)], optim.SGD(lr=1e300)
    refused(opt.step, params, [np.full(3, 1e300)], names=["params[0]"], says=["overflow"])
    np.testing.assert_array_equal(params[0], np.ones(3))
    assert opt.iterations == 0 and opt.state is None
    opt = optim.Adam(lr=0.1)
    opt.step(params, [np.ones(3)])
    state = copy.deepcopy(opt.state)
    refused(opt.step, params, [np.ones(4)], names=["grads[0]"])
    assert opt.iterations == 1 and np.array_equal(opt.state[0]["m"], state[0]["m"])


def test_optimizer_step_with_mismatched_params_and_grads():
    opt = optim.Momentum(lr=0.1)
    refused(opt.step, {"w": np.ones(2)}, [np.ones(2)], names=["grads"])
    refused(opt.step, [np.ones(2)], {"w": np.ones(2)}, names=["grads"])
    refused(opt.step, [np.ones(2), np.ones(2)], [np.ones(2)], names=["grads"])
    w = np.ones(2)
    refused(opt.step, [w, w], [np.ones(2), np.ones(2)], names=["params"], says=["same array twice"])
    refused(opt.step, [np.arange(3)], [np.ones(3)], error=TypeError, names=["params[0]"])
    frozen = np.ones(2)
    frozen.setflags(write=False)
    refused(opt.step, [frozen], [np.ones(2)], error=TypeError, names=["params[0]"], says=["writable"])


def test_numerical_gradient_restores_x_when_f_fails():
    x = np.array([1.0, 2.0])

    def f(v):
        if v[0] != 1.0:
            raise ValueError("`v` is not what f expects")
        return float(v.sum())

    with pytest.raises(ValueError):
        backprop.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_refuses_a_step_lost_in_rounding():
    refused(backprop.numerical_gradient, square, np.array([1.0, 1e20]), names=["h"],
            says=["too small"])
    refused(backprop.numerical_gradient, lambda v: float(v.sum()) * 1e308, np.ones(2), h=0.5,
            names=["f"], says=["overflowed|finite"])


def test_batch_norm_refuses_statistics_that_overflow_or_are_empty():
    refused(regularise.batch_norm_forward, np.full((2, 3), 1e308) * [[1], [-1]], np.ones(3),
            np.zeros(3), training=True, running_mean=np.zeros(3), running_var=np.ones(3),
            names=["x"], says=["overflowed"])
    refused(regularise.batch_norm_forward, np.zeros((2, 0, 4, 3)), np.ones(3), np.zeros(3),
            training=True, running_mean=np.zeros(3), running_var=np.ones(3), names=["x"])
    refused(regularise.batch_norm_forward, np.zeros((2, 3)), np.ones(3), np.zeros(3),
            training=False, running_mean=np.zeros(3), running_var=np.ones(3), eps=math.inf,
            names=["eps"])


def test_dropout_with_a_keep_prob_that_vanishes_in_float32():
    refused(regularise.inverted_dropout, np.ones(4, np.float32), 1e-50, np.random.default_rng(0),
            names=["keep_prob"])


# --- 5. the smaller functions ----------------------------------------------------------

def test_lesson_accepts_numpy_ints_and_short_strings():
    assert course.lesson(np.int64(3)) == course.lesson("3") == course.lesson("03")
    refused(course.lesson, np.array([3]), error=TypeError, names=["number"])
    refused(course.lesson, 13, names=["number"])


def test_layer_table_accepts_numpy_bools():
    layers = [("dense", {"units": 3, "use_bias": np.False_})]
    assert shapes.count_params(layers, (4,)) == 12
    assert shapes.conv2d_params(3, 1, 2, use_bias=np.True_) == 20
