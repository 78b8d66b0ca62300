"""Hostile inputs to the Keras models, their files, training and evaluation (audit cases 1-8).

The public functions of ``cnnlab.weights``, ``models``, ``classic``, ``lenet``,
``resnet``, ``train`` (and its command line), ``tinycnn``, ``denoise``, ``style``
and ``doctor`` get the hostile values of ``tests/hostile.py`` at each argument in
turn (the others valid) and must answer with a result or a clear error; each
case of the audit has its own regression test below.

Nothing here trains a network: the training functions are stopped where they
would start loading data or compiling (:class:`Reached`), once every argument
has been checked. References: numpy formulas, Keras's own shape arithmetic,
the SHA-256 of the shipped files, and the shipped ResNet's accuracy.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import math  # noqa: E402
import shutil  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hostile import (argument_names, assert_clear, hostile_scalars,  # noqa: E402
                     hostile_values, names_an_argument, outcome, show_call)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab import (classic, data, denoise, lenet, models, resnet,  # noqa: E402
                    style, tinycnn, train, weights)
from cnnlab.train import loop  # noqa: E402
from cnnlab.tools import doctor as doctor_module  # noqa: E402

# The Keras models below are built once per module; keep the file on one xdist worker
# (`pytest -n 2 --dist loadgroup`) so they are not built again on every worker.
pytestmark = pytest.mark.xdist_group("hostile_models")

FEW = settings(max_examples=6, deadline=None, derandomize=True)
SOME = settings(max_examples=15, deadline=None, derandomize=True)

LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:dd9e2be87835acfe34346d7be6b7690cad0576063496a6298e14929981d66d47\n"
               b"size 147226\n")


# ----------------------------------------------------------------- shared pieces

@pytest.fixture(scope="module")
def tiny_resnet():
    """A 28x28x1 -> 10 classifier with Add layers, cheap to build and run."""
    return resnet.build_resnet(8, widths=(2, 2, 2), seed=0)


@pytest.fixture(scope="module")
def lenet_modern():
    return lenet.build_lenet5("modern")


@pytest.fixture(scope="module")
def chain():
    """A small chain of layers forward_numpy runs: (N, 6, 6, 1) -> (N, 3)."""
    inputs = keras.Input(shape=(6, 6, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


class Reached(Exception):
    """Raised where a training function would start loading data or training."""


def _stop(*args, **kwargs):
    raise Reached()


@contextmanager
def no_training():
    """Every argument is checked before this point: stop the data loaders and the trainer."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("load_mnist", "load_fashion_mnist"):
            mp.setattr(data, name, _stop)
        mp.setattr(loop, "make_train_chunk", _stop)
        yield


def assert_clear_or_reached(fn, *args, **kwargs):
    """As hostile.assert_clear, but reaching the data loaders (all arguments accepted) passes."""
    kind, value = outcome(fn, *args, **kwargs)
    if kind == "error" and isinstance(value, Reached):
        return "reached", None
    call = show_call(fn, args, kwargs)
    assert kind in ("ok", "error"), f"{call}: {kind} ({value})"
    if kind == "error":
        assert isinstance(value, (ValueError, TypeError)), \
            f"{call} raised {type(value).__name__}: {value}"
        assert names_an_argument(str(value), argument_names(fn)), \
            f"{call} names none of its arguments: {value}"
    return kind, value


def raises_naming(exc_type, argument, fn, *args, **kwargs):
    """Run a call that must fail with ``exc_type`` naming `argument`; return the message."""
    with pytest.raises(exc_type) as err:
        fn(*args, **kwargs)
    message = str(err.value)
    assert f"`{argument}`" in message or f"`{argument}[" in message, message
    return message


def pixels_reference(x):
    """The rule of the prepare functions, written out: float32 (N, H, W, 1) in [0, 1]."""
    arr = np.asarray(x)
    scaled = np.issubdtype(arr.dtype, np.integer) or arr.max(initial=0) >= 2
    out = arr.astype(np.float64) / 255.0 if scaled else arr.astype(np.float64)
    out = out[None] if out.ndim == 2 else out
    return (out[..., None] if out.ndim == 3 else out).astype(np.float32)


# ================================================================= case 1: damaged model files

@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """A copy of data/weights in tmp_path, made the folder cnnlab.weights reads."""
    for name in weights.CHECKSUMS:
        shutil.copy(weights.WEIGHTS_DIR / name, tmp_path / name)
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    return tmp_path


def damage(path: Path, how: str) -> None:
    good = path.read_bytes()
    middle = len(good) // 2
    path.write_bytes({
        "truncated": good[:middle],
        "empty": b"",
        "lfs_pointer": LFS_POINTER,
        "flipped": good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1:],
    }[how])


@pytest.mark.parametrize("file, how, problem", [
    ("denoiser.keras", "truncated", "not a Keras model file (not a zip archive"),
    ("denoiser.keras", "empty", "the file is empty (0 bytes)"),
    ("denoiser.keras", "lfs_pointer", "Git LFS pointer"),
    ("denoiser.keras", "flipped", "wrong checksum: expected SHA-256 dd9e2be8"),
    ("resnet_14.json", "truncated", "wrong checksum"),
    ("resnet_14.json", "lfs_pointer", "Git LFS pointer"),
    ("degradation.json", "flipped", "wrong checksum"),
])
def test_damaged_shipped_file_names_the_file_the_problem_and_both_fixes(weights_copy, file, how,
                                                                        problem):
    path = weights_copy / file
    damage(path, how)
    opener = weights.load_model if file.endswith(".keras") else weights.load_json
    with pytest.raises(weights.ModelFileError) as err:
        opener(Path(file).stem if file.endswith(".keras") else file)
    message = str(err.value)
    assert isinstance(err.value, OSError) and isinstance(err.value, ValueError)
    assert message.startswith(f"{path}: ") and problem in message, message
    assert f"`git checkout -- data/weights/{file}`" in message, message
    command = weights.RECORDS.get(file) or weights.SHIPPED[Path(file).stem]
    assert f"`{command}`" in message, message
    if how == "lfs_pointer":
        assert "`git lfs pull`" in message
    assert err.value.path == path
    if file.endswith(".keras"):
        assert err.value.kind == {"truncated": "not_zip", "flipped": "checksum"}.get(how, how)


