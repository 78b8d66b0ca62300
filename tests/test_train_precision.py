"""Mixed precision, fused batch norm and digit shifts in the training recipes (lessons 09 and 11)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnlab.models.lenet import build_lenet5
from cnnlab.train import loop, precision, train_lenet5
from cnnlab.train.augment import augment_images


def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path):
    with_flag = tmp_path / "with"
    with_flag.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 fma\n")
    amx = tmp_path / "amx"
    amx.write_text("flags\t: fpu amx_bf16 amx_tile\n")
    without = tmp_path / "without"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f fma\nbugs\t: avx512_bf16\n")
    assert precision.bfloat16_supported(with_flag) and precision.bfloat16_supported(amx)
    assert not precision.bfloat16_supported(without)
    assert not precision.bfloat16_supported(tmp_path / "missing")


def test_auto_precision_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(precision, "bfloat16_supported", lambda: True)
    assert precision.resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(precision, "bfloat16_supported", lambda: False)
    assert precision.resolve_precision("auto") == "float32"
    assert precision.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision"):
        precision.resolve_precision("float16")


def test_dtype_policy_is_put_back_even_after_an_error():
    before = keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with precision.dtype_policy("mixed_bfloat16"):
            assert build_lenet5("modern").get_layer("C1").compute_dtype == "bfloat16"
            raise RuntimeError("inside")
    assert keras.config.dtype_policy().name == before == "float32"


def test_a_mixed_precision_model_is_handed_on_in_float32():
    with precision.dtype_policy("mixed_bfloat16"):
        mixed = build_lenet5("modern", seed=3)
    x = np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)
    y = np.arange(6) % 10
    trained = loop.TrainResult(mixed, [loop.EpochLog(1, 2.0, 0.1, 2.0, 0.1, 1.0)])
    result = precision.hand_back(trained, build_lenet5("modern", seed=0), x, y)
    handed = result.model
    assert handed is not mixed
    assert all(layer.compute_dtype == "float32" for layer in handed.layers)
    for a, b in zip(mixed.get_weights(), handed.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.asarray(handed(x)), np.asarray(mixed(x), dtype=np.float32),
                               atol=0.05)   # bfloat16 keeps about 3 significant digits
    assert result.history[-1].test_accuracy == loop.evaluate(handed, x, y)
    assert result.history[-1].loss == 2.0 and result.history[-1].seconds == 1.0


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_train_lenet5_returns_a_float32_model_in_either_precision(precision):
    result = train_lenet5("modern", 1, limit=(512, 200), precision=precision, verbose=0)
    assert all(layer.compute_dtype == "float32" for layer in result.model.layers)
    assert keras.config.dtype_policy().name == "float32"
    last = result.history[-1]
    from cnnlab import data

    _, (x_test, y_test) = data.load_mnist((512, 200))
    assert last.test_accuracy == pytest.approx(loop.evaluate(result.model, x_test, y_test))


@pytest.mark.parametrize("kwargs, argument", [
    ({"precision": "float16"}, "precision"), ({"precision": 32}, "precision"),
    ({"max_shift": 5}, "max_shift"), ({"max_shift": -1}, "max_shift"),
    ({"max_shift": 1.5}, "max_shift"),
])
def test_train_lenet5_rejects_bad_recipe_changes(kwargs, argument):
    with pytest.raises((ValueError, TypeError), match=argument):
        train_lenet5("modern", 1, limit=(512, 200), verbose=0, **kwargs)


@pytest.mark.parametrize("seed", range(12))
def test_augment_images_matches_one_window_per_image(seed):
    """The offset-by-offset copy gives what slicing each image's own window gives."""
    rng = np.random.default_rng(seed)
    n, h, w, c = (int(v) for v in rng.integers(1, 9, size=4))
    x = rng.random((n, h, w, c)).astype(np.float32)
    s, flip = int(rng.integers(0, min(h, w) + 1)), bool(seed % 2)
    out = augment_images(x, np.random.default_rng(seed), max_shift=s, flip=flip)
    draws = np.random.default_rng(seed)
    rows, cols = draws.integers(0, 2 * s + 1, size=n), draws.integers(0, 2 * s + 1, size=n)
    mirror = draws.random(n) < 0.5 if flip else np.zeros(n, bool)
    padded = np.pad(x, ((0, 0), (s, s), (s, s), (0, 0)))
    for i in range(n):
        want = padded[i, rows[i]:rows[i] + h, cols[i]:cols[i] + w]
        np.testing.assert_array_equal(out[i], want[:, ::-1] if mirror[i] else want)


@pytest.mark.parametrize("seed", range(6))
def test_windows_cut_each_images_own_shift(seed):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    s = int(rng.integers(1, 4))
    b, h, w, c = int(rng.integers(1, 7)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), 2
    padded = rng.random((b, h + 2 * s, w + 2 * s, c)).astype(np.float32)
    offsets = rng.integers(0, 2 * s + 1, size=(b, 2)).astype(np.int32)
    got = np.asarray(loop.windows(tf.constant(padded), tf.constant(offsets), h, w))
    assert got.shape == (b, h, w, c)
    for i, (r, q) in enumerate(offsets):
        np.testing.assert_array_equal(got[i], padded[i, r:r + h, q:q + w])


def test_batch_shift_changes_training_but_stays_seeded():
    plain = train_lenet5("modern", 1, limit=(512, 200), max_shift=0, precision="float32", verbose=0)
    shifted = train_lenet5("modern", 1, limit=(512, 200), max_shift=2, precision="float32",
                           verbose=0)
    again = train_lenet5("modern", 1, limit=(512, 200), max_shift=2, precision="float32", verbose=0)
    assert shifted.history[0].loss != pytest.approx(plain.history[0].loss, rel=1e-6)
    assert shifted.history[0].loss == pytest.approx(again.history[0].loss, rel=1e-4)
