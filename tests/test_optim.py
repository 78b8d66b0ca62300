"""cnnlab.optim and cnnlab.regularise checked against Keras, and the lesson 08 plots.

Optimisers: the same gradients go to our optimiser and to Keras's; after
every step the parameters must agree. Keras turns plain Python constants
into float32 (0.999 becomes 0.99900001), so the tight comparisons use
hyper-parameters that float32 holds exactly; the defaults are compared at
the lesson's tolerance.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnlab import optim, plot, regularise  # noqa: E402

CHECK = settings(max_examples=40, deadline=None, derandomize=True)

# (ours, Keras) with constants that float32 represents exactly
EXACT_PAIRS = {
    "sgd": (lambda: optim.SGD(lr=0.125), lambda: keras.optimizers.SGD(learning_rate=0.125)),
    "momentum": (lambda: optim.Momentum(lr=0.0625, beta=0.875),
                 lambda: keras.optimizers.SGD(learning_rate=0.0625, momentum=0.875)),
    "rmsprop": (lambda: optim.RMSProp(lr=0.015625, beta=0.75, eps=2.0 ** -20),
                lambda: keras.optimizers.RMSprop(learning_rate=0.015625, rho=0.75, epsilon=2.0 ** -20)),
    "adam": (lambda: optim.Adam(lr=0.03125, beta1=0.875, beta2=0.9990234375, eps=2.0 ** -24),
             lambda: keras.optimizers.Adam(learning_rate=0.03125, beta_1=0.875, beta_2=0.9990234375,
                                           epsilon=2.0 ** -24)),
}
# (ours, Keras) with the usual defaults
DEFAULT_PAIRS = {
    "sgd": (lambda: optim.SGD(lr=0.01), lambda: keras.optimizers.SGD(learning_rate=0.01)),
    "momentum": (lambda: optim.Momentum(lr=0.01), lambda: keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)),
    "rmsprop": (lambda: optim.RMSProp(lr=0.001), lambda: keras.optimizers.RMSprop(learning_rate=0.001)),
    "adam": (lambda: optim.Adam(lr=0.001), lambda: keras.optimizers.Adam(learning_rate=0.001, epsilon=1e-8)),
}


def run_both(pair, shapes, steps, seed):
    """Parameters after every step, ours and Keras's, from the same gradients."""
    ours, theirs = pair[0](), pair[1]()
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    variables = [keras.Variable(p.copy(), dtype="float64") for p in params]
    history = []
    for _ in range(steps):
        grads = [rng.normal(size=s) for s in shapes]
        ours.step(params, grads)
        theirs.apply_gradients([(tf.constant(g), v) for g, v in zip(grads, variables)])
        history.append([(p.copy(), v.numpy()) for p, v in zip(params, variables)])
    return history


@pytest.mark.parametrize("name", sorted(EXACT_PAIRS))
def test_optimiser_steps_equal_keras_exactly(name):
    for step in run_both(EXACT_PAIRS[name], [(3, 4), (5,)], steps=6, seed=1):
        for ours, theirs in step:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(DEFAULT_PAIRS))
def test_optimiser_steps_equal_keras_with_defaults(name):
    for step in run_both(DEFAULT_PAIRS[name], [(2, 3, 3)], steps=5, seed=2):
        for ours, theirs in step:
            np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_optimisers_accept_dicts_and_keep_state_per_parameter():
    params = {"a": np.ones(2), "b": np.zeros((2, 2))}
    opt = optim.Adam(lr=0.1)
    opt.step(params, {"b": np.ones((2, 2)), "a": -np.ones(2)})
    # Adam's first step is lr * sign(g) (up to eps)
    np.testing.assert_allclose(params["a"], 1.1, rtol=1e-6)
    np.testing.assert_allclose(params["b"], -0.1, rtol=1e-6)
    assert opt.iterations == 1 and len(opt.state) == 2


def test_momentum_velocity_builds_up():
    w = np.zeros(1)
    opt = optim.Momentum(lr=1.0, beta=0.5)
    steps = []
    for _ in range(4):
        before = w.copy()
        opt.step([w], [np.ones(1)])
        steps.append(float(before[0] - w[0]))
    assert steps == [1.0, 1.5, 1.75, 1.875]  # 1 + 0.5 + 0.25 + ...: up to 1 / (1 - beta) = 2


def test_rmsprop_step_size_does_not_depend_on_gradient_scale():
    small, large = np.zeros(1), np.zeros(1)
    a, b = optim.RMSProp(lr=0.01, eps=1e-20), optim.RMSProp(lr=0.01, eps=1e-20)
    for _ in range(3):
        a.step([small], [np.full(1, 1e-3)])
        b.step([large], [np.full(1, 1e3)])
    np.testing.assert_allclose(small, large, rtol=1e-6)


