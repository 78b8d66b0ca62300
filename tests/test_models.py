"""Model builders and the numpy forward pass, checked against Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import models, shapes

CHECK = settings(max_examples=10, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def mnist_model():
    model = models.build_mnist_cnn(seed=0)
    # random biases too, so that the comparison also checks where they are added
    rng = np.random.default_rng(1)
    model.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype("float32")
                       for w in model.get_weights()])
    return model


def test_mnist_cnn_shapes_match_the_syllabus(mnist_model):
    expected = {"conv1": (26, 26, 32), "pool1": (13, 13, 32), "conv2": (11, 11, 64),
                "pool2": (5, 5, 64), "flatten": (1600,), "dense": (512,), "dropout": (512,),
                "output": (10,)}
    got = {name: tuple(mnist_model.get_layer(name).output.shape[1:]) for name in expected}
    assert got == expected


def test_mnist_cnn_matches_its_layer_description(mnist_model):
    table = shapes.layer_table(models.mnist_cnn_layers(), (28, 28, 1))
    layers = mnist_model.layers[1:]
    assert [row.output_shape for row in table] == [tuple(l.output.shape[1:]) for l in layers]
    assert [row.params for row in table] == [l.count_params() for l in layers]
    assert mnist_model.count_params() == shapes.count_params(models.mnist_cnn_layers(),
                                                             (28, 28, 1))


def test_mnist_cnn_has_fixed_names_and_is_reproducible():
    a, b, c = models.build_mnist_cnn(3), models.build_mnist_cnn(3), models.build_mnist_cnn(4)
    assert a.name == "mnist_cnn"
    assert [l.name for l in a.layers] == ["image", "conv1", "pool1", "conv2", "pool2",
                                          "flatten", "dense", "dropout", "output"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_mnist_cnn_options():
    model = models.build_mnist_cnn(input_shape=(32, 32, 3), n_classes=4, dropout=0.25)
    assert tuple(model.get_layer("flatten").output.shape[1:]) == (6 * 6 * 64,)
    assert tuple(model.output.shape[1:]) == (4,)
    assert model.get_layer("dropout").rate == 0.25


@CHECK
@given(st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_forward_numpy_equals_keras_on_random_inputs(mnist_model, n, seed):
    x = np.random.default_rng(seed).uniform(0, 1, (n, 28, 28, 1)).astype("float32")
    expected = np.asarray(mnist_model(x, training=False))
    got = models.forward_numpy(mnist_model, x)
    assert got.shape == (n, 10)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)


def test_forward_numpy_steps_match_every_keras_layer(mnist_model):
    x = np.random.default_rng(7).uniform(0, 1, (2, 28, 28, 1))
    steps = models.forward_numpy(mnist_model, x, steps=True)
    names = [layer.name for layer in mnist_model.layers[1:]]
    assert [name for name, _ in steps] == names
    probe = keras.Model(mnist_model.input, [mnist_model.get_layer(n).output for n in names])
    for (name, got), expected in zip(steps, probe(x.astype("float32"))):
        np.testing.assert_allclose(got, np.asarray(expected), atol=1e-4, rtol=1e-5, err_msg=name)


def test_forward_numpy_runs_other_supported_layers():
    rng = np.random.default_rng(5)
    inputs = keras.Input(shape=(9, 9, 2))
    x = keras.layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh")(inputs)
    x = keras.layers.LeakyReLU(negative_slope=0.1)(x)
    x = keras.layers.Conv2D(4, 2, dilation_rate=2, padding="valid", use_bias=False)(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.AveragePooling2D(2, strides=1, padding="same")(x)
    x = keras.layers.Activation("sigmoid")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    batch = rng.normal(size=(3, 9, 9, 2)).astype("float32")
    np.testing.assert_allclose(models.forward_numpy(model, batch), np.asarray(model(batch)),
                               atol=1e-5)


def test_forward_numpy_refuses_what_it_cannot_run(mnist_model):
    with pytest.raises(ValueError, match=r"add the channel axis"):
        models.forward_numpy(mnist_model, np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28, 1\)"):
        models.forward_numpy(mnist_model, np.zeros((1, 32, 32, 1)))
    with pytest.raises(ValueError, match="finite"):
        models.forward_numpy(mnist_model, np.full((1, 28, 28, 1), np.nan))
    with pytest.raises(TypeError, match="Keras model"):
        models.forward_numpy("mnist", np.zeros((1, 28, 28, 1)))
    inputs = keras.Input(shape=(4, 4, 1))
    unsupported = keras.Model(inputs, keras.layers.BatchNormalization()(inputs))
    with pytest.raises(ValueError, match="BatchNormalization"):
        models.forward_numpy(unsupported, np.zeros((1, 4, 4, 1)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed=-1), "seed"),
    (dict(n_classes=1), "n_classes"),
    (dict(dropout=1.0), "dropout"),
    (dict(input_shape=(28, 28)), "input_shape"),
])
def test_build_mnist_cnn_refuses_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        models.build_mnist_cnn(**kwargs)


# --------------------------------------------------------------------------
# One place for every builder, and the shipped models
# --------------------------------------------------------------------------

def test_models_re_exports_every_builder_of_the_course():
    from cnnlab import classic, lenet, resnet

    for module in (lenet, classic, resnet):
        for name in models.__all__:
            if name in module.__all__:
                assert getattr(models, name) is getattr(module, name), name
    for name in ("build_lenet5", "build_alexnet", "build_vgg16", "build_nin",
                 "inception_module", "residual_block", "bottleneck_block",
                 "build_resnet", "build_plain", "load_model"):
        assert name in models.__all__ and callable(getattr(models, name)), name


def test_a_fresh_python_opens_every_shipped_model_once_models_is_imported(tmp_path):
    """The classic LeNet has custom layers: a new interpreter must know them after
    ``import cnnlab.models`` alone, and TensorFlow's start-up lines stay quiet."""
    import subprocess
    import sys
    from pathlib import Path

    weights = Path(__file__).resolve().parents[1] / "data" / "weights"
    script = (
        "import cnnlab.models\nimport keras\n"
        f"for stem in ('lenet5_classic', 'lenet5_modern', 'resnet_14'):\n"
        f"    m = keras.saving.load_model({str(weights)!r} + '/' + stem + '.keras')\n"
        "    print(stem, m.count_params())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = dict(line.split() for line in done.stdout.splitlines())
    assert counts == {"lenet5_classic": "60850", "lenet5_modern": "61706", "resnet_14": "176090"}
    assert "oneDNN" not in done.stderr and "cuda" not in done.stderr.lower(), done.stderr


def test_load_model_opens_a_shipped_model_and_explains_bad_paths(tmp_path):
    from pathlib import Path

    weights = Path(__file__).resolve().parents[1] / "data" / "weights"
    model = models.load_model(weights / "lenet5_classic.keras")
    assert isinstance(model.get_layer("C3"), models.TableConv2D)
    assert models.load_model("lenet5_classic").count_params() == model.count_params()
    with pytest.raises(FileNotFoundError, match="missing.keras: model file not found; check the path"):
        models.load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match=r"path ending in \.keras.*model\.h5"):
        models.load_model(tmp_path / "model.h5")
    with pytest.raises(TypeError, match=r"`name_or_path` must be .*3 \(int\)"):
        models.load_model(3)


