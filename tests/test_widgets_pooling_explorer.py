"""Pooling in lesson 05: the pooling explorer, driven headlessly by setting ``.value``, and
the picture it draws (``plot.show_pooling`` on ``steps.pooling_layout``)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from cnnlab import data, plot, steps  # noqa: E402
from cnnlab.widgets import CUSTOM, PoolingExplorer  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None)      # each example builds a figure


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")



# ----------------------------------------------------------------- references

def window_plan(n, size, stride, padding):
    """(before, out) along one axis for Keras pooling."""
    if padding == "valid":
        return 0, (n - size) // stride + 1
    out = math.ceil(n / stride)
    return max((out - 1) * stride + size - n, 0) // 2, out


def reference_pool(x, size, stride, padding, kind):
    """Loops over Keras's windows; padded cells are skipped. Also the first argmax of each window."""
    (top, h_out), (left, w_out) = (window_plan(n, size, stride, padding) for n in x.shape)
    out = np.zeros((h_out, w_out))
    winners = np.zeros((h_out, w_out, 2), int)
    for i in range(h_out):
        for j in range(w_out):
            r0, c0 = i * stride - top, j * stride - left
            rows = range(max(r0, 0), min(r0 + size, x.shape[0]))
            cols = range(max(c0, 0), min(c0 + size, x.shape[1]))
            cells = [(r, c) for r in rows for c in cols]
            values = [x[r, c] for r, c in cells]
            out[i, j] = {"max": max, "sum": sum, "avg": lambda v: sum(v) / len(v)}[kind](values)
            winners[i, j] = cells[int(np.argmax(values))]
    return out, winners


def winner_cells(ax, pads=((0, 0), (0, 0))):
    (top, _), (left, _) = pads
    found = [p for p in ax.patches if p.get_gid() == "winner"]
    return sorted((int(p.get_y()) - top, int(p.get_x()) - left) for p in found)


# ----------------------------------------------------------------- show_pooling

@SETTINGS
@given(arrays(np.float64, st.tuples(st.integers(2, 8), st.integers(2, 8)),
              elements=st.integers(0, 9).map(float)),
       st.integers(1, 3), st.integers(1, 3), st.sampled_from(["valid", "same"]))
def test_show_pooling_highlights_the_argmax_of_every_window(x, size, stride, padding):
    if padding == "valid" and size > min(x.shape):
        return
    ref, winners = reference_pool(x, size, stride, padding, "max")
    ax = plot.show_pooling(x, pool_size=size, stride=stride, padding=padding)
    layout = steps.pooling_layout(x, size, stride, padding, "max")
    assert winner_cells(ax, layout.pads) == sorted(map(tuple, winners.reshape(-1, 2)))
    outputs = sorted((t for t in ax.texts if t.get_gid() == "output"),
                     key=lambda t: (round(t.get_position()[1], 6), t.get_position()[0]))
    np.testing.assert_allclose([float(t.get_text()) for t in outputs], ref.ravel())
    plt.close(ax.figure)


@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_show_pooling_shades_every_window_for_avg_and_sum(kind):
    x = np.arange(36.0).reshape(6, 6)
    ax = plot.show_pooling(x, pool_size=3, stride=2, padding="same", kind=kind, fmt="{:.4g}")
    ref, _ = reference_pool(x, 3, 2, "same", kind)
    windows = [p for p in ax.patches if p.get_gid() == "window"]
    assert len(windows) == ref.size
    assert not [p for p in ax.patches if p.get_gid() == "winner"]
    values = sorted((t for t in ax.texts if t.get_gid() == "output"),
                    key=lambda t: (round(t.get_position()[1], 6), t.get_position()[0]))
    np.testing.assert_allclose([float(t.get_text()) for t in values], ref.ravel(), rtol=1e-3)
    assert ax.get_title() == f"{kind} pooling 3x3, stride 2, same: 6x6 → 3x3"


def test_show_pooling_shades_a_digit_and_outlines_only_real_winners():
    digit = data.digit(0)
    ax = plot.show_pooling(digit)
    assert not [t for t in ax.texts if t.get_gid() in ("input", "output")]
    ref, winners = reference_pool(digit, 2, 2, "valid", "max")
    non_flat = [tuple(w) for (i, j), w in zip(np.ndindex(ref.shape), winners.reshape(-1, 2))
                if np.ptp(digit[2 * i:2 * i + 2, 2 * j:2 * j + 2]) > 0]
    assert winner_cells(ax) == sorted(non_flat)


def test_show_pooling_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be one of 'max', 'avg', 'sum'"):
        plot.show_pooling(np.ones((4, 4)), kind="min")


def test_show_pooling_refuses_a_map_too_large_to_draw():
    with pytest.raises(ValueError, match="at most 32 cells a side"):
        plot.show_pooling(np.ones((40, 40)))


def test_show_pooling_refuses_a_window_larger_than_the_map():
    with pytest.raises(ValueError, match="larger than the padded input"):
        plot.show_pooling(np.ones((3, 3)), pool_size=4)