@CHECK
@given(st.integers(1, 200), st.integers(1, 64), st.integers(0, 2**32 - 1))
def test_minibatches_cover_every_example_once(n, batch_size, seed):
    batches = optim.minibatches(n, batch_size, np.random.default_rng(seed))
    assert len(batches) == -(-n // batch_size)
    assert all(len(b) == batch_size for b in batches[:-1]) and 1 <= len(batches[-1]) <= batch_size
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(n))


def test_minibatches_batch_and_stochastic_and_order():
    assert [b.tolist() for b in optim.minibatches(5, 2)] == [[0, 1], [2, 3], [4]]
    assert len(optim.minibatches(10, 10)) == 1  # batch gradient descent
    assert len(optim.minibatches(10, 1)) == 10  # stochastic gradient descent
    rng = np.random.default_rng(0)
    first, second = optim.minibatches(20, 20, rng)[0], optim.minibatches(20, 20, rng)[0]
    assert not np.array_equal(first, second)  # a new order every epoch


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------

def test_inverted_dropout_keeps_the_expectation():
    a = np.linspace(-2, 5, 12)
    rng = np.random.default_rng(0)
    outs, masks = zip(*(regularise.inverted_dropout(a, 0.8, rng) for _ in range(20000)))
    outs, masks = np.array(outs), np.array(masks)
    assert abs(masks.mean() - 0.8) < 0.01
    # standard error of each mean: |a| * sqrt(0.8 * 0.2) / 0.8 / sqrt(20000) < 0.0177
    np.testing.assert_allclose(outs.mean(axis=0), a, atol=0.08)
    # every unit is either dropped or scaled by 1 / keep_prob
    np.testing.assert_allclose(outs, np.where(masks, a / 0.8, 0))


def test_inverted_dropout_matches_keras_scaling():
    a = np.arange(1.0, 101.0).astype(np.float32)
    keras_out = np.asarray(keras.layers.Dropout(rate=0.2, seed=3)(a, training=True))
    kept = keras_out != 0
    np.testing.assert_allclose(keras_out[kept], a[kept] / 0.8, rtol=1e-6)
    ours, mask = regularise.inverted_dropout(a, 0.8, np.random.default_rng(3))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours[mask], a[mask] / 0.8, rtol=1e-6)


def test_dropout_keep_prob_one_changes_nothing():
    a = np.random.default_rng(1).normal(size=(3, 4))
    out, mask = regularise.inverted_dropout(a, 1.0, np.random.default_rng(0))
    assert mask.all()
    np.testing.assert_array_equal(out, a)


# --------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 5, 6, 3)])
@pytest.mark.parametrize("momentum, eps", [(0.99, 1e-3), (0.9, 1e-5)])
def test_batch_norm_matches_keras_in_both_modes(shape, momentum, eps):
    rng = np.random.default_rng(len(shape))
    x = rng.normal(2.0, 3.0, size=shape)
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean0, var0 = rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    bn = keras.layers.BatchNormalization(momentum=momentum, epsilon=eps, dtype="float64")
    bn.build(shape)
    bn.set_weights([gamma, beta, mean0, var0])
    common = dict(momentum=momentum, eps=eps)
    out, mean1, var1 = regularise.batch_norm_forward(
        x, gamma, beta, training=True, running_mean=mean0, running_var=var0, **common)
    np.testing.assert_allclose(out, bn(x, training=True).numpy(), atol=1e-10)
    np.testing.assert_allclose(mean1, bn.moving_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(var1, bn.moving_variance.numpy(), atol=1e-12)
    out, mean2, var2 = regularise.batch_norm_forward(
        x, gamma, beta, training=False, running_mean=mean1, running_var=var1, **common)
    np.testing.assert_allclose(out, bn(x, training=False).numpy(), atol=1e-10)
    np.testing.assert_array_equal(mean2, mean1)
    np.testing.assert_array_equal(var2, var1)


def test_batch_norm_training_output_is_standardised_per_channel():
    x = np.random.default_rng(0).normal([1.0, -5.0, 30.0], [0.5, 2.0, 10.0], size=(64, 3))
    out, _, _ = regularise.batch_norm_forward(
        x, np.ones(3), np.zeros(3), training=True, running_mean=np.zeros(3), running_var=np.ones(3), eps=1e-12)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-9)


# --------------------------------------------------------------------------
# Plots introduced in lesson 08
# --------------------------------------------------------------------------

def test_plot_loss_curves_smooths_and_uses_epochs():
    ax = plot.plot_loss_curves({"a": [4.0, 2.0, 0.0, 2.0], "b": [1.0, 1.0]}, smooth=2,
                               steps_per_epoch={"a": 2, "b": 1})
    (la, lb) = ax.get_lines()
    np.testing.assert_allclose(la.get_ydata(), [3.0, 1.0, 1.0])
    np.testing.assert_allclose(la.get_xdata(), [1.0, 1.5, 2.0])
    np.testing.assert_allclose(lb.get_xdata(), [2.0])
    assert ax.get_xlabel() == "epoch" and "mean of 2" in ax.get_ylabel()
    plt.close(ax.figure)


