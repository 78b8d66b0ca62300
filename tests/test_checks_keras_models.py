"""The Keras checkers of lessons 09-11 pass right answers and explain wrong ones.

Every wrong builder below makes one mistake a learner makes (a missing
activation, 'same' padding, the shortcut added after the final ReLU, ...);
each test asserts that the checker fails it *and* names that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks
from cnnlab.checks import CheckFailed, NotAFunction
from cnnlab.checks import keras_models as km
from cnnlab.checks import receptive as rc
from cnnlab.models import classic, resnet
from cnnlab.session import import_keras

keras = import_keras()
layers = keras.layers


def expect_hint(check, fn, *parts):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in:\n{message}"


# --------------------------------------------------------------------------
# LeNet-5
# --------------------------------------------------------------------------

def lenet(act=("relu",) * 4, padding="valid", pad=True, f6=84, flatten_at=5, pool="max",
          sequential=False):
    """The modern LeNet-5, with one mistake chosen by the arguments."""
    stack = [layers.ZeroPadding2D(2)] if pad else []
    pool_layer = layers.MaxPooling2D if pool == "max" else layers.AveragePooling2D
    stack += [layers.Conv2D(6, 5, padding=padding, activation=act[0]), pool_layer(2),
              layers.Conv2D(16, 5, activation=act[1]), pool_layer(2)]
    if flatten_at == 4:
        stack += [layers.Flatten(), layers.Dense(120, activation=act[2])]
    else:
        stack += [layers.Conv2D(120, 5, activation=act[2]), layers.Flatten()]
    stack += [layers.Dense(f6, activation=act[3]), layers.Dense(10, activation="softmax")]
    if sequential:
        return keras.Sequential([keras.Input(shape=(28, 28, 1)), *stack])
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x)


def test_lenet5_right_answers_pass(capsys):
    result = checks.check_lenet5(lambda: lenet())
    assert result.cases > 10 and "Well done" in capsys.readouterr().out
    checks.check_lenet5(lambda: lenet(sequential=True))


def test_lenet5_separate_relu_layers_pass():
    def separate():
        inputs = keras.Input(shape=(28, 28, 1))
        x = layers.ZeroPadding2D(2)(inputs)
        x = layers.ReLU()(layers.Conv2D(6, 5)(x))
        x = layers.MaxPooling2D(2)(x)
        x = layers.Activation("relu")(layers.Conv2D(16, 5)(x))
        x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(layers.Conv2D(120, 5, activation="relu")(x))
        x = layers.Dense(84, activation="relu")(x)
        return keras.Model(inputs, layers.Softmax()(layers.Dense(10)(x)))
    checks.check_lenet5(separate)


@pytest.mark.parametrize("kwargs, parts", [
    (dict(act=("relu", None, "relu", "relu")), ("C3 has no activation",)),
    (dict(act=("relu", "relu", "relu", "tanh")), ("F6 uses tanh",)),
    (dict(padding="same"), ("'same' padding keeps the 32x32 grid",)),
    (dict(flatten_at=4), ("flatten only after C5",)),
    (dict(f6=64), ("F6 has 84 units",)),
    (dict(pad=False), ("ZeroPadding2D(2)",)),
    (dict(pool="avg"), ("max pooling",)),
])
def test_lenet5_mistakes_are_named(kwargs, parts):
    expect_hint(checks.check_lenet5, lambda: lenet(**kwargs), *parts)


def test_lenet5_no_softmax_is_named():
    def no_softmax():
        model = lenet()
        model.layers[-1].activation = keras.activations.get(None)
        return model
    expect_hint(checks.check_lenet5, no_softmax, "output has no activation", "softmax")


def test_lenet5_bad_results_and_arguments():
    expect_hint(checks.check_lenet5, lambda: None, "not a Keras model")
    expect_hint(checks.check_lenet5, lambda: keras.Sequential([layers.Dense(3)]), "keras.Input")
    with pytest.raises(NotAFunction, match="builds the network"):
        checks.check_lenet5(lenet())
    with pytest.raises(NotAFunction):
        checks.check_lenet5(42)
    with pytest.raises(TypeError, match="time_limit"):
        checks.check_lenet5(lenet, time_limit="fast")


# --------------------------------------------------------------------------
# Inception
# --------------------------------------------------------------------------

def inception(x, filters, *, axis=-1, reduce3=True, padding="same", relu="relu", order=(0, 1, 2, 3),
              project=True):
    n1, r3, n3, r5, n5, pp = filters

    def conv(t, maps, k, pad="same"):
        return layers.Conv2D(maps, k, padding=pad, activation=relu)(t)

    b1 = conv(x, n1, 1)
    b3 = conv(conv(x, r3, 1), n3, 3, padding) if reduce3 else conv(x, n3, 3)
    b5 = conv(conv(x, r5, 1), n5, 5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = conv(bp, pp, 1) if project else bp
    branches = [b1, b3, b5, bp]
    return layers.Concatenate(axis=axis)([branches[i] for i in order])


def test_inception_right_answer_passes(capsys):
    checks.check_inception_module(inception)
    assert "Well done: inception passed" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, parts", [
    (dict(axis=1), ("along the channels", "axis=-1")),
    (dict(reduce3=False), ("3x3 branch has no 1x1 reduction",)),
    (dict(padding="valid"), ("different grids", 'padding="same"')),
    (dict(relu=None), ("No ReLU anywhere",)),
    (dict(order=(3, 0, 1, 2)), ("the order is not",)),
    (dict(project=False), ("1x1 projection to pool_proj",)),
])
def test_inception_mistakes_are_named(kwargs, parts):
    expect_hint(checks.check_inception_module, lambda x, f: inception(x, f, **kwargs), *parts)


def test_inception_bad_results_and_arguments():
    expect_hint(checks.check_inception_module, lambda x, f: None, "not a Keras tensor")
    expect_hint(checks.check_inception_module, lambda x, f: 1 / 0, "ZeroDivisionError")
    with pytest.raises(NotAFunction):
        checks.check_inception_module("inception")
    with pytest.raises(ValueError, match="time_limit"):
        checks.check_inception_module(inception, time_limit=-1)


def test_inception_reference_mistakes_builder_matches_the_course():
    x = keras.Input(shape=(6, 6, 10))
    ours = keras.Model(x, rc._inception(x, (3, 5, 7, 2, 4, 1)))
    course = keras.Model(x, classic.inception_module(x, (3, 5, 7, 2, 4, 1), name="m"))
    images = km.random_inputs((6, 6, 10))
    np.testing.assert_allclose(km.forward_fixed(ours, images), km.forward_fixed(course, images), atol=1e-5)


# --------------------------------------------------------------------------
# Residual blocks
# --------------------------------------------------------------------------

def conv_bn(t, maps, k, stride=1, relu=True, bn=True, bias=False):
    t = layers.Conv2D(maps, k, strides=stride, padding="same", use_bias=bias)(t)
    t = layers.BatchNormalization()(t) if bn else t
    return layers.ReLU()(t) if relu else t


def block(x, filters, k=3, stride=1, *, final="after", mid_relu=True, bn=True, bias=False,
          stride_at=0, shortcut_stride=None, project=None, shortcut_bn=True, bottleneck=False):
    out = 4 * filters if bottleneck else filters
    plan = [(filters, 1), (filters, 3), (out, 1)] if bottleneck else [(filters, k), (filters, k)]
    y = x
    for i, (maps, size) in enumerate(plan):
        y = conv_bn(y, maps, size, stride if i == stride_at else 1,
                    relu=mid_relu and i < len(plan) - 1, bn=bn, bias=bias)
    s = x
    if project or (project is None and (stride != 1 or x.shape[-1] != out)):
        s = conv_bn(x, out, 1, stride if shortcut_stride is None else shortcut_stride, relu=False,
                    bn=bn and shortcut_bn, bias=bias)
    if final == "before":
        return layers.Add()([layers.ReLU()(y), s])
    y = layers.Add()([y, s])
    return layers.ReLU()(y) if final == "after" else y


def identity(**kwargs):
    return lambda x, f: block(x, x.shape[-1], f, **kwargs)


def projection(**kwargs):
    return lambda x, filters, stride: block(x, filters, 3, stride, project=True, **kwargs)


def bottleneck(**kwargs):
    return lambda x, filters, stride: block(x, filters, stride=stride, bottleneck=True,
                                            **{"stride_at": 1, **kwargs})


def test_right_blocks_pass():
    checks.check_residual_block(identity(), "identity")
    checks.check_residual_block(projection(), "projection")
    checks.check_residual_block(bottleneck(), "bottleneck")


@pytest.mark.parametrize("fn, parts", [
    (identity(final="before"), ("added after the final ReLU",)),
    (identity(bn=False), ("batch normalisation is missing",)),
    (identity(bias=True), ("use_bias=False",)),
    (identity(mid_relu=False), ("A ReLU inside F is missing",)),
    (identity(project=True), ("shortcut is x itself",)),
])
def test_identity_block_mistakes_are_named(fn, parts):
    expect_hint(lambda f: checks.check_residual_block(f, "identity"), fn, *parts)


@pytest.mark.parametrize("fn, parts", [
    (projection(shortcut_stride=1), ("same stride",)),
    (projection(stride_at=1), ("stride is on the wrong convolution", "first 3x3")),
    (projection(shortcut_bn=False), ("batch normalisation is missing", "projection")),
    (projection(final="before"), ("added after the final ReLU",)),
    (projection(final="none"), ("final ReLU is missing",)),
])
def test_projection_block_mistakes_are_named(fn, parts):
    expect_hint(lambda f: checks.check_residual_block(f, "projection"), fn, *parts)


@pytest.mark.parametrize("fn, parts", [
    (bottleneck(stride_at=0), ("belongs on the 3x3",)),
    (bottleneck(project=True), ("project only when",)),
    (bottleneck(final="before"), ("added after the final ReLU",)),
    (bottleneck(bn=False), ("batch normalisation is missing",)),
])
def test_bottleneck_mistakes_are_named(fn, parts):
    expect_hint(lambda f: checks.check_residual_block(f, "bottleneck"), fn, *parts)


def test_block_checkers_refuse_bad_arguments():
    for kind in ("identity", "projection", "bottleneck"):
        with pytest.raises(NotAFunction):
            checks.check_residual_block(None, kind)
        with pytest.raises(TypeError, match="time_limit"):
            checks.check_residual_block(identity(), kind, time_limit=[1])
    with pytest.raises(ValueError, match="kind"):
        checks.check_residual_block(identity(), "basic")
    expect_hint(lambda f: checks.check_residual_block(f, "identity"), lambda x, f: keras.Model(x, x),
                "not a Keras tensor")


def test_unsolved_exercises_get_the_stub_hint():
    def stub(*args):
        raise NotImplementedError("Exercise ex11-bottleneck: replace this line with your code")
    for check in (lambda f: checks.check_residual_block(f, "bottleneck"), checks.check_lenet5,
                  checks.check_inception_module):
        expect_hint(check, stub, "NotImplementedError", "Replace the line")


@pytest.mark.parametrize("shape, filters, stride, bottle", [
    ((6, 6, 4), 4, 1, False), ((7, 7, 3), 5, 2, False), ((6, 6, 8), 2, 1, True),
    ((7, 7, 8), 4, 2, True),
])
def test_reference_blocks_match_the_course(shape, filters, stride, bottle):
    x = keras.Input(shape=shape)
    ours = keras.Model(x, km._residual(x, filters, stride=stride, bottleneck=bottle,
                                       stride_at=1 if bottle else 0))
    build = resnet.bottleneck_block if bottle else resnet.residual_block
    course = keras.Model(x, build(x, filters, stride=stride, name="b"))
    images = km.random_inputs(shape)
    assert ours.count_params() == course.count_params()
    np.testing.assert_allclose(km.forward_fixed(ours, images), km.forward_fixed(course, images), atol=1e-5)


def test_fixed_weights_depend_on_shape_and_role_only():
    a = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    b = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    for wa, wb in zip(km.fixed_weights(a).get_weights(), km.fixed_weights(b).get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a.get_weights()[0][:2, :2], a.get_weights()[2][:2, :2])
    with pytest.raises(TypeError, match="model"):
        km.fixed_weights(3)