# ----------------------------------------------------------------- PoolingExplorer

@pytest.fixture
def pooler():
    return PoolingExplorer()


def test_pooling_explorer_starts_with_max_pooling_2x2(pooler):
    p = pooler
    assert p.feature_map.shape == (8, 8)
    ref, winners = reference_pool(p.feature_map, 2, 2, "valid", "max")
    np.testing.assert_array_equal(p.output_values, ref)
    np.testing.assert_array_equal(p.winners, winners)
    assert bytes(p.picture.value).startswith(b"\x89PNG")
    assert p.status.value.startswith("max pooling: 8x8 → 4x4")


@pytest.mark.parametrize("kind", ["avg", "sum"])
def test_pooling_explorer_kind_changes_values_and_picture(pooler, kind):
    p = pooler
    picture = p.picture.value
    p.controls["kind"].value = kind
    ref, _ = reference_pool(p.feature_map, 2, 2, "valid", kind)
    np.testing.assert_allclose(p.output_values, ref)
    assert p.winners is None and p.picture.value != picture


@pytest.mark.parametrize("size, stride, padding", [(3, 1, "valid"), (3, 2, "same"),
                                                   (2, 3, "same"), (1, 1, "valid")])
def test_pooling_explorer_winners_are_the_argmax_of_each_window(pooler, size, stride, padding):
    p = pooler
    with p.hold_redraw():
        p.controls["pool_size"].value = size
        p.controls["stride"].value = stride
        p.controls["padding"].value = padding
    ref, winners = reference_pool(p.feature_map, size, stride, padding, "max")
    np.testing.assert_array_equal(p.output_values, ref)
    np.testing.assert_array_equal(p.winners, winners)
    assert np.all(p.feature_map[winners[..., 0], winners[..., 1]] == ref)


def test_pooling_explorer_window_larger_than_the_map_keeps_the_last_picture(pooler):
    p = pooler
    p.controls["input"].value = "numbers 5x5"
    picture, values = p.picture.value, p.output_values
    p.controls["pool_size"].value = 6
    assert "larger than the padded input" in p.status.value
    assert p.picture.value == picture and p.output_values is values
    p.controls["padding"].value = "same"                     # same padding always fits
    np.testing.assert_array_equal(p.output_values,
                                  reference_pool(p.feature_map, 6, 2, "same", "max")[0])
    assert p.output_values.shape == (3, 3) and "Impossible" not in p.status.value


def test_pooling_explorer_digit_halves_28_to_14(pooler):
    pooler.controls["input"].value = "digit 28x28"
    assert pooler.output_values.shape == (14, 14)
    np.testing.assert_allclose(pooler.output_values,
                               reference_pool(data.digit(0), 2, 2, "valid", "max")[0])


def test_pooling_explorer_takes_your_own_map():
    x = np.arange(20.0).reshape(4, 5)
    p = PoolingExplorer(x, kind="sum", pool_size=2, stride=1)
    assert p.controls["input"].value == CUSTOM
    np.testing.assert_allclose(p.output_values, reference_pool(x, 2, 1, "valid", "sum")[0])


def test_pooling_explorer_refuses_a_map_too_large():
    with pytest.raises(ValueError, match="`feature_map` must be 1x1 to 32x32"):
        PoolingExplorer(np.zeros((40, 40)))


def test_pooling_explorer_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="`kind` must be one of"):
        PoolingExplorer(kind="median")


def test_pooling_explorer_refuses_a_pool_size_off_the_slider():
    with pytest.raises(ValueError, match="`pool_size` must be at most 6"):
        PoolingExplorer(pool_size=7)


def test_pooling_explorer_digit_is_shaded_white_for_high_and_says_so():
    e = PoolingExplorer("digit 28x28")
    fig, ax = plt.subplots()
    plot.show_pooling(e.feature_map, ax, fontsize=4)
    assert "black = 0, white = 1" in ax.get_title()
    (cells,) = [c for c in ax.collections if c.get_gid() == "cells"]
    colours = cells.get_facecolors()[:e.feature_map.size, :3].mean(axis=1).reshape(28, 28)
    ink, paper = e.feature_map == e.feature_map.max(), e.feature_map == 0
    assert colours[ink].min() > 0.99 and colours[paper].max() < 0.01


def test_a_cached_picture_equals_a_fresh_one():
    from PIL import Image
    import io
    w = PoolingExplorer()
    first = bytes(w.picture.value)
    w.controls["pool_size"].value = 3
    third = bytes(w.picture.value)
    w.controls["pool_size"].value = 2                       # back: from the cache
    assert bytes(w.picture.value) == first and third != first
    assert len(w._pictures) == 2
    fresh = PoolingExplorer()                                # drawn again from scratch
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(bytes(fresh.picture.value)))),
                          np.asarray(Image.open(io.BytesIO(first))))
    np.testing.assert_array_equal(w.output_values, fresh.output_values)
