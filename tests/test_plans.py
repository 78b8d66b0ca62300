"""The shared window and padding plans (cnnlab/_plans.py): one padding splitter for
every caller, each keeping the messages its users see."""

from __future__ import annotations

import pytest

from cnnlab import _plans, kernels, shapes


@pytest.mark.parametrize("padding, halves", [
    ("same", ("same", "same")),
    (2, (2, 2)),
    ((1, 2), (1, 2)),
    (((0, 1), (2, 3)), ((0, 1), (2, 3))),
])
def test_split_padding_gives_one_value_per_axis(padding, halves):
    assert _plans.split_padding(padding) == halves
    assert _plans.split_padding(padding, strict=False) == halves


@pytest.mark.parametrize("padding", [None, 1.5, (1, 2, 3), {"top": 1}])
def test_split_padding_refuses_what_is_no_padding(padding):
    with pytest.raises(TypeError, match=r"an int, \(ph, pw\) or \(\(top, bottom\), \(left, right\)\)"):
        _plans.split_padding(padding)


@pytest.mark.parametrize("padding", [None, 1.5, (1, 2, 3)])
def test_split_padding_not_strict_leaves_the_check_to_each_axis(padding):
    assert _plans.split_padding(padding, strict=False) == (padding, padding)


@pytest.mark.parametrize("padding, sides", [(0, (0, 0)), (3, (3, 3)), ((1, 2), (1, 2)), ([2, 0], (2, 0))])
def test_split_padding_sides_gives_two_ints(padding, sides):
    assert _plans.split_padding(padding, sides=True) == sides


@pytest.mark.parametrize("padding, error, match", [
    (True, TypeError, r"an int or a \(before, after\) pair of ints, got True"),
    ("same", TypeError, r"an int or a \(before, after\) pair of ints"),
    (None, TypeError, r"an int or a \(before, after\) pair of ints"),
    ((1, 0.5), TypeError, "`padding` amounts must be integers"),
    ((1, True), TypeError, "`padding` amounts must be integers"),
    (-1, ValueError, "`padding` must not be negative"),
    ((0, -2), ValueError, "`padding` must not be negative"),
])
def test_split_padding_sides_refuses_bad_amounts(padding, error, match):
    with pytest.raises(error, match=match):
        _plans.split_padding(padding, sides=True)


def test_each_caller_keeps_its_message():
    with pytest.raises(TypeError, match=r"an int, \(ph, pw\)"):
        kernels.conv2d([[1.0, 2.0], [3.0, 4.0]], [[1.0]], padding=None)
    with pytest.raises(TypeError, match=r"an int or a \(before, after\) pair of ints"):
        shapes.conv_output_size(5, 3, padding=None)
    with pytest.raises(TypeError, match=r"layer 0 \('conv2d'\): `padding` must be 'valid', 'same', "
                                        r"'full', an int or a \(before, after\) pair of ints"):
        shapes.layer_table([("conv2d", {"filters": 1, "kernel_size": 1, "padding": None})], (4, 4, 1))


def test_shapes_and_kernels_share_one_axis_plan():
    assert shapes.padding_amounts(8, 4, padding="same") == _plans.axis_plan(8, 4, padding="same")[:2]
    assert shapes.pool_output_size(5, 2, padding="same") == _plans.pool_plan(5, 2, padding="same")[2]
    assert kernels.pad2d([[1.0] * 8] * 8, "same", 4)[1] == ((1, 2), (1, 2))
