"""Lesson 11: residual blocks, ResNet and plain builders, the trainer as lesson 11 calls it.

The ``resnet`` and ``degradation`` subcommands of ``python -m cnnlab.train`` are
tested in tests/test_train.py.

References: parameter counts worked out by hand from the layer sizes, numpy
for what an all-zero residual branch must give, and the course's shipped
model scored on the Fashion-MNIST test set.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnlab import data, resnet  # noqa: E402

SHIPPED = resnet.weights_path("resnet_14.keras")


def conv_bn(k, c_in, c_out):
    """A bias-free k x k convolution and its batch normalisation (4 numbers per channel)."""
    return k * k * c_in * c_out + 4 * c_out


def resnet_params(depth, widths=(16, 32, 64), n_classes=10, shortcuts=True):
    n = (depth - 2) // 6
    total = conv_bn(3, 1, widths[0])
    c_in = widths[0]
    for s, w in enumerate(widths):
        for b in range(n):
            total += conv_bn(3, c_in, w) + conv_bn(3, w, w)
            if shortcuts and (c_in != w or (s > 0 and b == 0)):
                total += conv_bn(1, c_in, w)
            c_in = w
    return total + c_in * n_classes + n_classes


def kinds(model, kind):
    return [layer for layer in model.layers if type(layer).__name__ == kind]


def block_model(c_in, filters, stride, block=resnet.residual_block, **kwargs):
    x = keras.Input(shape=(8, 8, c_in))
    return keras.Model(x, block(x, filters, stride=stride, name="b", **kwargs))


# ----------------------------------------------------------------- blocks

def test_identity_block_keeps_shape_and_has_no_shortcut_layer():
    model = block_model(16, 16, 1)
    assert model.output.shape[1:] == (8, 8, 16)
    assert not [layer for layer in model.layers if "shortcut" in layer.name]
    assert model.count_params() == 2 * conv_bn(3, 16, 16)


@pytest.mark.parametrize("c_in, filters, stride, out", [(16, 32, 2, (4, 4, 32)),
                                                        (16, 32, 1, (8, 8, 32)),
                                                        (16, 16, 2, (4, 4, 16))])
def test_projection_shortcut_when_shape_changes(c_in, filters, stride, out):
    model = block_model(c_in, filters, stride)
    assert model.output.shape[1:] == out
    projection = model.get_layer("b_shortcut")
    assert projection.kernel.shape == (1, 1, c_in, filters) and projection.strides == (stride, stride)
    assert model.count_params() == (conv_bn(3, c_in, filters) + conv_bn(3, filters, filters)
                                    + conv_bn(1, c_in, filters))


def test_zero_branch_leaves_relu_of_the_input():
    """With the residual branch's weights at zero, y = relu(0 + x): the identity path alone."""
    model = block_model(4, 4, 1, batch_norm=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), np.maximum(x, 0), atol=1e-6)


def test_plain_block_is_the_branch_alone():
    model = block_model(4, 4, 1, block=resnet.plain_block, batch_norm=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    x = np.ones((1, 8, 8, 4), np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), 0.0)


def test_bottleneck_identity_and_params():
    model = block_model(64, 16, 1, block=resnet.bottleneck_block)
    assert model.output.shape[1:] == (8, 8, 64)
    assert not [layer for layer in model.layers if "shortcut" in layer.name]
    assert model.count_params() == conv_bn(1, 64, 16) + conv_bn(3, 16, 16) + conv_bn(1, 16, 64)
    assert model.get_layer("b_reduce").kernel.shape == (1, 1, 64, 16)
    assert model.get_layer("b_restore").kernel.shape == (1, 1, 16, 64)


def test_bottleneck_projection_with_stride():
    model = block_model(32, 16, 2, block=resnet.bottleneck_block)
    assert model.output.shape[1:] == (4, 4, 64)
    assert model.count_params() == (conv_bn(1, 32, 16) + conv_bn(3, 16, 16) + conv_bn(1, 16, 64)
                                    + conv_bn(1, 32, 64))


def test_block_rejects_bad_arguments():
    x = keras.Input(shape=(8, 8, 4))
    with pytest.raises(ValueError, match="filters"):
        resnet.residual_block(x, 0, name="b")
    with pytest.raises(TypeError, match="name"):
        resnet.residual_block(x, 4, name="")
    with pytest.raises(ValueError, match="4D"):
        resnet.residual_block(keras.Input(shape=(8,)), 4, name="b")


# ----------------------------------------------------------------- networks

@pytest.mark.parametrize("depth", [8, 20, 32])
def test_build_resnet_depth_and_params(depth):
    model = resnet.build_resnet(depth)
    convs = kinds(model, "Conv2D")
    three_by_three = [c for c in convs if c.kernel_size == (3, 3)]
    assert len(three_by_three) + len(kinds(model, "Dense")) == depth
    assert len(convs) - len(three_by_three) == 2          # projections into stages 2 and 3
    assert len(kinds(model, "Add")) == 3 * (depth - 2) // 6
    assert model.count_params() == resnet_params(depth)
    assert model.output.shape[1:] == (10,) and model.name == f"resnet{depth}"


