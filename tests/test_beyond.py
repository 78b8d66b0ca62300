"""Lesson 12's models and losses (cnnlab.denoise, cnnlab.style), the course map and its figures.

The ``denoiser`` and ``style-features`` subcommands of ``python -m cnnlab.train``
are tested in tests/test_train.py.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

import cnnlab
from cnnlab import course, data, denoise, kernels, plot, style, weights

matplotlib.use("Agg")
CHECK = settings(max_examples=40, deadline=None, derandomize=True)


# --------------------------------------------------------------------------
# Gram matrix and the style-transfer losses
# --------------------------------------------------------------------------

def gram_by_loops(f):
    h, w, c = f.shape
    g = np.zeros((c, c))
    for i in range(h):
        for j in range(w):
            for a in range(c):
                for b in range(c):
                    g[a, b] += f[i, j, a] * f[i, j, b]
    return g / (h * w)


@CHECK
@given(h=st.integers(1, 5), w=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 999))
def test_gram_matrix_matches_loops_for_arrays_and_tensors(h, w, c, seed):
    f = np.random.default_rng(seed).normal(size=(h, w, c))
    np.testing.assert_allclose(style.gram_matrix(f), gram_by_loops(f), rtol=1e-10, atol=1e-12)
    batch = np.stack([f, 2 * f])  # (2, H, W, C)
    got = np.asarray(style.gram_matrix(tf.constant(batch, tf.float64)))
    np.testing.assert_allclose(got, [gram_by_loops(f), 4 * gram_by_loops(f)], rtol=1e-10, atol=1e-12)


def test_gram_matrix_ignores_where_features_are():
    f = np.random.default_rng(0).normal(size=(4, 4, 3))
    shuffled = f.reshape(16, 3)[np.random.default_rng(1).permutation(16)].reshape(4, 4, 3)
    np.testing.assert_allclose(style.gram_matrix(shuffled), style.gram_matrix(f))


def test_gram_matrix_bad_input():
    with pytest.raises(ValueError, match="`features` must have 3 or 4 dimensions"):
        style.gram_matrix(np.ones((3, 3)))
    with pytest.raises(ValueError, match="`features` must have 3 or 4 dimensions"):
        style.gram_matrix(tf.ones((3, 3)))


def test_losses_match_numpy_and_give_gradients():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(1, 4, 4, 2)), rng.normal(size=(1, 4, 4, 2))
    assert np.isclose(float(style.content_loss(a, b)), np.mean((a - b) ** 2))
    targets = [gram_by_loops(b[0])[None]]
    expected = np.mean((gram_by_loops(a[0]) - targets[0][0]) ** 2)
    assert np.isclose(float(style.style_loss([tf.constant(a)], targets)), expected)
    image = tf.Variable(a)
    with tf.GradientTape() as tape:
        loss = style.style_loss([image], targets)
    assert float(tf.reduce_sum(tf.abs(tape.gradient(loss, image)))) > 0


def test_style_loss_needs_one_target_per_layer():
    with pytest.raises(ValueError, match="one entry per style layer"):
        style.style_loss([tf.ones((1, 2, 2, 1))], [])


def test_stripes():
    s = style.stripes(32, period=8, angle=0)
    assert s.shape == (32, 32) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_allclose(s[:, 0], s[:, 8])          # period 8 across columns
    np.testing.assert_allclose(s[0], s[5])                # vertical stripes: rows equal
    with pytest.raises(ValueError, match="`period` must be at least 2"):
        style.stripes(32, period=1)
    with pytest.raises(TypeError, match="`angle` must be a number"):
        style.stripes(32, angle="45")


# --------------------------------------------------------------------------
# Denoising helpers
# --------------------------------------------------------------------------

def test_psnr_matches_tensorflow():
    rng = np.random.default_rng(4)
    a = rng.uniform(size=(28, 28, 1)).astype(np.float32)
    b = np.clip(a + 0.1 * rng.normal(size=a.shape), 0, 1).astype(np.float32)
    expected = float(tf.image.psnr(a, b, max_val=1.0))
    assert np.isclose(denoise.psnr(b, a), expected, rtol=1e-5)
    assert denoise.psnr(a, a) == float("inf")


def test_mse_and_psnr_bad_input():
    with pytest.raises(ValueError, match="`a` and `b` must have the same shape"):
        denoise.mse(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="`data_range` must be a positive number"):
        denoise.psnr(np.ones(3), np.zeros(3), data_range=0)


def test_add_noise_is_seeded_and_clipped():
    clean = np.full((2, 28, 28, 1), 0.5, dtype=np.float32)
    first, again = denoise.add_noise(clean, seed=3), denoise.add_noise(clean, seed=3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, denoise.add_noise(clean, seed=4))
    assert first.min() >= 0 and first.max() <= 1 and first.dtype == np.float32
    assert abs(float(np.std(first - clean)) - 0.5 * 0.68) < 0.05   # clipping shrinks the spread
    with pytest.raises(ValueError, match="`noise` must be a number >= 0"):
        denoise.add_noise(clean, -1)


def test_to_images():
    pixels = np.full((3, 28, 28), 255, dtype=np.uint8)
    out = denoise.to_images(pixels)
    assert out.shape == (3, 28, 28, 1) and out.dtype == np.float32 and out.max() == 1
    assert denoise.to_images(np.zeros((28, 28))).shape == (1, 28, 28, 1)
    with pytest.raises(ValueError, match="`x` must have one channel"):
        denoise.to_images(np.zeros((1, 28, 28, 3)))


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def test_denoiser_decoder_is_cnnlab_conv_transpose2d():
    cnnlab.setup(keras=True)
    model = denoise.build_denoiser(seed=1)
    assert model.count_params() == 29569
    x = np.random.default_rng(0).uniform(size=(2, 7, 7, 32)).astype(np.float32)
    layer = model.get_layer("dec1")
    w, b = layer.get_weights()                      # (4, 4, C_out, C_in)
    ours = kernels.relu(kernels.conv_transpose2d(x, w.transpose(0, 1, 3, 2), b, stride=2, padding="same"))
    np.testing.assert_allclose(ours, np.asarray(layer(x)), atol=1e-5)


def test_shipped_denoiser_removes_noise():
    model = denoise.load_denoiser()
    (_, _), (x, _) = data.load_mnist(limit=(1, 200))
    clean = denoise.to_images(x)
    noisy = denoise.add_noise(clean, seed=9)
    assert denoise.psnr(np.asarray(model(noisy)), clean) > denoise.psnr(noisy, clean) + 6


def test_shipped_feature_network_classifies_and_takes_any_size():
    net = style.load_style_features()
    (_, _), (x, y) = data.load_fashion_mnist(limit=(1, 500))
    accuracy = np.mean(np.argmax(net(x[..., None] / 255.0), axis=1) == y)
    assert accuracy > 0.7
    extractor = style.feature_extractor(net, [*style.STYLE_LAYERS, style.CONTENT_LAYER])
    maps = extractor(np.zeros((1, 64, 48, 1), np.float32))
    assert [tuple(m.shape) for m in maps] == [(1, 64, 48, 16), (1, 64, 48, 16), (1, 32, 24, 32),
                                              (1, 32, 24, 32)]


def test_feature_extractor_unknown_layer():
    net = style.build_feature_network()
    with pytest.raises(ValueError, match=r"no layer named \['conv9'\]"):
        style.feature_extractor(net, ["conv1", "conv9"])
    with pytest.raises(ValueError, match="non-empty list of layer names"):
        style.feature_extractor(net, "conv1")


def test_missing_model_file_says_how_to_make_it(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m cnnlab.train denoiser"):
        denoise.load_denoiser()
    with pytest.raises(ValueError, match="`name` must be a model name"):
        weights.weights_path("a/b")


def test_training_lives_in_cnnlab_train_and_is_reachable_here():
    from cnnlab.train import denoise as denoise_training
    from cnnlab.train import style as style_training

    assert denoise.train_denoiser is denoise_training.train_denoiser
    assert style.train_style_features is style_training.train_style_features
    with pytest.raises(AttributeError, match="no attribute 'train'"):
        denoise.train


# --------------------------------------------------------------------------
# Course map and figures
# --------------------------------------------------------------------------

def test_course_lessons_are_ordered_and_build_on_earlier_ones():
    numbers = [lesson.number for lesson in course.LESSONS]
    assert numbers == [f"{i:02d}" for i in range(13)]
    for lesson in course.LESSONS:
        assert lesson.part in course.PARTS
        assert all(need < lesson.number for need in lesson.needs)
    assert course.lesson(12).title == "Beyond classification" == course.lesson("12").title
    with pytest.raises(ValueError, match="`number` must be one of"):
        course.lesson(13)


def test_draw_course_map_has_a_box_per_lesson_and_an_arrow_per_prerequisite():
    ax = plot.draw_course_map()
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert len(boxes) == len(course.LESSONS)
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == sum(len(lesson.needs) for lesson in course.LESSONS)
    matplotlib.pyplot.close("all")


def test_show_image_grid():
    rows = [np.zeros((4, 8, 8, 1)), np.ones((4, 8, 8))]
    fig = plot.show_image_grid(rows, row_labels=["a", "b"], titles=list("wxyz"))
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 8 and panels[0].get_title() == "w"
    assert len(fig.axes) == 9               # and one colour bar: black = 0, white = 1
    with pytest.raises(ValueError, match="rows of the same number"):
        plot.show_image_grid([np.zeros((4, 8, 8)), np.zeros((3, 8, 8))])
    with pytest.raises(ValueError, match="`titles` must hold 4 strings"):
        plot.show_image_grid(rows, titles=["x"])
    matplotlib.pyplot.close("all")
