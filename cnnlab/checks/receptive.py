"""Checkers for what a unit sees: C3's table, receptive fields, the Inception module (lessons 09-10).

- :func:`check_c3_table`: LeNet-5's C3 connection pattern, generalised to any
  number of input maps (lesson 09);
- :func:`check_receptive_field`: a receptive-field calculator, the size and
  the jump of every layer of a chain (lesson 10), against
  :func:`cnnlab.shapes.receptive_field`;
- :func:`check_inception_module`: an Inception module written with Keras
  layers (lesson 10), checked as :mod:`.keras_models` checks blocks: output
  shape, parameters, a forward pass with fixed weights.

Both run the learner's function on many cases with a time limit (``Call``),
refuse results that are not whole numbers, and at the first wrong case raise
:class:`~cnnlab.checks.CheckFailed` with a hint, found by recomputing the
answer with each likely mistake built in and comparing.
"""

from __future__ import annotations

import numbers
import re

import numpy as np

from .. import shapes
from . import _hints
from ._calls import DEFAULT_TIME_LIMIT, Call, Params, check_time_limit
from ._results import CheckFailed, passed, short_traceback
from .keras_models import block_model, check_builder, forward_fixed, keras_module, outputs_close, \
    random_inputs

__all__ = ["check_c3_table", "check_receptive_field", "check_inception_module", "c3_table_reference"]


# --------------------------------------------------------------------------
# C3's connection table (lesson 09)
# --------------------------------------------------------------------------

def c3_table_reference(n_in):
    """LeNet-5's C3 connection pattern for ``n_in`` input maps (lesson 09).

    Output maps, in order: ``n_in`` maps that see 3 neighbouring input maps
    (``j, j+1, j+2``), ``n_in`` that see 4 neighbours (``j .. j+3``),
    ``n_in // 2`` that see two neighbouring pairs (``j, j+1, j+3, j+4``), and
    one that sees all; indices wrap around (modulo ``n_in``). For ``n_in = 6``
    this is :func:`cnnlab.shapes.lenet5_c3_table` (16 maps, 60 connections).

    Parameters
    ----------
    n_in : int
        Number of input maps, 5 or more.

    Returns
    -------
    table : (n_in, 2 * n_in + n_in // 2 + 1) ndarray of int
        ``table[i, j] = 1`` when input map ``i`` feeds output map ``j``.
    """
    return _c3_table(_check_maps(n_in))


def _check_maps(n_in):
    if isinstance(n_in, (bool, np.bool_)) or not isinstance(n_in, numbers.Integral):
        raise TypeError(f"`n_in` must be an int (the number of input maps), got {_hints.short(n_in)}")
    if n_in < 5:
        raise ValueError(f"`n_in` must be at least 5 (a pair pattern j, j+1, j+3, j+4 needs 5 "
                         f"different maps), got {n_in}")
    return int(n_in)