def test_every_loader_of_a_shipped_file_checks_it(weights_copy):
    damage(weights_copy / "denoiser.keras", "flipped")
    damage(weights_copy / "style_features.keras", "empty")
    damage(weights_copy / "resnet_14.keras", "lfs_pointer")
    for call in (denoise.load_denoiser, lambda: weights.verify("denoiser"),
                 lambda: weights.weights_path("denoiser", verify=True),
                 lambda: weights.load_model(weights_copy / "denoiser.keras")):
        with pytest.raises(weights.ModelFileError, match="wrong checksum"):
            call()
    with pytest.raises(weights.ModelFileError, match="empty"):
        style.load_style_features()
    with pytest.raises(weights.ModelFileError, match="git lfs pull"):
        weights.load_model("resnet_14.keras")            # a shipped file's bare name
    # the path of a damaged file is not checked by weights_path without verify=True:
    assert weights.weights_path("denoiser") == weights_copy / "denoiser.keras"


def test_missing_shipped_file_is_still_a_file_not_found_error(weights_copy):
    (weights_copy / "degradation.json").unlink()
    with pytest.raises(FileNotFoundError) as err:
        weights.load_json("degradation.json")
    assert isinstance(err.value, weights.ModelFileError) and "file not found" in str(err.value)
    assert weights.RECORDS["degradation.json"] in str(err.value)


def test_checksum_is_computed_once_per_file(weights_copy):
    path = weights_copy / "resnet_14.json"
    weights.verify(path)
    hits = weights._sha256.cache_info().hits
    weights.verify(path)
    assert weights._sha256.cache_info().hits == hits + 1
    damage(path, "flipped")                              # same size: a new mtime is a new key
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with pytest.raises(weights.ModelFileError, match="wrong checksum"):
        weights.verify(path)


@pytest.mark.parametrize("how, problem", [("truncated", "not a zip archive"),
                                          ("empty", "empty (0 bytes)"),
                                          ("lfs_pointer", "git lfs pull"),
                                          ("flipped", "Keras could not read the model (BadZipFile")])
