"""The softmax explorer of lesson 07, driven headlessly, against a numpy reference."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from cnnlab.widgets._controls import ControlValueError
from cnnlab.widgets.softmax_explorer import (
    DEFAULT_LOGITS, TEMPERATURE_RANGE, SoftmaxExplorer, entropy_bits, probability_svg,
    softmax_with_temperature,
)


def reference(z, t):
    """softmax(z / T) written out with the max subtracted (float64)."""
    s = np.asarray(z, dtype=np.float64) / t
    e = np.exp(s - s.max())
    return e / e.sum()


@pytest.fixture()
def explorer():
    return SoftmaxExplorer()


def test_starts_on_the_default_scores_at_temperature_1(explorer):
    np.testing.assert_array_equal(explorer.logits, DEFAULT_LOGITS)
    assert explorer.temperature == 1.0
    np.testing.assert_allclose(explorer.probabilities, reference(DEFAULT_LOGITS, 1.0), rtol=1e-12)
    assert explorer.predicted == int(np.argmax(DEFAULT_LOGITS))
    assert set(explorer.controls) == {f"z{k}" for k in range(10)} | {"temperature"}
    assert "T = 1 is plain softmax" in explorer.status.value


@pytest.mark.parametrize("t", [0.1, 0.3, 1.0, 2.5, 10.0])
def test_temperature_gives_the_reference_probabilities(explorer, t):
    count = explorer.redraw_count
    explorer.controls["temperature"].value = t
    assert explorer.redraw_count == count + (t != 1.0)
    assert explorer.temperature == pytest.approx(t)
    want = reference(DEFAULT_LOGITS, t)
    np.testing.assert_allclose(explorer.probabilities, want, rtol=1e-10, atol=1e-15)
    assert explorer.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert explorer.max_probability == pytest.approx(want.max())
    nz = want[want > 0]
    assert explorer.entropy == pytest.approx(-(nz * np.log2(nz)).sum(), abs=1e-9)
    assert f"{100 * want.max():.1f} %" in explorer.status.value


def test_typed_scores_change_the_probabilities(explorer):
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3, size=10)
    with explorer.hold_redraw():
        for k, v in enumerate(z):
            explorer.controls[f"z{k}"].value = float(v)
        explorer.controls["temperature"].value = 0.5
    np.testing.assert_allclose(explorer.logits, z)
    np.testing.assert_allclose(explorer.probabilities, reference(z, 0.5), rtol=1e-10)
    # softmax keeps the order of the scores
    assert list(np.argsort(explorer.probabilities)) == list(np.argsort(z))


def test_small_temperature_goes_one_hot_and_large_goes_uniform(explorer):
    entropies = []
    for t in np.geomspace(*TEMPERATURE_RANGE, 9):
        explorer.controls["temperature"].value = float(t)
        entropies.append(explorer.entropy)
    assert all(a < b for a, b in zip(entropies, entropies[1:])), "entropy grows with T"
    explorer.controls["temperature"].value = 0.1
    assert explorer.max_probability > 0.999 and explorer.predicted == 3
    assert "towards one-hot on class 3" in explorer.status.value
    explorer.controls["temperature"].value = 10.0
    assert explorer.probabilities.max() < 0.2
    assert "towards the uniform 1/10" in explorer.status.value
    # the limits, through the function itself
    np.testing.assert_allclose(softmax_with_temperature(DEFAULT_LOGITS, 1e-6), np.eye(10)[3])
    np.testing.assert_allclose(softmax_with_temperature(DEFAULT_LOGITS, 1e6), 0.1, atol=1e-5)


def test_large_scores_do_not_overflow():
    explorer = SoftmaxExplorer([1e6, 999_990.0, -1e6], temperature=0.1)
    np.testing.assert_allclose(explorer.probabilities, [1, 0, 0], atol=1e-12)
    assert np.all(np.isfinite(explorer.probabilities))
    assert set(explorer.controls) == {"z0", "z1", "z2", "temperature"}


@pytest.mark.parametrize("bad", [0, 0.05, 11, -1, float("nan"), float("inf"), "1", True, None])
def test_bad_temperature_is_refused(explorer, bad):
    before = explorer.probabilities.copy()
    with pytest.raises(ControlValueError, match="`temperature` must be a number from 0.1 to 10"):
        explorer.controls["temperature"].value = bad
    assert explorer.controls["temperature"].value == 1.0
    np.testing.assert_array_equal(explorer.probabilities, before)
    assert explorer.status.value.startswith("Refused: temperature must be")


def test_bad_scores_are_refused_or_explained(explorer):
    with pytest.raises(ControlValueError, match="`z4` must be a number"):
        explorer.controls["z4"].value = 1e7
    with pytest.raises(ControlValueError, match="`z4` must be a number"):
        explorer.controls["z4"].value = "big"
    before = explorer.probabilities.copy()
    explorer.controls["z4"].value = float("nan")       # a box being typed in
    assert "z4 is not a number" in explorer.status.value
    np.testing.assert_array_equal(explorer.probabilities, before)
    explorer.controls["z4"].value = 2.0
    assert explorer.logits[4] == 2.0 and "Largest probability" in explorer.status.value


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(logits=[1.0]), ValueError, "2 to 10 scores"),
    (dict(logits=np.zeros(11)), ValueError, "2 to 10 scores"),
    (dict(logits=np.zeros((2, 5))), ValueError, "logits"),
    (dict(logits=[1.0, np.nan]), ValueError, "logits"),
    (dict(logits=[1.0, 2e6]), ValueError, "from -1e"),
    (dict(logits=["a", "b"]), (TypeError, ValueError), "logits"),
    (dict(temperature=0), ValueError, "`temperature` must be at least 0.1"),
    (dict(temperature=20), ValueError, "`temperature` must be at most 10"),
    (dict(temperature="1"), TypeError, "`temperature` must be a number"),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message) if "`" not in message else message):
        SoftmaxExplorer(**kwargs)


def test_entropy_bits_of_certain_and_uniform():
    assert entropy_bits([0.0, 1.0, 0.0]) == 0.0
    assert entropy_bits(np.full(10, 0.1)) == pytest.approx(math.log2(10))
    with pytest.raises(ValueError, match="temperature"):
        softmax_with_temperature([1.0, 2.0], 0.0)


def test_bars_are_drawn_on_a_fixed_scale_with_the_largest_in_orange(explorer):
    explorer.controls["temperature"].value = 2.0
    svg = bytes(explorer.chart.value).decode()
    bars = re.findall(r'<rect class="p"[^>]*height="([0-9.]+)" fill="([^"]+)"', svg)
    assert len(bars) == 10
    heights = np.array([float(h) for h, _ in bars])
    np.testing.assert_allclose(heights, 120 * explorer.probabilities, atol=0.01)  # 0..1 -> 120 px
    assert [k for k, (_, fill) in enumerate(bars) if fill == "#ff7f0e"] == [explorer.predicted]
    labelled = probability_svg([0.2, 0.8], label=0).decode()
    assert 'text-decoration="underline">0<' in labelled and "true label" in labelled
