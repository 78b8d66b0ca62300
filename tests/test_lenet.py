"""LeNet-5 (lesson 09): the layer table, the Keras builders, the shipped models, training."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import data, kernels, shapes
from cnnlab import train as train_module
from cnnlab.models.lenet import (LAYER_NAMES, Subsampling, TableConv2D, build_lenet5, layer_outputs,
                          prepare_images, probe_model)
from cnnlab.train import main, train_lenet5, weights_path

# LeCun, Bottou, Bengio and Haffner (1998), section II.B: the numbers the lesson must reproduce.
PAPER = {  # name: (maps, height, width, params, connections)
    "C1": (6, 28, 28, 156, 122_304),
    "S2": (6, 14, 14, 12, 5_880),
    "C3": (16, 10, 10, 1_516, 151_600),
    "S4": (16, 5, 5, 32, 2_000),
    "C5": (120, 1, 1, 48_120, 48_120),
    "F6": (84, 1, 1, 10_164, 10_164),
}

# Table I of the paper, row = S2 map, column = C3 map, X = connected.
PAPER_C3_TABLE = """
X...XXX..XXXX.XX
XX...XXX..XXXX.X
XXX...XXX..X.XXX
.XXX..XXXX..X.XX
..XXX..XXXX.XX.X
...XXX..XXXX.XXX
"""


def paper_c3_table() -> np.ndarray:
    rows = PAPER_C3_TABLE.split()
    return np.array([[1 if c == "X" else 0 for c in row] for row in rows])


@pytest.fixture(scope="module")
def mnist_test():
    (_, _), (x, y) = data.load_mnist()
    return prepare_images(x), y


# ----------------------------------------------------------------- the layer table

def test_layer_table_matches_the_paper():
    rows = {r.name: r for r in shapes.lenet5_table()}
    for name, expected in PAPER.items():
        r = rows[name]
        assert (r.maps, r.height, r.width, r.params, r.connections) == expected, name
    assert rows["output"].params == 84 * 10 + 10       # dense softmax instead of 84 x 10 RBF


def test_modern_table_has_a_full_c3_and_no_pooling_parameters():
    rows = {r.name: r for r in shapes.lenet5_table("modern")}
    assert rows["C3"].params == 16 * (6 * 25 + 1) == 2_416
    assert rows["C3"].connections == 2_416 * 100
    assert rows["S2"].params == rows["S4"].params == 0
    assert rows["S2"].connections == 6 * 14 * 14 * 4


def test_layer_table_rejects_an_unknown_variant():
    with pytest.raises(ValueError, match="`variant` must be one of 'classic', 'modern'"):
        shapes.lenet5_table("lenet7")


def test_c3_table_is_table_1_of_the_paper():
    table = shapes.lenet5_c3_table()
    np.testing.assert_array_equal(table, paper_c3_table())
    assert table.shape == (6, 16)
    assert table.sum(axis=1).tolist() == [10] * 6
    assert table.sum(axis=0).tolist() == [3] * 6 + [4] * 9 + [6]
    assert int(table.sum()) * 25 + 16 == 1_516


# ----------------------------------------------------------------- the Keras models

@pytest.fixture(scope="module")
def models():
    return {v: build_lenet5(v) for v in ("classic", "modern")}


@pytest.mark.parametrize("variant, total", [("classic", 60_850), ("modern", 61_706)])
def test_builders_count_params_match_the_table(models, variant, total):
    model = models[variant]
    rows = shapes.lenet5_table(variant)
    assert model.count_params() == sum(r.params for r in rows) == total
    for r in rows[1:]:
        layer = model.get_layer(r.name)
        assert layer.count_params() == r.params, r.name
        shape = layer.output.shape[1:]
        spatial = r.name in ("C1", "S2", "C3", "S4", "C5")
        expected = (r.height, r.width, r.maps) if spatial else (r.maps,)
        assert tuple(shape) == expected, r.name


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_builders_give_probabilities(models, variant):
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    p = np.asarray(models[variant](x))
    assert p.shape == (3, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert models[variant].name == f"lenet5_{variant}"


def test_builders_are_seeded():
    a, b = build_lenet5("classic", seed=3), build_lenet5("classic", seed=3)
    c = build_lenet5("classic", seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c1_a, c1_c = a.get_layer("C1").get_weights()[0], c.get_layer("C1").get_weights()[0]
    assert not np.array_equal(c1_a, c1_c)


def test_builder_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`variant` must be one of 'classic', 'modern'"):
        build_lenet5("vintage")
    with pytest.raises(ValueError, match="`seed` must be at least 0"):
        build_lenet5("modern", seed=-1)


def test_c3_holds_only_the_connected_weights(models):
    c3 = models["classic"].get_layer("C3")
    assert isinstance(c3, TableConv2D)
    assert [tuple(w.shape) for w in c3.trainable_weights] == [(5, 5, 60), (16,)]
    full = np.asarray(c3.full_kernel())                                 # (5, 5, 6, 16)
    connected = np.any(full != 0, axis=(0, 1))                          # (6, 16)
    np.testing.assert_array_equal(connected, paper_c3_table() == 1)


def test_table_conv_equals_a_masked_convolution():
    rng = np.random.default_rng(1)
    table = paper_c3_table()
    layer = TableConv2D(table, 5, seed=0)
    x = rng.normal(size=(2, 14, 14, 6)).astype(np.float32)
    layer.build(x.shape)
    layer.kernel.assign(rng.normal(size=(5, 5, 60)).astype(np.float32))
    layer.bias.assign(rng.normal(size=16).astype(np.float32))
    full = np.asarray(layer.full_kernel())
    # Connections are numbered output map by output map: check the order directly.
    out_map, in_map = np.argwhere(table.T == 1)[7]
    np.testing.assert_array_equal(full[:, :, in_map, out_map], np.asarray(layer.kernel)[:, :, 7])
    want = kernels.conv2d(x.astype(np.float64), full * table, np.asarray(layer.bias))
    np.testing.assert_allclose(np.asarray(layer(x)), want, atol=1e-4)


def test_table_conv_gradients_reach_only_connected_weights():
    layer = TableConv2D(paper_c3_table(), 5, seed=0)
    x = tf.random.stateless_normal((1, 14, 14, 6), seed=(1, 2))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x) ** 2)
    grad = tape.gradient(y, layer.kernel)
    assert grad.shape == (5, 5, 60)
    assert np.all(np.any(np.asarray(grad) != 0, axis=(0, 1)))


def test_table_conv_rejects_bad_tables():
    with pytest.raises(ValueError, match="`table` must hold only 0 and 1"):
        TableConv2D(np.full((2, 3), 2), 3)
    with pytest.raises(ValueError, match=r"output map\(s\) \[1\] have no input"):
        TableConv2D(np.array([[1, 0], [1, 0]]), 3)
    with pytest.raises(ValueError, match="the table has 6 rows .* the input has 3 channels"):
        TableConv2D(paper_c3_table(), 5)(np.zeros((1, 14, 14, 3), np.float32))


@settings(max_examples=40, deadline=None)
@given(coef=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       bias=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
       seed=st.integers(0, 2**16))
def test_subsampling_is_sum_pooling_scaled_and_shifted(coef, bias, seed):
    x = np.random.default_rng(seed).normal(size=(2, 6, 8, 3)).astype(np.float32)
    layer = Subsampling(2, activation="tanh")
    layer.build(x.shape)
    layer.set_weights([np.array(coef, np.float32), np.array(bias, np.float32)])
    want = np.tanh(kernels.sum_pool2d(x.astype(np.float64), 2) * np.array(coef) + np.array(bias))
    np.testing.assert_allclose(np.asarray(layer(x)), want, atol=1e-5)


def test_subsampling_starts_as_an_average_and_has_two_params_per_map():
    layer = Subsampling(2)
    x = np.arange(2 * 4 * 4 * 5, dtype=np.float32).reshape(2, 4, 4, 5)
    y = np.asarray(layer(x))
    assert layer.count_params() == 10
    np.testing.assert_allclose(y, kernels.avg_pool2d(x, 2), rtol=1e-6)


def test_save_and_load_a_model_with_the_custom_layers(tmp_path):
    inputs = keras.Input(shape=(12, 12, 3))
    x = TableConv2D([[1, 0], [1, 1], [0, 1]], 3, activation="tanh", seed=2, name="table")(inputs)
    x = Subsampling(2, activation="tanh", name="sub")(x)                 # (N, 5, 5, 2)
    outputs = keras.layers.Flatten()(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("sub").set_weights([np.array([0.5, -2.0], np.float32),
                                        np.array([0.1, 0.2], np.float32)])
    path = tmp_path / "tiny.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).normal(size=(2, 12, 12, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.get_layer("table").table.tolist() == [[1, 0], [1, 1], [0, 1]]
    assert loaded.count_params() == model.count_params() == 3 * 3 * 4 + 2 + 4


# ----------------------------------------------------------------- helpers

def test_prepare_images_scales_pixels_and_adds_a_channel():
    x = np.zeros((2, 28, 28), np.uint8)
    x[:, :, 14:] = 255
    y = prepare_images(x)
    assert y.shape == (2, 28, 28, 1) and y.dtype == np.float32
    assert y.min() == 0.0 and y.max() == 1.0
    first_test_image = data.load_mnist(1)[1][0][:1]                    # (1, 28, 28) uint8
    np.testing.assert_array_equal(prepare_images(data.digit(0)), prepare_images(first_test_image))
    with pytest.raises(ValueError, match="`x` must hold 28x28 images"):
        prepare_images(np.zeros((2, 32, 32)))


def test_layer_outputs_match_the_model(models):
    model = models["classic"]
    image = data.digit(3)
    out = layer_outputs(model, image)
    assert list(out) == list(LAYER_NAMES)
    assert out["C1"].shape == (1, 28, 28, 6) and out["C5"].shape == (1, 1, 1, 120)
    np.testing.assert_allclose(out["output"], np.asarray(model(prepare_images(image))), atol=1e-6)
    # C1 by hand: pad to 32x32, 'valid' 5x5 convolution, tanh.
    k, b = model.get_layer("C1").get_weights()
    padded = np.pad(image, 2)[None, :, :, None]
    np.testing.assert_allclose(out["C1"], np.tanh(kernels.conv2d(padded, k, b)), atol=1e-5)


def test_probe_model_names_a_missing_layer(models):
    with pytest.raises(ValueError, match="no layer named 'C7'"):
        probe_model(models["modern"], ["C1", "C7"])
    with pytest.raises(TypeError, match="`model` must be a Keras model"):
        probe_model("lenet5", ["C1"])


# ----------------------------------------------------------------- the shipped models

def test_shipped_modern_model_reaches_99_percent(mnist_test):
    x, y = mnist_test
    model = keras.saving.load_model(weights_path("lenet5_modern"))
    assert model.count_params() == 61_706
    accuracy = train_module.evaluate(model, x, y)
    assert accuracy >= 0.99, f"shipped modern LeNet-5: {100 * accuracy:.2f} % on the 10k test set"


def test_shipped_classic_model_loads_and_scores(mnist_test):
    x, y = mnist_test
    model = keras.saving.load_model(weights_path("lenet5_classic.keras"))
    assert isinstance(model.get_layer("S2"), Subsampling)
    assert isinstance(model.get_layer("C3"), TableConv2D)
    assert model.count_params() == 60_850
    assert train_module.evaluate(model, x, y) >= 0.985


def test_weights_path_points_into_data_weights():
    assert weights_path("lenet5_modern").parts[-3:] == ("data", "weights", "lenet5_modern.keras")
    with pytest.raises(TypeError, match="`name` must be a model name"):
        weights_path(None)


# ----------------------------------------------------------------- training

def test_cli_lists_the_valid_models(capsys):
    assert main(["alexnet"]) == 2
    err = capsys.readouterr().err
    assert f"unknown model 'alexnet'; valid models: {', '.join(train_module.MODELS)}" in err
    assert "lenet5" in train_module.MODELS


def test_cli_rejects_an_unknown_variant(capsys):
    assert main(["lenet5", "--variant", "vintage"]) == 2
    assert "valid variants: classic, modern" in capsys.readouterr().err


@pytest.mark.parametrize("epochs, message", [("0", "--epochs must be at least 1, got 0"),
                                             ("two", "--epochs must be a whole number, got 'two'"),
                                             ("1.5", "--epochs must be a whole number")])
def test_cli_rejects_bad_epochs(capsys, epochs, message):
    assert main(["lenet5", "--epochs", epochs]) == 2
    assert message in capsys.readouterr().err


def test_cli_rejects_an_output_that_is_not_keras(capsys):
    assert main(["lenet5", "--out", "model.h5"]) == 2
    assert "`out` must end in .keras" in capsys.readouterr().err


def test_cli_without_arguments_shows_the_usage(capsys):
    assert main([]) == 2
    assert "usage: python -m cnnlab.train" in capsys.readouterr().err


def test_cli_reports_missing_data(tmp_path, monkeypatch, capsys):
    (tmp_path / "mnist").mkdir()                      # a data folder whose MNIST files are gone
    monkeypatch.setenv("CNNLAB_DATA", str(tmp_path))
    assert main(["lenet5", "--fast", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cannot read the MNIST data" in err and "file not found" in err
    assert "git checkout -- data/mnist/" in err


def test_train_lenet5_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`epochs` must be at least 1"):
        train_lenet5("modern", 0)
    with pytest.raises(ValueError, match="`variant` must be one of"):
        train_lenet5("lenet")
    with pytest.raises(ValueError, match="`peak_lr` must be a positive number"):
        train_lenet5("modern", 1, peak_lr=-1.0)
    with pytest.raises(ValueError, match="`batch_size` 128 is larger than the 100 training images"):
        train_lenet5("modern", 1, batch_size=128, limit=100)
    with pytest.raises(TypeError, match="`peak_lr` must be a number, got '0.1'"):
        train_lenet5("modern", 1, peak_lr="0.1")


def test_a_tiny_training_run_writes_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "weights" / "tiny.keras"
    assert main(["lenet5", "--variant", "classic", "--fast", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/1" in printed and "lenet5 classic: test accuracy" in printed
    model = keras.saving.load_model(out)
    assert model.count_params() == 60_850
    assert model.get_layer("C3").table.tolist() == paper_c3_table().tolist()


def test_training_lowers_the_loss_and_is_seeded():
    a = train_lenet5("modern", 2, limit=(1024, 200), seed=1, verbose=0)
    b = train_lenet5("modern", 2, limit=(1024, 200), seed=1, verbose=0)
    assert [e.epoch for e in a.history] == [1, 2]
    assert a.history[1].loss < a.history[0].loss
    assert a.history[1].test_accuracy > 0.5
    assert a.train_seconds > 0
    np.testing.assert_allclose(a.history[1].loss, b.history[1].loss, rtol=1e-3)