def test_a_missing_shipped_model_names_the_command_that_makes_it(tmp_path, monkeypatch):
    from cnnlab import weights

    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    for stem, command in weights.SHIPPED.items():
        with pytest.raises(FileNotFoundError, match=f"{stem}.keras: model file not found") as err:
            weights.load_model(stem)
        assert command in str(err.value) and "git checkout -- data/weights" in str(err.value)
    with pytest.raises(ValueError, match="no folders"):
        weights.weights_path("a/b")
    with pytest.raises(TypeError, match="`name` must be a model name"):
        weights.weights_path(None)
    assert weights.weights_path("resnet_14.json").name == "resnet_14.json"


def test_save_model_keeps_weights_and_drops_the_optimizer(tmp_path):
    from cnnlab import weights

    model = models.build_lenet5("classic", seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    path = weights.save_model(model, tmp_path / "sub" / "copy.keras")
    loaded = weights.load_model(path)
    assert getattr(loaded, "optimizer", None) is None
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"`path` must end in \.keras"):
        weights.save_model(model, tmp_path / "copy.h5")
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        weights.save_model("model", tmp_path / "copy.keras")


def test_checksum_table_matches_the_shipped_files_and_data_readme():
    """Every file of data/weights is in cnnlab.weights.CHECKSUMS, with its real SHA-256,
    and data/README.md prints the same table."""
    import hashlib
    import re
    from pathlib import Path

    from cnnlab import weights

    folder = Path(__file__).resolve().parents[1] / "data" / "weights"
    shipped = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert shipped == set(weights.CHECKSUMS)
    for name, digest in weights.CHECKSUMS.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        assert weights.verify(name) == folder / name
    readme = (folder.parent / "README.md").read_text()
    table = dict(re.findall(r"^\| weights/(\S+) \| ([0-9a-f]{64}) \|$", readme, re.M))
    assert table == weights.CHECKSUMS
    assert set(weights.RECORDS) | {f"{stem}.keras" for stem in weights.SHIPPED} == shipped


def test_load_json_reads_the_shipped_records():
    import json

    from cnnlab import weights

    record = weights.load_json("resnet_14.json")
    assert record == json.loads(weights.weights_path("resnet_14.json").read_text())
    assert weights.load_json("degradation")["settings"]["depths"] == [20, 56]


def test_weights_opens_models_through_the_models_package():
    """cnnlab.weights checks files and never imports the models; ``weights.load_model`` is
    the loader of cnnlab.models, reached when first asked for."""
    import subprocess
    import sys

    from cnnlab import weights

    assert weights.load_model is models.load_model
    code = ("import sys, cnnlab.weights; "
            "assert not [m for m in sys.modules if m.startswith(('cnnlab.models', 'keras'))]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