def test_damaged_file_given_by_path_gets_a_clear_error(tmp_path, how, problem):
    path = tmp_path / "mine.keras"                       # not a shipped file: no checksum
    shutil.copy(weights.WEIGHTS_DIR / "denoiser.keras", path)
    damage(path, how)
    with pytest.raises(weights.ModelFileError) as err:
        weights.load_model(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and problem in message, message
    assert "check the path" in message and "data/weights" not in message


def test_doctor_reports_a_damaged_model_with_the_restore_command(weights_copy):
    damage(weights_copy / "lenet5_classic.keras", "flipped")
    damage(weights_copy / "resnet_14.json", "lfs_pointer")
    report = doctor_module.Report(doctor_module._model_checks(load=False))  # the doctor's lines
    bad = report["model lenet5_classic.keras"]
    assert bad.status == "PROBLEM" and "wrong checksum" in bad.detail
    assert "`git checkout -- data/weights/lenet5_classic.keras`" in bad.fix
    assert weights.SHIPPED["lenet5_classic"] in bad.fix
    assert "git lfs pull" in report["record resnet_14.json"].fix
    assert report["model lenet5_modern.keras"].status == "ok"
    assert report["record degradation.json"].detail == "verified"
    assert not report.ok


def test_a_shipped_model_made_again_opens(weights_copy):
    path = weights_copy / "denoiser.keras"
    weights.save_model(denoise.build_denoiser(seed=1), path)   # what train-denoiser does
    model = weights.load_model("denoiser")
    assert model.count_params() == 29569
    (weights_copy / weights.MADE_AGAIN).unlink()                 # forget it: now it is a stranger
    with pytest.raises(weights.ModelFileError, match="wrong checksum"):
        weights.load_model("denoiser")


# ================================================================= case 2: inputs too small

def keras_side(steps, side):
    """Keras's own output side after (kernel, stride, padding) steps, on symbolic tensors."""
    x = keras.KerasTensor((1, side, side, 1))
    try:
        for kernel, stride, padding in steps:
            x = keras.ops.max_pool(x, kernel, strides=stride, padding=padding)
    except ValueError:                                   # Keras refuses a window larger than its input
        return 0
    return x.shape[1]


@pytest.mark.parametrize("build, shape, minimum, steps", [
    (models.build_mnist_cnn, (8, 8, 1), 10, models.mnist_cnn._MNIST_STEPS),
    (classic.build_alexnet, (32, 32, 3), 67, classic._ALEXNET_STEPS),
    (classic.build_vgg16, (16, 16, 3), 32, classic._VGG_STEPS),
])
def test_builder_refuses_an_input_too_small_and_says_the_minimum(build, shape, minimum, steps):
    message = raises_naming(ValueError, "input_shape", build, input_shape=shape)
    assert f"at least {minimum}x{minimum} pixels" in message, message
    assert keras_side(steps, minimum) >= 1 and keras_side(steps, minimum - 1) in (0, None)


def test_smallest_mnist_cnn_builds_and_one_pixel_less_does_not():
    model = models.build_mnist_cnn(input_shape=(10, 10, 1))
    assert tuple(model.get_layer("pool2").output.shape[1:]) == (1, 1, 64)
    raises_naming(ValueError, "input_shape", models.build_mnist_cnn, input_shape=(10, 9, 1))


@pytest.mark.parametrize("call, argument", [
    (lambda: models.build_mnist_cnn(input_shape=(28, 28, 0)), "input_shape"),
    (lambda: models.build_mnist_cnn(input_shape=(28.0, 28, 1)), "input_shape"),
    (lambda: models.build_mnist_cnn(input_shape="28x28"), "input_shape"),
    (lambda: models.build_mnist_cnn(dropout=math.nan), "dropout"),
    (lambda: models.build_mnist_cnn(seed=2**40), "seed"),
    (lambda: models.build_mnist_cnn(n_classes=10**6), "n_classes"),
    (lambda: classic.build_alexnet(input_shape=(10**5, 10**5, 3)), "input_shape"),
    (lambda: classic.build_nin(input_shape=(32, 32)), "input_shape"),
    (lambda: classic.build_nin(n_classes=10**6), "n_classes"),
    (lambda: classic.build_inception_3a(input_shape=(28, 28, -1)), "input_shape"),
    (lambda: classic.build_inception_3a(reduce="no"), "reduce"),
    (lambda: classic.inception_module(None, name="3a"), "x"),
    (lambda: classic.inception_module(keras.Input((8, 8, 4)), (1,) * 6, name=""), "name"),
    (lambda: classic.inception_module(keras.Input((8, 8, 4)), (10**6,) * 6, name="a"), "filters"),
    (lambda: lenet.build_lenet5(variant=None), "variant"),
    (lambda: lenet.build_lenet5(name=5), "name"),
    (lambda: resnet.residual_block(np.ones(3), 4, name="b"), "x"),
    (lambda: resnet.residual_block(keras.Input((8, 8, 4)), 10**6, name="b"), "filters"),
    (lambda: resnet.plain_block(keras.Input((8, 8, 4)), 4, stride=10**6, name="b"), "stride"),
    (lambda: resnet.bottleneck_block(keras.Input((8, 8, 4)), 4, name="b", batch_norm="yes"),
     "batch_norm"),
    (lambda: resnet.stage_sizes(None), "depth"),
    (lambda: resnet.build_plain(8, input_shape=(28, 28)), "input_shape"),
    (lambda: resnet.build_resnet(8, n_classes=1), "n_classes"),
    (lambda: denoise.build_denoiser(seed=-1), "seed"),
    (lambda: style.build_feature_network(seed=1.5), "seed"),
])
def test_builders_check_every_size_argument_up_front(call, argument):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert f"`{argument}`" in str(err.value), str(err.value)


# ================================================================= case 3: networks too deep or wide

def test_resnet_1202_is_refused_at_once():
    message = raises_naming(ValueError, "depth", resnet.build_resnet, depth=1202)
    assert "at most 110" in message
    raises_naming(ValueError, "depth", resnet.build_plain, depth=1202)
    raises_naming(ValueError, "depth", resnet.build_resnet, depth=1199, block="bottleneck")


def test_huge_widths_are_refused_before_building():
    message = raises_naming(ValueError, "widths", resnet.build_resnet, 8, widths=(10**5,) * 3)
    assert "parameters" in message and "150,000,000" in message
    raises_naming(ValueError, "widths", resnet.build_plain, 6, widths=(16, 10**6))


def test_network_size_estimate_matches_keras(tiny_resnet):
    assert resnet.network_params(1, (2, 2, 2), 1, 10, "basic", True) == tiny_resnet.count_params()


# ================================================================= case 4: mismatched labels

def test_evaluate_helpers_check_labels_images_and_batch_size(tiny_resnet):
    x, y = np.zeros((4, 28, 28), np.uint8), np.zeros(4, np.uint8)
    for evaluate in (train.evaluate, resnet.evaluate):
        message = raises_naming(ValueError, "y", evaluate, tiny_resnet, x, y[:3])
        assert "shape (4,)" in message and "one label per image" in message
        message = raises_naming(ValueError, "y", evaluate, tiny_resnet, x, np.array([0, 1, 2, 10]))
        assert "0..9" in message
        raises_naming(TypeError, "y", evaluate, tiny_resnet, x, ["a"] * 4)
        raises_naming(ValueError, "y", evaluate, tiny_resnet, x, np.full(4, 0.5))
        raises_naming(ValueError, "batch_size", evaluate, tiny_resnet, x, y, batch_size=0)
        message = raises_naming(ValueError, "x", evaluate, tiny_resnet, np.zeros((4, 32, 32)), y)
        assert "(N, 28, 28, 1)" in message
        raises_naming(TypeError, "model", evaluate, "resnet", x, y)
    raises_naming(ValueError, "batch_size", train.predict_classes, tiny_resnet, x, batch_size=0)
    raises_naming(ValueError, "x", train.predict_classes, tiny_resnet, np.zeros((0, 28, 28)))


def test_tiny_cnn_checks_labels_and_images():
    net = tinycnn.TinyCNN(filters=2, image_size=8)
    x, y = np.zeros((4, 8, 8, 1)), np.zeros(4, int)
    assert net.accuracy(x, y) == float(np.mean(net.predict(x) == y))
    raises_naming(ValueError, "y", net.accuracy, x, y[:3])
    raises_naming(ValueError, "y", net.accuracy, x, np.array([0, 0, 0, 10]))
    raises_naming(ValueError, "y", net.loss_and_grads, x, np.array([0, -1, 0, 0]))
    raises_naming(ValueError, "x", net.predict, np.zeros((4, 8, 8)))
    raises_naming(ValueError, "batch_size", tinycnn.train, net, x, y,
                  cnnlab.optim.SGD(0.1), batch_size=0, log=None)
    raises_naming(ValueError, "y", tinycnn.train, net, x, y[:2], cnnlab.optim.SGD(0.1), log=None)
    raises_naming(ValueError, "epochs", tinycnn.train, net, x, y, cnnlab.optim.SGD(0.1),
                  epochs=10**6, log=None)


# ================================================================= case 5: pixels scaled twice

def test_prepare_functions_agree_on_raw_and_prepared_pixels():
    raw = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    expected = pixels_reference(raw)
    for prepare in (resnet.prepare_images, lenet.prepare_images, denoise.to_images):
        once = prepare(raw)
        np.testing.assert_array_equal(once, expected)
        np.testing.assert_array_equal(prepare(once), once)                 # idempotent
        np.testing.assert_array_equal(prepare(raw.astype(np.float64)), once)   # float 0-255
        np.testing.assert_array_equal(prepare(raw[0]), once[:1])           # one image
        assert once.dtype == np.float32 and once.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(tinycnn.to_images(raw), raw[..., None] / 255.0)


@pytest.mark.parametrize("bad, says", [
    (np.full((2, 28, 28), 300.0), "up to 300"),
    (np.full((2, 28, 28), -0.5), "down to -0.5"),
    (np.full((2, 28, 28), 256, np.int64), "up to 256"),
    (np.full((2, 28, 28), np.nan), "finite"),
    (np.full((2, 28, 28), 1.0000001), "just above 1"),
    (np.zeros((2, 28, 28, 3)), "one channel"),
    (np.zeros((2, 2, 28, 28, 1)), "dimensions"),
    (np.array([["a"]]), "numbers"),
])
def test_prepare_functions_refuse_what_is_not_pixels(bad, says):
    for prepare in (resnet.prepare_images, lenet.prepare_images, denoise.to_images):
        with pytest.raises((ValueError, TypeError), match=says) as err:
            prepare(bad)
        assert "`x`" in str(err.value)


def test_shipped_resnet_scores_the_same_on_raw_and_prepared_images():
    model = weights.load_model("resnet_14")
    _, (x_raw, y) = data.load_fashion_mnist(limit=(1, 200))
    loss_raw, accuracy_raw = resnet.evaluate(model, x_raw, y)              # uint8 0-255
    twice = resnet.prepare_images(resnet.prepare_images(x_raw))            # [0, 1], prepared twice
    loss, accuracy = resnet.evaluate(model, twice, y, batch_size=128)
    assert (loss_raw, accuracy_raw) == pytest.approx((loss, accuracy), abs=1e-6)
    assert accuracy > 0.85                                # 92.9 % on all 10,000 (11 % before)


# ================================================================= case 6: public argument names

def test_layer_outputs_names_its_own_argument(lenet_modern):
    message = raises_naming(ValueError, "images", lenet.layer_outputs, lenet_modern,
                            images=np.zeros((2, 32, 32)))
    assert "`x`" not in message
    raises_naming(ValueError, "images", lenet.layer_outputs, lenet_modern, np.full((28, 28), -1))
    raises_naming(TypeError, "names", lenet.layer_outputs, lenet_modern, np.zeros((28, 28)), 5)
    out = lenet.layer_outputs(lenet_modern, np.zeros((1, 28, 28, 1), np.uint8), names="C1")
    assert out["C1"].shape == (1, 28, 28, 6)


# ================================================================= case 7: training arguments

@pytest.mark.parametrize("kwargs, argument", [
    (dict(epochs=0), "epochs"), (dict(epochs=10**6), "epochs"), (dict(epochs=2.0), "epochs"),
    (dict(batch_size=0), "batch_size"), (dict(batch_size=10**6), "batch_size"),
    (dict(peak_lr=math.nan), "peak_lr"), (dict(peak_lr=5.0), "peak_lr"),
    (dict(limit=-1), "limit"), (dict(limit=10**6), "limit"), (dict(seed=2**40), "seed"),
    (dict(verbose=7), "verbose"), (dict(out=5), "out"), (dict(out="model.h5"), "out"),
])
def test_train_lenet5_checks_before_loading(kwargs, argument):
    with no_training():
        raises_naming((ValueError, TypeError), argument, train.train_lenet5, **kwargs)


@pytest.mark.parametrize("fn, kwargs, argument", [
    (resnet.train_resnet, dict(depth=1202), "depth"),
    (resnet.train_resnet, dict(epochs=0), "epochs"),
    (resnet.train_resnet, dict(limit=10**6), "limit"),
    (resnet.train_resnet, dict(limit=(64, 10)), "batch_size"),
    (resnet.train_resnet, dict(label_smoothing=1.0), "label_smoothing"),
    (resnet.train_resnet, dict(peak_lr=0), "peak_lr"),
    (resnet.train_resnet, dict(weight_decay=-1), "weight_decay"),
    (resnet.train_resnet, dict(max_shift=100), "max_shift"),
    (resnet.train_resnet, dict(augment="yes"), "augment"),
    (resnet.degradation_experiment, dict(depths=20), "depths"),
    (resnet.degradation_experiment, dict(depths=(20, 1202)), "depths"),
    (resnet.degradation_experiment, dict(seeds=(-1,)), "seeds"),
    (resnet.degradation_experiment, dict(seeds=()), "seeds"),
    (resnet.degradation_experiment, dict(limit=(10, 10)), "limit"),
    (resnet.degradation_experiment, dict(epochs=10**4), "epochs"),
    (denoise.train_denoiser, dict(n_train=10**6), "n_train"),
    (denoise.train_denoiser, dict(noise=math.inf), "noise"),
    (denoise.train_denoiser, dict(batch_size=0), "batch_size"),
    (denoise.train_denoiser, dict(seed=-1), "seed"),
    (style.train_style_features, dict(epochs=0), "epochs"),
    (style.train_style_features, dict(n_train=0), "n_train"),
    (style.train_style_features, dict(verbose=-1), "verbose"),
])
def test_training_functions_check_before_loading(fn, kwargs, argument):
    with no_training():
        raises_naming((ValueError, TypeError), argument, fn, **kwargs)


def test_resnet_train_checks_images_labels_and_recipe(tiny_resnet):
    x, y = np.zeros((8, 28, 28), np.uint8), np.arange(8) % 10
    with no_training():
        raises_naming(ValueError, "y_train", resnet.train, tiny_resnet, x, y[:7], x, y, epochs=1)
        raises_naming(ValueError, "y_test", resnet.train, tiny_resnet, x, y, x, y + 5, epochs=1)
        raises_naming(ValueError, "x_test", resnet.train, tiny_resnet, x, y, x * 0.0 - 1, y,
                      epochs=1)
        raises_naming(ValueError, "batch_size", resnet.train, tiny_resnet, x, y, x, y, epochs=1)
        raises_naming(ValueError, "epochs", resnet.train, tiny_resnet, x, y, x, y, epochs=0,
                      batch_size=4)
        with pytest.raises(Reached):                   # raw uint8 images are accepted
            resnet.train(tiny_resnet, x, y, x, y, epochs=1, batch_size=4)


@pytest.mark.parametrize("main, argv, says", [
    (train.main, ["lenet5", "--epochs", "100000"], "--epochs must be at most 1000"),
    (train.main, ["lenet5", "--seed", str(2**40)], "--seed must be at most"),
    (train.main, ["resnet", "--limit", "1000000"], "--limit must be at most 60000"),
    (train.main, ["resnet", "--depth", "1202"], "--depth must be at most 110"),
    (train.main, ["resnet", "--limit", "100"], "--batch-size 128 is larger than the 100"),
    (train.main, ["resnet", "--lr", "5"], "--lr must be at most 1"),
    (train.main, ["resnet", "--widths", "100000,100000,100000"], "--widths"),
    (train.main, ["degradation", "--seeds", "0,-1"], "--seeds must be at least 0"),
    (train.main, ["degradation", "--limit", "99999999"], "--limit must be at most 60000"),
    (train.main, ["denoiser", "--n-train", "0"], "--n-train must be between 1 and 60000"),
    (train.main, ["style-features", "--epochs", "-3"], "--epochs must be between"),
    (train.main, ["denoiser", "--out", "model.h5"], "--out must be a file path ending"),
])
def test_command_lines_refuse_bad_options_before_training(main, argv, says, capsys):
    with no_training():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "usage:" in err, err


def test_command_line_refuses_an_argv_that_is_not_a_list():
    raises_naming(TypeError, "argv", train.main, "lenet5 --fast")
    raises_naming(TypeError, "argv", train.main, ["resnet", None])


# ================================================================= case 8: names, paths, helpers

@pytest.mark.parametrize("bad, error", [("", ValueError), ("a/b", ValueError),
                                        ("x.h5", ValueError), ("nul\x00.keras", ValueError),
                                        (None, TypeError), (b"denoiser", TypeError),
                                        ("no_such_model", FileNotFoundError)])
def test_load_model_refuses_hostile_names(bad, error):
    message = raises_naming(error, "name_or_path", weights.load_model, bad)
    if bad == "no_such_model":
        assert "lenet5_modern" in message           # lists the shipped models


def test_save_model_refuses_hostile_paths(tmp_path, chain):
    (tmp_path / "folder.keras").mkdir()
    (tmp_path / "file").write_text("x")
    for bad, error in ((5, TypeError), (tmp_path / "x.h5", ValueError),
                       (tmp_path / "folder.keras", ValueError),
                       (tmp_path / "file" / "x.keras", ValueError), ("a\x00.keras", ValueError)):
        raises_naming(error, "path", weights.save_model, chain, bad)
    raises_naming(TypeError, "model", weights.save_model, "model", tmp_path / "x.keras")
    for bad in ("", "..", "a\\b", 3):
        raises_naming((ValueError, TypeError), "name", weights.weights_path, bad)
    raises_naming(TypeError, "verify", weights.weights_path, "denoiser", verify="yes")


def test_model_helpers_refuse_hostile_input(tiny_resnet, lenet_modern, chain):
    x = np.zeros((2, 28, 28, 1), np.float32)
    raises_naming(ValueError, "x", resnet.branch_ratios, tiny_resnet, np.zeros((2, 28, 28, 3)))
    raises_naming(ValueError, "model", resnet.branch_ratios, lenet_modern, x)
    raises_naming(ValueError, "y", resnet.gradient_norms, tiny_resnet, x, [1])
    raises_naming(ValueError, "y", resnet.gradient_norms, tiny_resnet, x, [1, 99])
    raises_naming(ValueError, "x", models.forward_numpy, chain, np.zeros((0, 6, 6, 1)))
    raises_naming(TypeError, "steps", models.forward_numpy, chain, np.zeros((1, 6, 6, 1)),
                  steps="all")
    raises_naming(TypeError, "names", lenet.probe_model, lenet_modern, 5)
    raises_naming(ValueError, "names", lenet.probe_model, lenet_modern, [])
    raises_naming(TypeError, "model", classic.model_table, None)
    raises_naming(ValueError, "model", classic.model_table, keras.Sequential([keras.layers.Dense(2)]))
    raises_naming(TypeError, "model", classic.multiply_adds, 5)
    raises_naming(TypeError, "rows", classic.format_table, 5)
    raises_naming(TypeError, "total", classic.format_table, classic.model_table(chain), total=3)
    raises_naming(TypeError, "model", style.feature_extractor, None, ["conv1"])
    raises_naming(TypeError, "layer_names", style.feature_extractor, chain, [1])


def test_style_and_denoise_helpers_refuse_hostile_input():
    raises_naming(ValueError, "size", style.stripes, size=10**6)
    raises_naming(ValueError, "angle", style.stripes, angle=math.nan)
    raises_naming(TypeError, "features", style.gram_matrix, None)
    raises_naming(ValueError, "features", style.gram_matrix, np.ones((1, 1, 2**17)))
    raises_naming(ValueError, "features", style.content_loss, np.ones((1, 2, 2, 1)),
                  np.ones((1, 3, 3, 1)))
    raises_naming(TypeError, "features", style.style_loss, 5, [])
    raises_naming(ValueError, "features", style.style_loss, [np.ones((3, 3))], [np.ones((1, 1))])
    raises_naming(ValueError, "target_grams", style.style_loss, [np.ones((1, 2, 2, 3))],
                  [np.ones((1, 2, 2))])
    raises_naming(ValueError, "noise", denoise.add_noise, np.ones((2, 2)), math.nan)
    raises_naming(ValueError, "images", denoise.add_noise, np.full((2, 2), 255.0))
    raises_naming(ValueError, "data_range", denoise.psnr, np.ones(3), np.zeros(3),
                  data_range=math.inf)
    raises_naming(ValueError, "data_range", denoise.psnr, np.ones(3), np.zeros(3),
                  data_range=1e300)
    raises_naming(ValueError, "a", denoise.mse, np.full(3, 1e300), np.zeros(3))
    raises_naming(ValueError, "a", denoise.mse, np.zeros(0), np.zeros(0))


# ================================================================= hostile sweeps (hypothesis)

def _sweep(fn, kwargs, argument, value, reference=None):
    """Call fn with kwargs, `argument` replaced by a hostile value; check a result by reference."""
    kind, result = assert_clear_or_reached(fn, **{**kwargs, argument: value})
    if kind == "ok" and reference is not None:
        reference(result, value)
    return kind


BUILDERS = {   # builder: (valid arguments, the arguments to attack, a check of a result)
    "build_mnist_cnn": (models.build_mnist_cnn, {}, ("seed", "input_shape", "n_classes",
                                                     "dropout")),
    "build_alexnet": (classic.build_alexnet, {}, ("n_classes", "input_shape", "name")),
    "build_vgg16": (classic.build_vgg16, {}, ("n_classes", "input_shape", "name")),
    "build_nin": (classic.build_nin, {"input_shape": (8, 8, 1)}, ("n_classes", "input_shape",
                                                                  "name")),
    "build_inception_3a": (classic.build_inception_3a, {"input_shape": (4, 4, 8)},
                           ("reduce", "input_shape", "name")),
    "build_lenet5": (lenet.build_lenet5, {}, ("variant", "name", "seed")),
    "build_resnet": (resnet.build_resnet, {"depth": 8, "widths": (2, 2, 2)},
                     ("depth", "widths", "input_shape", "n_classes", "name", "batch_norm",
                      "block", "seed")),
    "build_plain": (resnet.build_plain, {"depth": 8, "widths": (2, 2, 2)},
                    ("depth", "widths", "n_classes", "batch_norm")),
    "build_denoiser": (denoise.build_denoiser, {}, ("seed",)),
    "build_feature_network": (style.build_feature_network, {}, ("seed",)),
}


@contextmanager
def no_building():
    """Builders check every argument before their first keras.Input: stop there."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(keras, "Input", _stop)
        yield


@pytest.mark.parametrize("label", list(BUILDERS))
@SOME
@given(data_=st.data())
def test_builders_answer_hostile_arguments_clearly(label, data_):
    fn, kwargs, arguments = BUILDERS[label]
    argument = data_.draw(st.sampled_from(arguments), label="argument")
    value = data_.draw(hostile_values, label="value")
    with no_building():
        _sweep(fn, kwargs, argument, value)


@pytest.mark.parametrize("build, kwargs", [
    (resnet.build_resnet, dict(depth=8, widths=(1, 2, 3), input_shape=(1, 2, 3), name="3",
                               n_classes=2, seed=10**6)),
    (classic.build_nin, dict(input_shape=(1, 2, 3), n_classes=2, name="abc")),
    (lenet.build_lenet5, dict(name="3", seed=2**32 - 1)),
])
def test_hostile_values_the_builders_accept_do_build(build, kwargs):
    assert isinstance(build(**kwargs), keras.Model)


@FEW
@given(value=hostile_values, which=st.sampled_from(["x", "filters", "stride", "name",
                                                    "batch_norm", "seed"]),
       block=st.sampled_from([resnet.residual_block, resnet.plain_block,
                              resnet.bottleneck_block]))
def test_blocks_answer_hostile_arguments_clearly(value, which, block):
    kwargs = {"x": keras.Input((4, 4, 2)), "filters": 2, "name": "b"}
    _sweep(block, kwargs, which, value)


@FEW
@given(value=hostile_values, which=st.sampled_from(["x", "filters", "name", "reduce"]))
def test_inception_module_answers_hostile_arguments_clearly(value, which):
    kwargs = {"x": keras.Input((4, 4, 3)), "filters": (1, 1, 1, 1, 1, 1), "name": "m"}
    _sweep(classic.inception_module, kwargs, which, value)


@SOME
@given(value=hostile_values, which=st.sampled_from(["depth", "n_stages", "block"]))
def test_stage_sizes_answers_hostile_arguments_clearly(value, which):
    kwargs = {"depth": 20, "n_stages": 3, "block": "basic"}
    kind = _sweep(resnet.stage_sizes, kwargs, which, value)
    if kind == "ok" and which == "depth":
        assert 6 * resnet.stage_sizes(**{**kwargs, which: value}) + 2 == value


@SOME
@given(value=hostile_values)
def test_prepare_functions_answer_hostile_images_clearly(value):
    for prepare in (resnet.prepare_images, lenet.prepare_images, denoise.to_images):
        kind, result = assert_clear(prepare, value)
        if kind == "ok":
            np.testing.assert_array_equal(result, pixels_reference(value))
    kind, result = assert_clear(tinycnn.to_images, value)
    if kind == "ok":
        np.testing.assert_allclose(result, pixels_reference(value), rtol=1e-6)


def _training_sweep():
    x, y = np.zeros((8, 28, 28), np.uint8), np.arange(8) % 10
    return {
        "train_lenet5": (train.train_lenet5, {"epochs": 1},
                         ("variant", "epochs", "batch_size", "peak_lr", "limit", "seed",
                          "verbose", "out")),
        "train_resnet": (resnet.train_resnet, {"depth": 8, "epochs": 1},
                         ("depth", "widths", "epochs", "limit", "batch_size", "peak_lr",
                          "weight_decay", "label_smoothing", "augment", "max_shift", "seed",
                          "verbose", "name", "plain")),
        "degradation_experiment": (resnet.degradation_experiment, {},
                                   ("depths", "widths", "epochs", "limit", "batch_norm",
                                    "peak_lr", "seeds", "verbose")),
        "train_denoiser": (denoise.train_denoiser, {},
                           ("n_train", "epochs", "noise", "batch_size", "seed", "verbose")),
        "train_style_features": (style.train_style_features, {},
                                 ("n_train", "epochs", "batch_size", "seed", "verbose")),
        "train": (resnet.train, {"x_train": x, "y_train": y, "x_test": x, "y_test": y,
                                 "epochs": 1, "batch_size": 4},
                  ("x_train", "y_train", "x_test", "y_test", "epochs", "batch_size", "peak_lr",
                   "weight_decay", "label_smoothing", "augment", "max_shift", "seed",
                   "verbose")),
    }


TRAINING = _training_sweep()


@pytest.mark.parametrize("label", list(TRAINING))
@SOME
@given(data_=st.data())
def test_training_functions_answer_hostile_arguments_before_training(label, data_, tiny_resnet):
    fn, kwargs, arguments = TRAINING[label]
    argument = data_.draw(st.sampled_from(arguments), label="argument")
    value = data_.draw(hostile_values, label="value")
    if label == "train":
        kwargs = {**kwargs, "model": tiny_resnet}
    with no_training():
        _sweep(fn, kwargs, argument, value)


@FEW
@given(value=hostile_values, command=st.sampled_from([None, *train.MODELS]))
def test_command_line_answers_hostile_argv(value, command):
    argv = [command, *value] if command is not None and isinstance(value, list) else value
    with no_training():
        kind, result = assert_clear_or_reached(train.main, argv)
    if kind == "ok":
        assert result == 2                                  # never a traceback, never training


@SOME
@given(value=hostile_values, which=st.sampled_from(["x", "y", "batch_size"]),
       evaluate=st.sampled_from([train.evaluate, resnet.evaluate]))
def test_evaluate_answers_hostile_arguments_clearly(value, which, evaluate, tiny_resnet):
    kwargs = {"model": tiny_resnet, "x": np.zeros((4, 28, 28), np.uint8), "y": np.zeros(4, int)}
    _sweep(evaluate, kwargs, which, value)


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "x"]),
       fn=st.sampled_from(["predict_classes", "branch_ratios", "gradient_norms"]))
def test_model_helpers_answer_hostile_arguments_clearly(value, which, fn, tiny_resnet):
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    call = {"predict_classes": train.predict_classes, "branch_ratios": resnet.branch_ratios,
            "gradient_norms": resnet.gradient_norms}[fn]
    kwargs = {"model": tiny_resnet, "x": x, **({"y": [0, 1]} if fn == "gradient_norms" else {})}
    _sweep(call, kwargs, which, value)


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "x", "steps"]))
def test_forward_numpy_answers_hostile_arguments_and_matches_keras(value, which, chain):
    kwargs = {"model": chain, "x": np.ones((1, 6, 6, 1)), "steps": False}
    kind, result = assert_clear(models.forward_numpy, **{**kwargs, which: value})
    if kind == "ok" and which == "x":
        np.testing.assert_allclose(result, np.asarray(chain(np.asarray(value, np.float32))),
                                   atol=1e-5)


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "names", "images"]))
def test_lenet_helpers_answer_hostile_arguments_clearly(value, which, lenet_modern):
    args = {"model": lenet_modern, "images": np.zeros((28, 28)), "names": ["C1"], which: value}
    # positional: assert_clear has a `names` argument of its own
    kind, out = assert_clear(lenet.layer_outputs, args["model"], args["images"], args["names"])
    if kind == "ok":
        assert list(out) == ([args["names"]] if isinstance(args["names"], str) else
                             list(args["names"]))
    if which != "images":
        assert_clear(lenet.probe_model, args["model"], args["names"])


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "compact", "rows", "total"]))
def test_table_helpers_answer_hostile_arguments_clearly(value, which, chain):
    if which in ("model", "compact"):
        kwargs = {"model": chain, "compact": True}
        kind, rows = assert_clear(classic.model_table, **{**kwargs, which: value})
        if kind == "ok":
            assert sum(r.params for r in rows) == chain.count_params()
        if which == "model":
            assert_clear(classic.multiply_adds, value)
    else:
        kwargs = {"rows": classic.model_table(chain), "total": True}
        assert_clear(classic.format_table, **{**kwargs, which: value})


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "layer_names"]))
def test_feature_extractor_answers_hostile_arguments_clearly(value, which, chain):
    kwargs = {"model": chain, "layer_names": [chain.layers[1].name]}
    assert_clear(style.feature_extractor, **{**kwargs, which: value})


@SOME
@given(value=hostile_values)
def test_gram_matrix_answers_hostile_features_and_matches_einsum(value):
    kind, result = assert_clear(style.gram_matrix, value)
    if kind == "ok":
        f = np.asarray(value, dtype=np.float64)
        np.testing.assert_allclose(result, np.einsum("...ijc,...ijd->...cd", f, f)
                                   / (f.shape[-3] * f.shape[-2]))


@SOME
@given(value=hostile_values, which=st.sampled_from(["features", "target"]))
def test_content_loss_answers_hostile_arguments_and_matches_numpy(value, which):
    kwargs = {"features": np.ones((1, 4, 4, 1)), "target": np.zeros((1, 4, 4, 1))}
    kind, result = assert_clear(style.content_loss, **{**kwargs, which: value})
    if kind == "ok":
        a = np.asarray({**kwargs, which: value}["features"], np.float64)
        b = np.asarray({**kwargs, which: value}["target"], np.float64)
        np.testing.assert_allclose(float(result), np.mean((a - b) ** 2), rtol=1e-6)


@SOME
@given(value=hostile_values, which=st.sampled_from(["features", "target_grams"]))
def test_style_loss_answers_hostile_arguments_clearly(value, which):
    kwargs = {"features": [np.ones((1, 4, 4, 4))], "target_grams": [np.ones((1, 4, 4))]}
    assert_clear(style.style_loss, **{**kwargs, which: value})


@SOME
@given(value=hostile_scalars, which=st.sampled_from(["size", "period", "angle"]))
def test_stripes_answers_hostile_arguments_clearly(value, which):
    kind, result = assert_clear(style.stripes, **{"size": 8, "period": 4, "angle": 0.0,
                                                  which: value})
    if kind == "ok":
        assert result.min() >= 0 and result.max() <= 1 + 1e-12


@SOME
@given(value=hostile_values, which=st.sampled_from(["images", "noise", "seed"]))
def test_add_noise_answers_hostile_arguments_clearly(value, which):
    kwargs = {"images": np.full((4, 4), 0.5), "noise": 0.5, "seed": 0}
    kind, result = assert_clear(denoise.add_noise, **{**kwargs, which: value})
    if kind == "ok" and result.size:
        assert result.dtype == np.float32 and result.min() >= 0 and result.max() <= 1


@SOME
@given(value=hostile_values, which=st.sampled_from(["a", "b", "data_range"]))
def test_mse_and_psnr_answer_hostile_arguments_and_match_numpy(value, which):
    a, b = np.linspace(0, 1, 16).reshape(4, 4), np.full((4, 4), 0.25)
    if which != "data_range":
        kwargs = {"a": a, "b": b, which: value}
        kind, result = assert_clear(denoise.mse, **kwargs)
        if kind == "ok":
            diff = np.asarray(kwargs["a"], np.float64) - np.asarray(kwargs["b"], np.float64)
            np.testing.assert_allclose(result, np.mean(diff ** 2))
    kind, result = assert_clear(denoise.psnr, a, b, **({"data_range": value}
                                                       if which == "data_range" else {}))
    if kind == "ok" and which == "data_range":
        assert np.isclose(result, 10 * np.log10(value ** 2 / np.mean((a - b) ** 2)))


@SOME
@given(value=hostile_values, which=st.sampled_from(["x", "y"]),
       method=st.sampled_from(["accuracy", "loss_and_grads", "predict", "forward"]))
def test_tiny_cnn_methods_answer_hostile_arguments_clearly(value, which, method):
    net = tinycnn.TinyCNN(filters=2, image_size=4)
    kwargs = {"x": np.ones((2, 4, 4, 1)), "y": np.array([0, 1])}
    if method in ("predict", "forward"):
        if which == "y":
            return
        kwargs.pop("y")
    assert_clear(getattr(net, method), **{**kwargs, which: value})


@SOME
@given(value=hostile_scalars, which=st.sampled_from(["filters", "kernel_size", "image_size",
                                                     "n_classes", "seed"]))
def test_tiny_cnn_constructor_answers_hostile_arguments_clearly(value, which):
    kwargs = {"filters": 2, "kernel_size": 3, "image_size": 4}
    assert_clear(tinycnn.TinyCNN, **{**kwargs, which: value})


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "x", "y", "optimizer", "epochs",
                                                    "batch_size", "seed", "validation", "log"]))
def test_tiny_cnn_train_answers_hostile_arguments_clearly(value, which):
    net = tinycnn.TinyCNN(filters=1, image_size=4)
    kwargs = {"model": net, "x": np.ones((2, 4, 4, 1)), "y": np.array([0, 1]),
              "optimizer": cnnlab.optim.SGD(0.1), "epochs": 1, "batch_size": 2, "log": None}
    assert_clear(tinycnn.train, **{**kwargs, which: value})


@SOME
@given(value=hostile_values, fn=st.sampled_from([weights.load_model, weights.load_json,
                                                 weights.verify, denoise.load_denoiser,
                                                 style.load_style_features]))
def test_loaders_answer_hostile_names_clearly(value, fn):
    assert_clear(fn, value)


@SOME
@given(value=hostile_values, which=st.sampled_from(["name", "verify"]))
def test_weights_path_answers_hostile_arguments_clearly(value, which):
    kind, path = assert_clear(weights.weights_path, **{"name": "denoiser", which: value})
    if kind == "ok":
        assert path.parent == weights.WEIGHTS_DIR


@SOME
@given(value=hostile_values, which=st.sampled_from(["model", "path"]))
def test_save_model_answers_hostile_arguments_clearly(value, which, chain, tmp_path_factory):
    kwargs = {"model": chain, "path": tmp_path_factory.getbasetemp() / "never.keras"}
    kind, _ = assert_clear(weights.save_model, **{**kwargs, which: value})
    assert kind == "error"                                # every hostile value is refused


@SOME
@given(value=hostile_scalars.filter(lambda v: not isinstance(v, bool)),
       which=st.sampled_from(["tensorflow", "quiet"]))
def test_doctor_answers_hostile_flags_clearly(value, which):
    kind, _ = assert_clear(doctor_module.doctor, **{"tensorflow": False, "quiet": True,
                                                    which: value})
    assert kind == "error"


@SOME
@given(value=hostile_values, which=st.sampled_from(["depth_radius", "bias", "alpha", "beta"]))
def test_custom_layers_answer_hostile_options_clearly(value, which):
    assert_clear(classic.LocalResponseNormalization, **{which: value})
    if which == "depth_radius":
        assert_clear(lenet.Subsampling, pool_size=value)
        assert_clear(lenet.Subsampling, activation=value)
        assert_clear(lenet.TableConv2D, table=value)
        assert_clear(lenet.TableConv2D, table=np.ones((2, 2)), kernel_size=value)


@SOME
@given(value=hostile_values, which=st.sampled_from(["n_classes", "dropout"]))
def test_mnist_cnn_layers_answers_hostile_arguments_and_matches_the_model(value, which):
    kind, layers = assert_clear(models.mnist_cnn_layers, **{which: value})
    if kind == "ok":
        assert layers[-1][1]["units"] == (value if which == "n_classes" else 10)


def test_sweeps_reach_the_training_functions_with_valid_arguments():
    """The stop in no_training() is reached only after every argument passed its check."""
    with no_training():
        for label, (fn, kwargs, _) in TRAINING.items():
            if label != "train":
                assert assert_clear_or_reached(fn, **kwargs)[0] == "reached", label