def _c3_table(n, shift=0, wrap=True, pairs=(0, 1, 3, 4)):
    """The pattern, or one of its mistaken versions (windows shifted, no wrap-around, ...)."""
    table = np.zeros((n, 2 * n + n // 2 + 1), dtype=np.int64)
    groups = [(range(n), (0, 1, 2), 0), (range(n), (0, 1, 2, 3), n),
              (range(n // 2), pairs, 2 * n)]
    for starts, offsets, first in groups:
        for j in starts:
            rows = [j + d + shift for d in offsets]
            rows = [r % n for r in rows] if wrap else [r for r in rows if 0 <= r < n]
            table[rows, first + j] = 1
    table[:, -1] = 1
    return table


@short_traceback
def check_c3_table(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(n_in)``, LeNet-5's C3 connection table for ``n_in`` input maps.

    Parameters
    ----------
    fn : callable
        ``fn(n_in)`` returning an ``(n_in, 2 * n_in + n_in // 2 + 1)`` array
        of 0 and 1 (rows: input maps, columns: output maps), as
        :func:`c3_table_reference`; for ``n_in = 6``, the paper's Table I.
    time_limit : float or None
        Seconds each call may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult
    """
    params = Params(fn, ("n_in",))
    limit = check_time_limit(time_limit)
    cases = (6, 5, 7, 8, 9, 12)
    for n in cases:
        want = _c3_table(n)
        call = Call(fn, params, (n,), {}, limit)
        got = _table(call, call.run(None))
        if got.shape != want.shape or not np.array_equal(got, want):
            problem = (f"Expected shape {want.shape} but got {got.shape}." if got.shape != want.shape
                       else "The shape is right but some connections are wrong.")
            raise CheckFailed(problem, call=call.text(), expected=want, got=got,
                              hint=_c3_hint(n, want, got))
    return passed(params.name, len(cases), ["the paper's 6 maps", "5 to 12 input maps"])


def _table(call, got):
    """The learner's table as an int array (True/False count as 1/0), or a CheckFailed."""
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError):
        arr = np.empty(0, dtype=object)
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    problem = _hints.not_numbers(arr)
    if problem is not None:
        what, hint = problem
        if arr.dtype.kind not in "cUS":
            hint = "Return a 2D numpy array of 0 and 1, e.g. built with np.zeros((n_in, n_out), int)."
        raise CheckFailed(f"{call.params.name} returned {_hints.short(got)}: {what}.",
                          call=call.text(), hint=hint)
    return arr


def _c3_hint(n, want, got):
    if got.shape == want.shape[::-1]:
        return (f"Rows and columns are swapped: the rows are the {n} input maps, the columns "
                f"the {want.shape[1]} output maps (table[i, j] = 1 when input i feeds output j).")
    if got.shape != want.shape:
        return (f"There are {n} + {n} + {n} // 2 + 1 = {want.shape[1]} output maps (columns): "
                f"{n} of 3 neighbours, {n} of 4, {n // 2} of two pairs, and one that sees all.")
    if not np.all((got == 0) | (got == 1)):
        return "Every entry is 0 or 1: set table[i, j] = 1, do not add 1 twice to the same cell."
    for shift in (1, -1, 2, -2):
        if np.array_equal(got, _c3_table(n, shift=shift)):
            side = "later" if shift > 0 else "earlier"
            return (f"Your windows start {abs(shift)} map(s) {side} than they should: output map j "
                    f"of each group starts at input map j (j, j+1, j+2 for the first {n}).")
    if np.array_equal(got, _c3_table(n, wrap=False)):
        return (f"The windows must wrap around: past map {n - 1} comes map 0 again — use "
                f"(j + d) % {n}.")
    if np.array_equal(got, _c3_table(n, pairs=(0, 1, 2, 3))):
        return ("The third group sees two neighbouring *pairs* with one map skipped between "
                "them: j, j+1, j+3, j+4, not four neighbours.")
    counts = got.sum(axis=0)
    right = want.sum(axis=0)
    wrong = np.flatnonzero(counts != right)
    if wrong.size:
        j = int(wrong[0])
        return (f"Output map {j} (column {j}) sees {int(counts[j])} input maps; it should see "
                f"{int(right[j])}.")
    j = int(np.flatnonzero(np.any(got != want, axis=0))[0])
    return (f"Output map {j} (column {j}) should see input maps "
            f"{np.flatnonzero(want[:, j]).tolist()}, yours sees {np.flatnonzero(got[:, j]).tolist()}.")


# --------------------------------------------------------------------------
# Receptive fields (lesson 10)
# --------------------------------------------------------------------------

#: Chains of (kernel, stride[, dilation]) layers tried, the lesson's first.
FIELD_CASES = (
    [(3, 1), (3, 1), (3, 1)],
    [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)],                 # LeNet-5
    [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1)],                # AlexNet's first layers
    [(7, 2), (3, 2), (3, 1), (3, 1)],
    [(1, 1)],
    [(3, 2), (1, 1), (3, 3), (2, 2)],
    [(3, 1, 2), (3, 1, 4), (3, 1, 1)],                        # dilated
    [(3, 2), (3, 1, 2), (2, 2), (5, 1, 3)],
)


def _fields(chain, mistake=None):
    """(size, jump) per layer by the rule, or with one mistake built in."""
    r, j, rows = 1, 1, []
    if mistake == "no_plus_one":
        r = 0
    for layer in chain:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        span = k if mistake == "no_dilation" else (k - 1) * d + 1
        before = j
        if mistake == "order":
            j = j * s
            r = r + (span - 1) * j
        elif mistake == "no_jump":
            r = r + (span - 1)
            j = j * s
        elif mistake == "dilation_times_k":
            r = r + (k * d - 1) * j
            j = j * s
        else:
            r = r + (span - 1) * j
            j = j * s
        rows.append((r, before if mistake == "jump_before" else j))
    return rows


FIELD_MISTAKES = (
    ("order", "You multiplied the jump by the layer's stride before growing the field: a layer "
              "grows the field with the jump of the layers *below* it, r = r + (k - 1) * j, and "
              "only then j = j * s."),
    ("no_jump", "The field grows by (k - 1) * j, not by k - 1: after a stride, neighbouring cells "
                "lie j pixels apart, so each extra cell of the window adds j pixels."),
    ("no_plus_one", "Your sizes are one too small: start from r = 1 (one input pixel sees "
                    "itself), then add (k - 1) * j per layer."),
    ("jump_before", "Your jumps are those of the layer below: report each layer's jump after "
                    "multiplying by its own stride (j = j * s)."),
    ("no_dilation", "The dilation is ignored: a k-wide window with dilation d spans "
                    "(k - 1) * d + 1 pixels; use that in place of k."),
    ("dilation_times_k", "A dilated window spans (k - 1) * d + 1 pixels, not k * d: the gaps "
                         "lie only between its k taps."),
)


@short_traceback
def check_receptive_field(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(layers)``, the receptive field and jump of every layer of a chain.

    Parameters
    ----------
    fn : callable
        ``fn(layers)`` with ``layers`` a list of ``(kernel, stride)`` or
        ``(kernel, stride, dilation)`` tuples of ints (square windows);
        returns one ``(size, jump)`` pair of ints per layer: ``size`` the
        receptive field side in input pixels, ``jump`` the input pixels
        between neighbouring cells of that layer's output. As
        :func:`cnnlab.shapes.receptive_field`'s ``size[0]`` and ``jump[0]``.
    time_limit : float or None
        Seconds each call may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult
    """
    params = Params(fn, ("layers",))
    limit = check_time_limit(time_limit)
    cases = [list(c) for c in FIELD_CASES] + _random_chains()
    for chain in cases:
        want = [(row.size[0], row.jump[0]) for row in shapes.receptive_field(chain)]
        call = Call(fn, params, (chain,), {}, limit)
        got = _field_rows(call, call.run(None), len(chain))
        if got != want:
            raise CheckFailed("Some sizes or jumps are wrong.", call=call.text(),
                              expected=want, got=got, hint=_field_hint(chain, want, got))
    return passed(params.name, len(cases), ["sizes", "jumps", "strides", "dilations"])


def _random_chains():
    rng = np.random.default_rng(1010)
    chains = []
    for n in (2, 4, 6):
        chain = []
        for _ in range(n):
            k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
            chain.append((k, s, d) if d > 1 else (k, s))
        chains.append(chain)
    return chains


def _field_rows(call, got, n_layers):
    """The learner's result as a list of (int, int), or a CheckFailed explaining why not."""
    name = call.params.name
    if isinstance(got, np.ndarray):
        got = got.tolist()
    if isinstance(got, (str, bytes, dict)) or not isinstance(got, (list, tuple)):
        raise CheckFailed(f"{name} returned {_hints.short(got)}: not a list of (size, jump) pairs.",
                          call=call.text(),
                          hint="Return a list with one (size, jump) tuple per layer, such as "
                               "[(3, 1), (5, 1), (7, 1)] for three 3x3 layers of stride 1.")
    if len(got) != n_layers:
        raise CheckFailed(f"{name} returned {len(got)} row(s) for {n_layers} layer(s).",
                          call=call.text(),
                          hint="One (size, jump) pair per layer, in order: append a pair inside "
                               "the loop, not only after it.")
    rows = []
    for row in got:
        if isinstance(row, np.ndarray):
            row = row.tolist()
        if not isinstance(row, (list, tuple)) or len(row) != 2:
            raise CheckFailed(f"{name} returned a row {_hints.short(row)}: not a (size, jump) pair.",
                              call=call.text(),
                              hint="Each row is a pair of two ints: (size, jump).")
        for value in row:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise CheckFailed(f"{name} returned {_hints.short(value)} in a row: sizes and "
                                  "jumps are whole numbers.", call=call.text(),
                                  hint="Keep the arithmetic in ints (no /, no np.sqrt, no complex "
                                       "or text values): r = r + (k - 1) * j and j = j * s.")
        rows.append((int(row[0]), int(row[1])))
    return rows


def _field_hint(chain, want, got):
    if got == [(j, r) for r, j in want]:
        return "Each pair is (size, jump), in that order: you returned (jump, size)."
    for mistake, text in FIELD_MISTAKES:
        if mistake.startswith("no_dilation") or mistake == "dilation_times_k":
            if all(len(layer) == 2 or layer[2] == 1 for layer in chain):
                continue
        if _fields(chain, mistake) == got:
            return text
    sizes_ok = [g[0] for g in got] == [w[0] for w in want]
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
    what = "jump" if sizes_ok else "size"
    return (f"Layer {i} ({chain[i]}) should have size {want[i][0]} and jump {want[i][1]}, yours "
            f"has {what} {got[i][1] if sizes_ok else got[i][0]}: r = r + ((k - 1) * d + 1 - 1) * j, "
            "then j = j * s.")


# --------------------------------------------------------------------------
# Inception module (lesson 10)
# --------------------------------------------------------------------------

INCEPTION_CASES = (((28, 28, 192), (64, 96, 128, 16, 32, 32), 1), ((8, 8, 12), (4, 6, 8, 2, 3, 5), 2),
                   ((5, 7, 3), (2, 3, 4, 1, 2, 6), 2), ((6, 6, 10), (3, 5, 7, 2, 4, 1), 2))


def _inception(x, filters, *, relu=True, reduce_relu=True, pool="max", reduce=(True, True, True),
               axis=-1):
    """The module, or one of its mistaken versions."""
    layers = keras_module().layers
    n1, r3, n3, r5, n5, pp = filters

    def conv(t, maps, k, act=relu):
        return layers.Conv2D(maps, k, padding="same", activation="relu" if act else None)(t)

    b3 = conv(conv(x, r3, 1, reduce_relu), n3, 3) if reduce[0] else conv(x, n3, 3)
    b5 = conv(conv(x, r5, 1, reduce_relu), n5, 5) if reduce[1] else conv(x, n5, 5)
    pooled = (layers.MaxPooling2D if pool == "max" else layers.AveragePooling2D)(
        3, strides=1, padding="same")(x)
    bp = conv(pooled, pp, 1) if reduce[2] else pooled
    return layers.Concatenate(axis=axis)([conv(x, n1, 1), b3, b5, bp])


def _inception_params(c, filters, reduce=(True, True, True), bias=True):
    n1, r3, n3, r5, n5, pp = filters

    def conv(k, a, b):
        return k * k * a * b + (b if bias else 0)

    total = conv(1, c, n1)
    total += conv(1, c, r3) + conv(3, r3, n3) if reduce[0] else conv(3, c, n3)
    total += conv(1, c, r5) + conv(5, r5, n5) if reduce[1] else conv(5, c, n5)
    return total + (conv(1, c, pp) if reduce[2] else 0)


@short_traceback
def check_inception_module(fn, *, time_limit=DEFAULT_TIME_LIMIT):
    """Check ``fn(x, filters)``, an Inception module, against ``classic.inception_module``.

    Parameters
    ----------
    fn : callable
        ``fn(x, filters)``: ``x`` a ``(N, H, W, C)`` Keras tensor, ``filters``
        six ints ``(n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj)``;
        returns ``(N, H, W, n1x1 + n3x3 + n5x5 + pool_proj)``: the 1x1, 3x3
        and 5x5 branches and the pool branch, concatenated in that order.
    time_limit : float or None
        Seconds each call may take (0.05 to 3600); None: no limit.

    Returns
    -------
    CheckResult
    """
    name = check_builder(fn)
    limit = check_time_limit(time_limit)
    keras = keras_module()
    for shape, filters, batch in INCEPTION_CASES:
        text = f"{name}(keras.Input(shape={shape}), {filters})"
        model = block_model(fn, shape, (filters,), text, limit, _concat_hint)
        x = keras.Input(shape=shape)
        from ..models import classic
        reference = keras.Model(x, classic.inception_module(x, filters, name="reference"))
        want_shape = tuple(reference.output.shape)
        got_shape = tuple(model.output.shape)
        if got_shape != want_shape:
            raise CheckFailed(f"Expected output shape {want_shape} but got {got_shape}.", call=text,
                              hint=_inception_shape_hint(shape, filters, want_shape, got_shape))
        want_params, got_params = reference.count_params(), model.count_params()
        if got_params != want_params:
            raise CheckFailed(f"Expected {want_params:,} parameters but the module has "
                              f"{got_params:,}.", call=text,
                              hint=_inception_params_hint(shape[-1], filters, got_params))
        images = random_inputs(shape, batch, seed=10)
        want, got = forward_fixed(reference, images), forward_fixed(model, images)
        if not outputs_close(got, want):
            raise CheckFailed("Shapes and parameters are right, but the values are not (same "
                              "fixed weights in both).", call=text, expected=want, got=got,
                              hint=_inception_value_hint(shape, filters, images, want, got))
    return passed(name, 3 * len(INCEPTION_CASES), ["output shapes", "parameters",
                                                   "forward pass with fixed weights"])


def _concat_hint(exc):
    text = str(exc)
    if "Concatenate" not in text and "concat" not in text.lower():
        return None
    found = [tuple(int(n) for n in m.split(",")) for m in
             re.findall(r"\(None, ((?:\d+, )*\d+)\)", text)]
    if found and len({s[:2] for s in found}) > 1:
        return ("The branches reach the concatenation with different grids "
                f"({', '.join(map(str, found))}): every branch must keep H x W — "
                "padding=\"same\" on every convolution, and the max pool too (strides=1, "
                "padding=\"same\").")
    return ("The branches are stacked along the channels: layers.Concatenate() (axis=-1, the "
            "default), not along the height or width axis.")


def _inception_shape_hint(shape, filters, want, got):
    n1, r3, n3, r5, n5, pp = filters
    if got[1:3] != want[1:3] and got[-1] == want[-1]:
        return ("The grid changed: every branch keeps H x W — padding=\"same\" everywhere and "
                "strides=1 on the pool.")
    if got[-1] == n1 + n3 + n5 + shape[-1]:
        return (f"The pool branch passes all {shape[-1]} input channels on: after the 3x3 max "
                f"pool comes a 1x1 projection to pool_proj = {pp} maps.")
    if got[1:3] != want[1:3]:
        return "Concatenate along the channels (axis=-1); every branch keeps H x W."
    return (f"The output has n1x1 + n3x3 + n5x5 + pool_proj = {n1} + {n3} + {n5} + {pp} = "
            f"{want[-1]} channels: the reductions ({r3}, {r5}) are not in the output.")


def _inception_params_hint(c, filters, got):
    options = [((False, True, True), "The 3x3 branch has no 1x1 reduction: a 1x1 convolution to "
                "n3x3_reduce maps comes first, then the 3x3."),
               ((True, False, True), "The 5x5 branch has no 1x1 reduction: a 1x1 convolution to "
                "n5x5_reduce maps comes first, then the 5x5."),
               ((False, False, True), "The 1x1 reductions are missing before the 3x3 and the 5x5 "
                "convolutions: that is the naive module, and far more weights.")]
    for reduce, hint in options:
        if got == _inception_params(c, filters, reduce):
            return hint
    if got == _inception_params(c, filters, bias=False):
        return "Keep the biases (use_bias=True, the default): GoogLeNet has no batch norm here."
    return (f"Six convolutions with weights: 1x1 ({filters[0]}), 1x1 ({filters[1]}) then 3x3 "
            f"({filters[2]}), 1x1 ({filters[3]}) then 5x5 ({filters[4]}), and 1x1 ({filters[5]}) "
            "after the pool, each with its biases.")


def _inception_value_hint(shape, filters, images, want, got):
    keras = keras_module()
    variants = [(dict(relu=False, reduce_relu=False), "No ReLU anywhere: every convolution of "
                 "the module has activation=\"relu\", the reductions too."),
                (dict(reduce_relu=False), "The 1x1 reductions need their ReLU too "
                 "(activation=\"relu\")."),
                (dict(pool="avg"), "The pool branch uses max pooling (MaxPooling2D), not average.")]
    for options, hint in variants:
        x = keras.Input(shape=shape)
        if outputs_close(got, forward_fixed(keras.Model(x, _inception(x, filters, **options)), images)):
            return hint
    flat_w, flat_g = want.reshape(-1, want.shape[-1]), got.reshape(-1, got.shape[-1])
    if all(any(np.allclose(flat_g[:, c], flat_w[:, d], atol=1e-4) for d in range(flat_w.shape[1]))
           for c in range(flat_g.shape[1])):
        return ("Every channel is right but the order is not: concatenate [1x1, 3x3, 5x5, pool "
                "projection], in that order.")
    return ("Check each branch: 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max pool (stride 1) then "
            "1x1; all 'same' padding with ReLU.")