def test_plot_descent_paths_draws_every_path():
    path = np.array([[0.0, 0.0], [0.5, 0.2], [1.0, 0.5]])
    ax = plot.plot_descent_paths(lambda w, b: w ** 2 + 10 * b ** 2, {"gd": path}, xlim=(-1, 2),
                                 ylim=(-1, 1), minimum=(0, 0))
    gd = [line for line in ax.get_lines() if line.get_label() == "gd"][0]
    np.testing.assert_array_equal(gd.get_xydata(), path)
    assert {line.get_label() for line in ax.get_lines()} >= {"start", "minimum"}
    plt.close(ax.figure)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize("call, exception, message", [
    (lambda: optim.SGD(lr=0), ValueError, r"`lr` must be positive"),
    (lambda: optim.SGD(lr="0.1"), TypeError, r"`lr` must be a finite number"),
    (lambda: optim.Momentum(0.1, beta=1.0), ValueError, r"`beta` must be in \[0, 1\)"),
    (lambda: optim.Adam(beta2=-0.1), ValueError, r"`beta2`"),
    (lambda: optim.RMSProp(0.1, eps=0), ValueError, r"`eps` must be positive"),
    (lambda: optim.SGD(0.1).step([np.ones(2)], [np.ones(3)]), ValueError,
     r"`grads\[0\]` must have the shape of its parameter \(2,\)"),
    (lambda: optim.SGD(0.1).step([np.ones(2)], [np.ones(2), np.ones(2)]), ValueError, r"`grads` must be a list"),
    (lambda: optim.SGD(0.1).step({"w": np.ones(2)}, {"v": np.ones(2)}), ValueError, r"`grads` must be a dict"),
    (lambda: optim.SGD(0.1).step([[1.0, 2.0]], [np.ones(2)]), TypeError, r"`params\[0\]` must be a float numpy array"),
    (lambda: optim.SGD(0.1).step(np.ones(2), np.ones(2)), TypeError, r"`params` must be a list or a dict"),
    (lambda: optim.SGD(0.1).step([np.ones(2)], [[np.nan, 1.0]]), ValueError, r"`grads\[0\]` must hold finite"),
    (lambda: optim.minibatches(0, 2), ValueError, r"`n` must be at least 1"),
    (lambda: optim.minibatches(5, 0), ValueError, r"`batch_size` must be at least 1"),
    (lambda: optim.minibatches(5, 2, rng=0), TypeError, r"`rng` must be a numpy.random.Generator"),
    (lambda: regularise.inverted_dropout(np.ones(3), 0.0, np.random.default_rng()), ValueError,
     r"`keep_prob` must be in \(0, 1\]"),
    (lambda: regularise.inverted_dropout(np.ones(3), 0.8, 0), TypeError, r"`rng`"),
    (lambda: regularise.batch_norm_forward(np.ones((2, 3)), np.ones(2), np.zeros(3), training=True,
                                           running_mean=np.zeros(3), running_var=np.ones(3)),
     ValueError, r"`gamma` must have shape \(3,\)"),
    (lambda: regularise.batch_norm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), training=1,
                                           running_mean=np.zeros(3), running_var=np.ones(3)),
     TypeError, r"`training` must be True or False"),
    (lambda: regularise.batch_norm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), training=True,
                                           running_mean=np.zeros(3), running_var=np.ones(3), momentum=1.5),
     ValueError, r"`momentum`"),
    (lambda: regularise.batch_norm_forward(np.ones((2, 2, 3)), np.ones(3), np.zeros(3), training=True,
                                           running_mean=np.zeros(3), running_var=np.ones(3)),
     ValueError, r"`x` must have 2 or 4"),
    (lambda: plot.plot_loss_curves([1.0, 2.0]), TypeError, r"`curves` must be a non-empty dict"),
    (lambda: plot.plot_loss_curves({"a": [1.0]}, steps_per_epoch={"b": 1}), ValueError, r"`steps_per_epoch`"),
    (lambda: plot.plot_descent_paths(lambda w, b: w, {"p": np.ones((3, 3))}, xlim=(0, 1), ylim=(0, 1)),
     ValueError, r"`paths\['p'\]` must have shape"),
    (lambda: plot.plot_descent_paths(lambda w, b: w, {}, xlim=(0,), ylim=(0, 1)), ValueError, r"`xlim`"),
])
def test_bad_input_names_the_argument(call, exception, message):
    with pytest.raises(exception, match=message):
        call()
    plt.close("all")


def test_optimiser_refuses_a_different_set_of_parameters():
    opt = optim.Adam()
    opt.step([np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"`params` must be the same arrays on every step"):
        opt.step([np.ones(3)], [np.ones(3)])