def test_build_plain_is_the_resnet_without_shortcuts():
    plain, res = resnet.build_plain(20), resnet.build_resnet(20)
    assert not kinds(plain, "Add")
    assert len(kinds(plain, "Conv2D")) == 19
    assert plain.count_params() == resnet_params(20, shortcuts=False)
    assert res.count_params() - plain.count_params() == conv_bn(1, 16, 32) + conv_bn(1, 32, 64)
    shared = [layer.name for layer in plain.layers if layer.weights]
    for name in shared:                                   # same seed: same starting weights
        for a, b in zip(plain.get_layer(name).get_weights(), res.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_build_resnet_other_widths_and_classes():
    model = resnet.build_resnet(14, widths=(8, 16), input_shape=(32, 32, 3), n_classes=5)
    assert model.output.shape[1:] == (5,)
    assert model.get_layer("stage2_block3_out").output.shape[1:] == (16, 16, 16)


def test_build_resnet_bottleneck_depth():
    model = resnet.build_resnet(29, block="bottleneck")
    assert len(kinds(model, "Add")) == 9
    assert model.get_layer("stage3_block3_out").output.shape[1:] == (7, 7, 256)


@pytest.mark.parametrize("depth, message", [(21, r"6n \+ 2"), (2, r"6n \+ 2"), (20.0, "integer")])
def test_build_resnet_rejects_bad_depth(depth, message):
    with pytest.raises((ValueError, TypeError), match=message):
        resnet.build_resnet(depth)


def test_build_plain_rejects_bad_widths():
    with pytest.raises(TypeError, match="widths"):
        resnet.build_plain(8, widths=16)


# ----------------------------------------------------------------- training pieces

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(0, 3), st.booleans())
def test_augment_images_are_shifts_and_flips(seed, shift, flip):
    rng = np.random.default_rng(seed)
    x = rng.random((3, 6, 6, 1)).astype(np.float32)
    out = resnet.augment_images(x, np.random.default_rng(seed), max_shift=shift, flip=flip)
    assert out.shape == x.shape and out.dtype == x.dtype
    for original, moved in zip(x, out):
        padded = np.pad(original, ((shift, shift), (shift, shift), (0, 0)))
        candidates = [padded[dy:dy + 6, dx:dx + 6] for dy in range(2 * shift + 1)
                      for dx in range(2 * shift + 1)]
        candidates += [c[:, ::-1] for c in candidates] if flip else []
        assert any(np.array_equal(moved, c) for c in candidates)


def test_gradient_norms_are_reproducible_and_listed_input_first():
    keras.utils.set_random_seed(0)
    model = resnet.build_resnet(8, widths=(4, 8, 8))
    x = np.random.default_rng(0).random((16, 28, 28, 1)).astype(np.float32)
    y = np.arange(16) % 10
    first, second = resnet.gradient_norms(model, x, y), resnet.gradient_norms(model, x, y)
    assert first == second
    assert list(first)[0] == "stem" and len(first) == 7
    assert all(v > 0 for v in first.values())


def test_branch_ratios_one_per_block():
    model = resnet.build_resnet(14, widths=(4, 8, 8))
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype(np.float32)
    ratios = resnet.branch_ratios(model, x)
    assert list(ratios) == [f"stage{s}_block{b}" for s in (1, 2, 3) for b in (1, 2)]
    assert all(r >= 0 for r in ratios.values())
    with pytest.raises(ValueError, match="no Add"):
        resnet.branch_ratios(resnet.build_plain(8), x)


# ----------------------------------------------------------------- the shipped model

def test_shipped_model_scores_over_90_percent_on_2000_test_images():
    """The whole test set (93.29 %, the record's figure) is checked by lesson 11 itself."""
    model = keras.saving.load_model(SHIPPED)
    _, (x_test, y_test) = data.load_fashion_mnist((1, 2000))
    _, accuracy = resnet.evaluate(model, resnet.prepare_images(x_test), y_test)
    assert accuracy >= 0.90


def test_degradation_experiment_records_every_network_and_epoch():
    """A tiny run: the lesson shows the shipped run and only re-runs it on request."""
    result = resnet.degradation_experiment((8,), widths=(4, 4, 8), epochs=2, limit=(128, 32),
                                           seeds=(0,), verbose=0)
    assert list(result["runs"]) == ["plain8", "resnet8"]
    for name, runs in result["runs"].items():
        (run,) = runs
        assert len(run["loss"]) == len(run["test_accuracy"]) == 2
        assert all(np.isfinite(run["loss"])) and all(0 <= a <= 1 for a in run["test_accuracy"])
    params = {n: r[0]["params"] for n, r in result["runs"].items()}
    assert params["resnet8"] > params["plain8"]          # the projections
    assert result["settings"]["depths"] == [8] and result["settings"]["epochs"] == 2


# ----------------------------------------------------------------- where the names live

def test_training_names_are_the_training_modules_and_load_on_first_use():
    """Builders never import training: lesson 11's training names load when first asked for."""
    import subprocess
    import sys

    from cnnlab.train import loop
    from cnnlab.train import resnet as training

    code = ("import sys; from cnnlab import denoise, models, resnet, style; "
            "assert not [m for m in sys.modules if m.startswith('cnnlab.train')]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert resnet.train_resnet is training.train_resnet and resnet.train is training.train
    assert resnet.degradation_experiment is training.degradation_experiment
    assert resnet.evaluate is loop.loss_and_accuracy and resnet.EpochLog is loop.EpochLog
    with pytest.raises(AttributeError, match="no attribute 'fly'"):
        resnet.fly


def test_prepare_images_takes_other_sizes_when_asked():
    x = np.full((2, 32, 32), 255, np.uint8)
    with pytest.raises(ValueError, match="`x` must hold 28x28 images"):
        resnet.prepare_images(x)
    out = resnet.prepare_images(x, side=None)
    assert out.shape == (2, 32, 32, 1) and out.dtype == np.float32 and out.max() == 1.0
    assert resnet.prepare_images(x, side=32).shape == (2, 32, 32, 1)
