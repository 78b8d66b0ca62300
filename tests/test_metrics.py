"""cnnlab.metrics: the confusion counts of lesson 09, checked against a plain loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import metrics, plot


def test_plot_hands_lessons_the_counts_of_metrics():
    assert plot.confusion_counts is metrics.confusion_counts


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))))
def test_confusion_counts_tally_every_pair(case):
    n, pairs = case
    y_true = [t for t, _ in pairs]
    y_pred = [p for _, p in pairs]
    counts = metrics.confusion_counts(y_true, y_pred, n_classes=n)
    want = np.zeros((n, n), dtype=np.int64)
    for t, p in pairs:
        want[t, p] += 1
    np.testing.assert_array_equal(counts, want)
    assert counts.dtype == np.int64


@pytest.mark.parametrize("y_true, y_pred, kwargs, error, match", [
    ([0, 1], [0], {}, ValueError, "same length"),
    ([0, 10], [0, 1], {}, ValueError, r"`y_true` must hold whole class numbers 0 to 9, got 10 at "
                                      r"position 1"),
    ([0, 1], [0, 0.5], {}, ValueError, "`y_pred` must hold whole class numbers"),
    ([0], [0], dict(n_classes=0), ValueError, "`n_classes` must be at least 1"),
    ([0], [0], dict(n_classes=2.0), TypeError, "`n_classes` must be an integer"),
])
def test_confusion_counts_refuse_bad_labels(y_true, y_pred, kwargs, error, match):
    with pytest.raises(error, match=match):
        metrics.confusion_counts(y_true, y_pred, **kwargs)


def test_tally_says_where_the_classes_come_from():
    with pytest.raises(ValueError, match=r"0 to 2 \(`labels` names 3 classes\), got 3"):
        metrics.tally_confusions([3], [0], 3, " (`labels` names 3 classes)")
