"""How well a classifier does, counted in numpy (lesson 09).

:func:`confusion_counts` tallies how often each true class was predicted as
each class; :func:`cnnlab.plot.confusion_matrix` draws that table.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, check_allocation, check_int

__all__ = ["confusion_counts"]


def confusion_counts(y_true, y_pred, n_classes=10) -> np.ndarray:
    """Count how often each true class was predicted as each class (lesson 09).

    Parameters
    ----------
    y_true, y_pred : (N,) array_like of int
        Labels and predictions in ``0 .. n_classes - 1``.
    n_classes : int
        The counts take ``8 * n_classes**2`` bytes (at most 4 GB).

    Returns
    -------
    (n_classes, n_classes) ndarray of int
        Row = true class, column = predicted class; the diagonal holds the
        correct answers and the rows sum to the number of examples per class.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    check_allocation((n_classes, n_classes), "n_classes", what="the table of counts")
    return tally_confusions(y_true, y_pred, n_classes, "")


def tally_confusions(y_true, y_pred, n_classes, classes_from) -> np.ndarray:
    """:func:`confusion_counts` after ``n_classes`` is checked; ``classes_from`` explains it.

    ``classes_from`` ends the message about a class number out of range, e.g.
    ``" (`labels` names 3 classes)"``.
    """
    t = as_array(y_true, "y_true", ndims=1)
    p = as_array(y_pred, "y_pred", ndims=1)
    if t.shape != p.shape:
        raise ValueError(f"`y_true` and `y_pred` must have the same length (one prediction per "
                         f"label), got {len(t)} and {len(p)}")
    for name, v in (("y_true", t), ("y_pred", p)):
        wrong = (v != np.round(v)) | (v < 0) | (v >= n_classes)
        if np.any(wrong):
            bad = v[np.argmax(wrong)]
            raise ValueError(f"`{name}` must hold whole class numbers 0 to {n_classes - 1}"
                             f"{classes_from}, got {bad:g} at position {int(np.argmax(wrong))}")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (t.astype(np.int64), p.astype(np.int64)), 1)
    return counts
