"""Lesson 12's transfer learning (cnnlab.train.transfer): labelled subsets, reused bases, frozen layers."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlab
from cnnlab import models
from cnnlab.train import evaluate, transfer

cnnlab.setup(keras=True)


def tiny_digits(n=40, seed=0):
    """``n`` random 28x28 uint8 images with balanced labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), np.arange(n) % 10


# ----------------------------------------------------------------- few_per_class

def test_few_per_class_is_balanced_seeded_and_sorted_by_class():
    labels = np.random.default_rng(3).integers(0, 10, size=500)
    chosen = transfer.few_per_class(labels, 7, seed=5)
    assert chosen.shape == (70,) and chosen.dtype == np.int64
    assert len(set(chosen.tolist())) == 70                            # no example twice
    np.testing.assert_array_equal(labels[chosen], np.repeat(np.arange(10), 7))
    for c in range(10):
        part = chosen[7 * c:7 * c + 7]
        assert np.all(np.diff(part) > 0)                              # increasing within a class
    np.testing.assert_array_equal(chosen, transfer.few_per_class(labels, 7, seed=5))
    assert not np.array_equal(chosen, transfer.few_per_class(labels, 7, seed=6))


def test_few_per_class_takes_every_example_when_asked_for_all():
    labels = np.array([1, 0, 1, 0, 2, 2])
    np.testing.assert_array_equal(transfer.few_per_class(labels, 2), [1, 3, 0, 2, 4, 5])


@pytest.mark.parametrize("labels, per_class, error, match", [
    ([0, 1, 1], 2, ValueError, "class 0 has only 1"),
    ([0, 1], 0, ValueError, "per_class"),
    ([0, 1], 1.5, TypeError, "per_class"),
    ([[0, 1]], 1, ValueError, "flat"),
    ([], 1, ValueError, "flat"),
    ([0, -1], 1, ValueError, "labels"),
    ([0.5, 1], 1, ValueError, "labels"),
    (None, 1, ValueError, "labels"),
])
def test_few_per_class_bad_input(labels, per_class, error, match):
    with pytest.raises(error, match=match):
        transfer.few_per_class(labels, per_class)


# ----------------------------------------------------------------- reuse_base

def test_reuse_base_copies_the_base_only_and_leaves_the_source_alone():
    source = models.build_mnist_cnn(seed=0)
    before = [w.copy() for w in source.get_weights()]
    reused = transfer.reuse_base(source, seed=1)
    fresh = models.build_mnist_cnn(seed=1)
    for name in transfer.BASE_LAYERS:
        for a, b in zip(reused.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    for name in ("dense", "output"):                                  # the new head: seed 1's
        for a, b in zip(reused.get_layer(name).get_weights(), fresh.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(reused.get_layer("dense").get_weights()[0],
                              source.get_layer("dense").get_weights()[0])
    assert all(layer.trainable for layer in reused.layers)
    for a, b in zip(source.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_reuse_base_bad_input():
    source = models.build_mnist_cnn(seed=0)
    with pytest.raises(ValueError, match="'conv9'"):
        transfer.reuse_base(source, layers=("conv1", "conv9"))
    with pytest.raises(TypeError, match="layers"):
        transfer.reuse_base(source, layers="conv1")
    with pytest.raises(TypeError, match="pretrained"):
        transfer.reuse_base("a model")


# ----------------------------------------------------------------- train_few

def test_train_few_changes_only_trainable_layers_and_lowers_the_loss():
    x, y = tiny_digits()
    model = transfer.reuse_base(models.build_mnist_cnn(seed=0), seed=1)
    for name in transfer.BASE_LAYERS:
        model.get_layer(name).trainable = False
    base = [model.get_layer(n).get_weights()[0].copy() for n in transfer.BASE_LAYERS]
    head = model.get_layer("output").get_weights()[0].copy()
    losses = transfer.train_few(model, x, y, epochs=8, batch_size=10)
    assert losses.shape == (8,) and losses[-1] < losses[0]
    for name, w in zip(transfer.BASE_LAYERS, base):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0], w)
    assert not np.array_equal(model.get_layer("output").get_weights()[0], head)
    model.get_layer("conv1").trainable = True                       # unfrozen: now it moves
    transfer.train_few(model, x, y, epochs=1, batch_size=10, learning_rate=1e-4)
    assert not np.array_equal(model.get_layer("conv1").get_weights()[0], base[0])
    np.testing.assert_array_equal(model.get_layer("conv2").get_weights()[0], base[1])


def test_train_few_is_seeded():
    x, y = tiny_digits()
    runs = []
    for _ in range(2):
        model = models.build_mnist_cnn(seed=2)
        runs.append(transfer.train_few(model, x, y, epochs=2, batch_size=10, seed=4))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs"),
    ({"learning_rate": 0}, ValueError, "learning_rate"),
    ({"batch_size": 41}, ValueError, "batch_size"),
    ({"y": np.arange(39) % 10}, ValueError, "y"),
    ({"x": np.zeros((40, 20, 20))}, ValueError, "x"),
])
def test_train_few_bad_input(kwargs, error, match):
    x, y = tiny_digits()
    args = {"x": x, "y": y, **kwargs}
    with pytest.raises(error, match=match):
        transfer.train_few(models.build_mnist_cnn(seed=0), args.pop("x"), args.pop("y"), **args)


# ----------------------------------------------------------------- pretrain_fashion, three_ways

def test_pretrain_fashion_learns_clothes_and_three_ways_scores_all_three():
    result = transfer.pretrain_fashion(1024, 1, n_test=500, verbose=0)
    assert len(result.history) == 1 and result.history[0].test_accuracy > 0.3   # 10 % is guessing
    x, y = tiny_digits(20)
    scores = transfer.three_ways(result.model, x, y, x, y, epochs=2, fine_tune_epochs=1)
    assert list(scores) == ["scratch", "frozen base", "fine-tuned"]
    assert all(0 <= a <= 1 for a in scores.values())
    by_hand = models.build_mnist_cnn(seed=1)                          # the scratch network, again
    transfer.train_few(by_hand, x, y, epochs=2)
    assert scores["scratch"] == pytest.approx(evaluate(by_hand, x, y))


@pytest.mark.parametrize("kwargs, match", [
    ({"n_train": 60001}, "n_train"), ({"n_test": 0}, "n_test"), ({"n_test": 10001}, "n_test"),
    ({"n_train": 100, "batch_size": 101}, "batch_size"), ({"peak_lr": 0}, "peak_lr"),
    ({"epochs": 0}, "epochs"),
])
def test_pretrain_fashion_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        transfer.pretrain_fashion(**kwargs)
