"""Output sizes of convolution and pooling layers (lesson 03).

One axis at a time: the same rule applies to the height and to the width.
For an input of ``n`` cells, a kernel of ``k`` cells spread out by a dilation
``d`` spans ``k_eff = (k - 1) * d + 1`` cells, and with ``p_before + p_after``
cells of zero padding and a stride ``s`` the output has

    floor((n + p_before + p_after - k_eff) / s) + 1

cells. With the same padding on both sides this is the familiar
``floor((n + 2p - k) / s) + 1``.

Padding can be given as

- ``"valid"``: no padding;
- ``"same"``: TensorFlow's and Keras's rule, ``ceil(n / s)`` output cells,
  with any odd cell of padding added at the end (bottom or right);
- ``"full"``: ``k_eff - 1`` cells on each side, so every input cell meets every
  kernel cell;
- an int ``p``: ``p`` cells on each side;
- a pair ``(before, after)``.

The kernels in :mod:`cnnlab.kernels` take their padding amounts and output
sizes from this module, so the shapes printed in a lesson and the arrays the
kernels return cannot disagree.
"""

from __future__ import annotations

import numbers

from ._validate import check_choice, check_int, describe

__all__ = ["conv_output_size", "pool_output_size", "padding_amounts"]

PADDING_NAMES = ("valid", "same", "full")


def conv_output_size(n, kernel_size, stride=1, padding="valid", dilation=1) -> int:
    """Number of output cells of a convolution along one axis.

    Parameters
    ----------
    n : int
        Input size along the axis (at least 1).
    kernel_size : int
        Kernel size along the axis (at least 1).
    stride : int
        Step between two windows (at least 1).
    padding : {"valid", "same", "full"}, int or (int, int)
        See the module docstring.
    dilation : int
        Spacing between kernel cells (1 = no gaps).

    Returns
    -------
    int
        ``floor((n + p_before + p_after - k_eff) / stride) + 1`` where
        ``k_eff = (kernel_size - 1) * dilation + 1``; ``ceil(n / stride)`` for
        ``"same"``.

    Raises
    ------
    ValueError
        If the (dilated) kernel is larger than the padded input, so the output
        would be empty.

    Examples
    --------
    >>> conv_output_size(28, 3)
    26
    >>> conv_output_size(5, 3, stride=2, padding=1)
    3
    >>> conv_output_size(7, 3, stride=2, padding="same")
    4
    """
    return _axis_plan(n, kernel_size, stride, padding, dilation)[2]


def padding_amounts(n, kernel_size, stride=1, padding="valid", dilation=1) -> tuple[int, int]:
    """Cells of zero padding before and after the input along one axis.

    Same parameters as :func:`conv_output_size`.

    Returns
    -------
    (int, int)
        ``(before, after)``. For ``"same"`` this is TensorFlow's rule:
        ``total = max((out - 1) * stride + k_eff - n, 0)`` with
        ``out = ceil(n / stride)``, ``before = total // 2`` and the rest after.

    Examples
    --------
    >>> padding_amounts(8, 3, padding="same")
    (1, 1)
    >>> padding_amounts(8, 4, padding="same")
    (1, 2)
    >>> padding_amounts(5, 3, padding="full")
    (2, 2)
    """
    before, after, _ = _axis_plan(n, kernel_size, stride, padding, dilation)
    return before, after


def pool_output_size(n, pool_size, stride=None, padding="valid") -> int:
    """Number of output cells of a pooling layer along one axis.

    Parameters
    ----------
    n : int
        Input size along the axis.
    pool_size : int
        Window size along the axis.
    stride : int, optional
        Step between windows; defaults to ``pool_size`` as in Keras.
    padding : {"valid", "same"}
        Keras's pooling padding.

    Returns
    -------
    int
        ``floor((n - pool_size) / stride) + 1`` for ``"valid"``,
        ``ceil(n / stride)`` for ``"same"``.

    Raises
    ------
    ValueError
        If ``pool_size`` is larger than ``n`` with ``"valid"`` padding.

    Examples
    --------
    >>> pool_output_size(26, 2)
    13
    >>> pool_output_size(5, 2, padding="same")
    3
    """
    return _pool_plan(n, pool_size, stride, padding)[2]


def _pool_plan(n, pool_size, stride=None, padding="valid", *, name="pool_size"):
    """Return ``(before, after, out)`` for a pooling axis (used by the kernels)."""
    pool_size = check_int(pool_size, name, minimum=1)
    stride = pool_size if stride is None else stride
    padding = check_choice(padding, "padding", ("valid", "same"))
    return _axis_plan(n, pool_size, stride, padding, 1, name=name, what="pool window")


def _axis_plan(n, kernel_size, stride=1, padding="valid", dilation=1, *,
               name="kernel_size", what="kernel"):
    """Check one axis and return ``(pad_before, pad_after, out_size)``.

    ``name`` is the argument named in the error when the window does not fit
    (``kernel_size`` here, ``kernel`` or ``pool_size`` for the kernels).
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(kernel_size, name, minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    dilation = check_int(dilation, "dilation", minimum=1)
    k_eff = (k - 1) * dilation + 1  # cells spanned by the dilated kernel
    if isinstance(padding, str):
        padding = check_choice(padding, "padding", PADDING_NAMES)
        if padding == "same":
            out = -(-n // stride)  # ceil(n / stride)
            total = max((out - 1) * stride + k_eff - n, 0)
            return total // 2, total - total // 2, out
        before = after = 0 if padding == "valid" else k_eff - 1
    else:
        before, after = _padding_pair(padding)
    padded = n + before + after
    if k_eff > padded:
        spans = f" (dilation {dilation}: spans {k_eff} cells)" if dilation > 1 else ""
        raise ValueError(
            f"`{name}`: the {what} of size {k}{spans} is larger than the padded input "
            f"of size {padded} (n={n} plus padding {before}+{after}); "
            "the output would be empty"
        )
    return before, after, (padded - k_eff) // stride + 1


def _padding_pair(padding) -> tuple[int, int]:
    """Turn an int or a ``(before, after)`` pair into two non-negative ints."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        values = (padding, padding)
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        values = tuple(padding)
    else:
        raise TypeError(
            "`padding` must be 'valid', 'same', 'full', an int or a (before, after) "
            f"pair of ints, got {describe(padding)}"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"`padding` amounts must be integers, got {describe(padding)}")
        if v < 0:
            raise ValueError(f"`padding` must not be negative, got {describe(padding)}")
    return int(values[0]), int(values[1])
