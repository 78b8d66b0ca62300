"""Hand-made filters (lessons 01 and 02).

Before a network learns its filters, we write some by hand to see what a
filter can detect. All of them are meant for cross-correlation
(:func:`cnnlab.kernels.conv1d` / :func:`cnnlab.kernels.conv2d`, like Keras):
the kernel is laid on the input as written, not flipped.

1D presets (``PRESETS_1D``, lesson 01), with their feature maps on the bump
signal ``[0, 0, 0, 1, 1, 0, 0, 0]`` ("valid" padding; output cell ``i`` sits
over input cells ``i .. i+2`` and is centred on input cell ``i + 1``):

=============  ===============  =================================  ======================================
name           weights          feature map on the bump            reads as
=============  ===============  =================================  ======================================
bump           [0, 1, 0]        [0, 0, 1, 1, 0, 0]                 copies the centre cell: 1 on the bump
rising_edge    [-1, 1, 0]       [0, 0, 1, 0, -1, 0]                centre minus left neighbour: +1 where
                                                                   the signal steps up (first cell of the
                                                                   bump), -1 where it steps down
falling_edge   [0, 1, -1]       [0, -1, 0, 1, 0, 0]                centre minus right neighbour: +1 on the
                                                                   last cell before a step down
average        [1/3, 1/3, 1/3]  [0, 1/3, 2/3, 2/3, 1/3, 0]         mean of three cells: a smoothed bump
=============  ===============  =================================  ======================================

``falling_edge`` is ``rising_edge`` reversed, which is also what true
convolution (the flipped kernel) does to ``rising_edge``.

2D presets (``PRESETS``, lesson 02), 3x3; those marked * also come in 5x5:

- ``identity`` *: a single 1 in the centre; the output is the input.
- ``vertical_line`` *, ``horizontal_line`` *, ``diagonal_line`` *: a line of
  ones (the centre column, the centre row, the main diagonal from top left to
  bottom right); strongest where the input has the same line.
  ``vertical_line`` is ``[[0, 1, 0]] * 3``.
- ``sobel_x`` / ``sobel_y``: brightness increasing to the right / downwards
  gives a positive response, the opposite edge a negative one.
- ``laplacian``: the four neighbours minus four times the centre; zero on
  flat areas and on smooth ramps, large on edges and dots.
- ``box_blur`` *, ``gaussian`` *: weighted means (weights sum to 1), so flat
  areas keep their brightness.
- ``sharpen``: the identity plus a negated Laplacian; weights sum to 1.
- ``emboss``: a diagonal gradient with the centre kept; relief-like shading.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_int

__all__ = ["PRESETS", "PRESETS_1D", "get", "get_1d", "names"]


def _frozen(rows) -> np.ndarray:
    """A read-only float array: change a copy from :func:`get`, not the preset."""
    a = np.array(rows, dtype=float)
    a.setflags(write=False)
    return a


def _centre(size) -> np.ndarray:
    a = np.zeros((size, size))
    a[size // 2, size // 2] = 1
    return a


def _column(size) -> np.ndarray:
    a = np.zeros((size, size))
    a[:, size // 2] = 1
    return a


def _binomial(size) -> np.ndarray:
    """Normalised Gaussian approximation: outer product of binomial rows."""
    row = np.array([1, 2, 1] if size == 3 else [1, 4, 6, 4, 1], dtype=float)
    return np.outer(row, row) / row.sum() ** 2


PRESETS_1D: dict[str, np.ndarray] = {
    "bump": _frozen([0, 1, 0]),
    "rising_edge": _frozen([-1, 1, 0]),
    "falling_edge": _frozen([0, 1, -1]),
    "average": _frozen([1 / 3, 1 / 3, 1 / 3]),
}

PRESETS: dict[str, np.ndarray] = {
    "identity": _frozen(_centre(3)),
    "vertical_line": _frozen(_column(3)),
    "horizontal_line": _frozen(_column(3).T),
    "diagonal_line": _frozen(np.eye(3)),
    "sobel_x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "box_blur": _frozen(np.full((3, 3), 1 / 9)),
    "gaussian": _frozen(_binomial(3)),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

_PRESETS_5: dict[str, np.ndarray] = {
    "identity": _frozen(_centre(5)),
    "vertical_line": _frozen(_column(5)),
    "horizontal_line": _frozen(_column(5).T),
    "diagonal_line": _frozen(np.eye(5)),
    "box_blur": _frozen(np.full((5, 5), 1 / 25)),
    "gaussian": _frozen(_binomial(5)),
}


def names(size=None) -> list[str]:
    """Names of the 2D presets, all of them or those available at ``size`` (3 or 5)."""
    if size is None:
        return list(PRESETS)
    return list(_by_size(size))


def get(name, size=3) -> np.ndarray:
    """A writable copy of a 2D preset.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    size : {3, 5}
        Kernel size; 5 exists for the presets marked * in the module docstring.

    Returns
    -------
    (size, size) ndarray of float64
    """
    table = _by_size(size)
    if isinstance(name, str) and name in PRESETS and name not in table:
        raise ValueError(
            f"`size` {size} is not available for {name!r}; size-{size} presets: "
            + ", ".join(repr(n) for n in table)
        )
    check_choice(name, "name", list(PRESETS))
    return table[name].copy()


def get_1d(name) -> np.ndarray:
    """A writable copy of a 1D preset: ``(3,)`` float64 (see ``PRESETS_1D``)."""
    check_choice(name, "name", list(PRESETS_1D))
    return PRESETS_1D[name].copy()


def _by_size(size) -> dict[str, np.ndarray]:
    size = check_int(size, "size")
    if size not in (3, 5):
        raise ValueError(f"`size` must be 3 or 5, got {size}")
    return PRESETS if size == 3 else _PRESETS_5
