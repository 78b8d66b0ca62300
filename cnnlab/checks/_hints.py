"""Diagnoses for :mod:`cnnlab.checks`: from a wrong answer to the likely mistake.

Each diagnosis recomputes the right answer with one typical mistake built in
(the kernel flipped, the bias left out, the stride ignored, ...) using
:mod:`cnnlab.kernels`, and names the mistake whose result matches what the
learner's function returned.
"""

from __future__ import annotations

import numpy as np

from .. import kernels, shapes

FLIP_HINT = ("Your output matches the true convolution: the kernel is flipped — deep learning "
             "slides it unflipped (cross-correlation). Use the kernel as it is, not reversed.")
ZEROS_HINT = ("Your function returns only zeros: did you store each result in the output "
              "array (out[i] = ...) inside the loop?")
TRUNC_HINT = ("Your values are the right ones with the decimals cut off: the output array "
              "has an integer dtype. Create it with np.zeros(..., dtype=float).")


def short(value) -> str:
    text = repr(value)
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def close(a, b) -> bool:
    """Same shape and the same numbers up to rounding."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-6))


# --------------------------------------------------------------------------
# Errors raised by the learner's code
# --------------------------------------------------------------------------

def raised(exc: Exception) -> tuple[str, str]:
    """Problem and hint for an exception raised inside the learner's function."""
    text = str(exc)
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"Your function raised {type(exc).__name__}: {text}", _exception_hint(exc)


def _exception_hint(exc) -> str:
    text = str(exc).lower()
    if isinstance(exc, NotImplementedError):
        return ("Replace the line `raise NotImplementedError(...)` with your code, then run the "
                "cell again.")
    if isinstance(exc, IndexError):
        return ("An index went past the end of an array. The last window starts at n - k, so "
                "the loop runs over range(n - k + 1); and the output array must have room for "
                "every window. With a stride, the output index is the window's number j "
                "(out[j]), and window j starts at input j * stride: out[j * stride] runs past "
                "the end.")
    if isinstance(exc, ValueError) and any(w in text for w in ("broadcast", "aligned", "shape")):
        return ("Two arrays of different shapes met: every window must have exactly the "
                "kernel's size, x[i:i + k] (x[i:i + kh, j:j + kw] in 2D). A window near the end "
                "comes out shorter when the loop goes too far: the last window starts at n - k. "
                "With a stride both ends of the window move, x[j * stride:j * stride + k]; with "
                "padding, the zeros go on both sides (np.pad(x, p) puts p zeros at each end).")
    if isinstance(exc, NameError):
        return ("A name used inside the function is not defined: check its spelling, and run "
                "the cells above (Setup first).")
    if isinstance(exc, TypeError):
        return "Check how the function uses its arguments: it was called as shown above."
    return ("The error happened inside your function: run the call shown above in a new cell "
            "to see the full traceback.")


def too_slow(seconds: float, in_thread: bool = False) -> str:
    """Hint for a function that ran past the checker's time limit."""
    hint = (f"Each check uses a tiny input (at most 9x8 values), so a right answer takes a few "
            f"milliseconds; yours was still running after {seconds:g} s. An infinite loop? A "
            "`while` loop whose condition never becomes False (did you forget `i += 1`?), or a "
            "loop over a huge range (range(x.size ** 2), a loop nested once too often). If your "
            f"function is right but slow, give it more time: time_limit={max(4 * seconds, 30):g}.")
    if in_thread:
        hint += (" The loop may still be running in the background: restart the kernel "
                 "(Kernel > Restart) to stop it.")
    return hint


def not_numbers(arr: np.ndarray):
    """``None`` when ``arr`` holds real numbers; else (what it holds, hint)."""
    kind = arr.dtype.kind
    if kind in "iuf":
        return None
    if kind == "c":
        return ("complex numbers", "A convolution of real numbers gives real numbers: keep "
                "the arithmetic real (no 1j, no np.fft, no complex dtype when you create the "
                "output array).")
    if kind == "b":
        return ("True/False values instead of numbers", "Return the sums themselves, not a "
                "comparison such as `out > 0` or `out == expected`.")
    if kind in "US":
        return ("text instead of numbers", "Return numbers, not strings: leave out str(), "
                "f-strings and np.array2string; build the output with np.zeros and store each "
                "sum in it.")
    return ("something that is not an array of numbers", "Return an array of numbers (a numpy "
            "array, or a list of numbers with equal lengths): no None, no nested arrays of "
            "different sizes, no other objects.")


# --------------------------------------------------------------------------
# Output sizes
# --------------------------------------------------------------------------

def _size(n, k, s, before, after):
    padded = n + before + after
    return (padded - k) // s + 1 if padded >= k else None


def count_text(n, k, s, before, after) -> str:
    """The window count written out: ``8 - 3 + 1 = 6`` or ``floor((9 + 1 + 1 - 3) / 2) + 1 = 5``."""
    out = _size(n, k, s, before, after)
    pad = f" + {before} + {after}" if before or after else ""
    if s == 1:
        return f"{n}{pad} - {k} + 1 = {out}"
    return f"floor(({n}{pad} - {k}) / {s}) + 1 = {out}"


def size_failure(n, k, s, p, want, got, what) -> tuple[str, str]:
    """Problem and hint for a wrong output size."""
    before, after = shapes.padding_amounts(n, k, s, p)
    formula = count_text(n, k, s, before, after)
    shown = repr(got) if isinstance(got, (int, np.integer)) else short(got)
    problem = f"Expected {what} {want} but got {shown}."
    if isinstance(got, (float, np.floating)):
        hint = ("Sizes are whole numbers: use // (floor division), which rounds down and gives "
                f"an int: {formula}.")
        return problem, hint
    if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
        return problem, f"Return an int: {formula}."
    mistakes = [
        (_size(n, k, 1, before, after), s > 1,
         f"Your answer is the one for stride 1: the window jumps {s} cells at a time"),
        (_size(n, k, s, 0, 0), before + after > 0,
         f"Your answer ignores the padding: {before} zero(s) before and {after} after"),
        (_size(n, k, s, before, 0), isinstance(p, int) and p > 0,
         f"Padding goes on both sides: a padding of {p} adds 2 x {p} = {2 * p} cells"),
        (-(-(n + before + after - k) // s) + 1, s > 1,
         "Round down: a window that would stick out past the end is not used"),
        ((n + before + after - k) // s, True, "Count the first window too: add 1"),
        (k - n + 1, k != n, "n and k are swapped: the input size comes first"),
    ]
    for size, applies, text in mistakes:
        if applies and size == got and size != want:
            return problem, f"{text}. The size is {formula}."
    if p == "same":
        return problem, f"'same' padding gives ceil(n / stride) = ceil({n} / {s}) = {want} cells."
    return problem, (f"A window of {k} fits floor((n + p_before + p_after - k) / stride) + 1 "
                     f"= {formula} times.")


# --------------------------------------------------------------------------
# Convolutions
# --------------------------------------------------------------------------

class Conv:
    """One convolution case and the mistakes that could have produced a wrong answer."""

    def __init__(self, x, kernel, bias, stride, padding, reference, dims):
        self.x, self.kernel, self.bias = x, kernel, bias
        self.stride, self.padding, self.reference, self.dims = stride, padding, reference, dims
        self.channels = x.ndim == dims + 2
        self.space = slice(1, 1 + dims) if self.channels else slice(0, dims)  # spatial axes
        self.n, self.k = x.shape[self.space], kernel.shape[:dims]
        self.pads = tuple(shapes.padding_amounts(n, k, stride, padding)
                          for n, k in zip(self.n, self.k))  # ((before, after), ...) per axis

    def ref(self, kernel=None, bias="same", stride=None, pads=None):
        """The right answer, or the answer with one thing changed."""
        pads = self.pads if pads is None else pads
        return self.reference(
            self.x, self.kernel if kernel is None else kernel, self.bias if bias == "same" else bias,
            stride=self.stride if stride is None else stride,
            padding=pads[0] if self.dims == 1 else pads)

    def hint(self, want, got) -> str:
        if got.shape != want.shape:
            return self._shape_hint(want, got)
        return self._value_hint(want, got)

    # -- shapes -----------------------------------------------------------

    def fits(self) -> str:
        """'a 3x3 window fits 8 - 3 + 1 = 6 times' for this case."""
        window = f"a window of {self.k[0]}" if self.dims == 1 else f"a {self.k[0]}x{self.k[1]} window"
        counts = [count_text(n, k, self.stride, *p) for n, k, p in zip(self.n, self.k, self.pads)]
        if len(set(counts)) == 1:
            text = f"{window} fits {counts[0]} times"
        else:
            text = f"{window} fits {counts[0]} times down and {counts[1]} times across"
        return text + (f" (stride {self.stride})" if self.stride > 1 else "")

    def _sizes(self, stride=None, pads=None):
        stride = self.stride if stride is None else stride
        pads = self.pads if pads is None else pads
        return tuple(_size(n, k, stride, *p) for n, k, p in zip(self.n, self.k, pads))

    def _shape_hint(self, want, got) -> str:
        if got.ndim != want.ndim:
            if got.size == want.size:
                return (f"You return the right number of values ({want.size}) in the wrong "
                        f"arrangement: return an array of shape {want.shape}.")
            return f"Return a {want.ndim}-dimensional array of shape {want.shape}."
        if self.channels and got.shape[0] != want.shape[0]:
            return f"Keep one result per example: the first axis stays N = {want.shape[0]}."
        if self.channels and got.shape[-1] != want.shape[-1]:
            return (f"The last axis holds one feature map per filter: C_out = kernel.shape[-1] "
                    f"= {want.shape[-1]}.")
        expected, found = want.shape[self.space], got.shape[self.space]
        stride, (p0, p1) = self.stride, self.pads[0]
        no_pad = ((0, 0),) * self.dims
        mistakes = [
            (self._sizes(stride=1), stride > 1,
             f"Your output has the size for stride 1: the window jumps {stride} cells at a time, "
             f"so {self.fits()}."),
            (self._sizes(pads=no_pad), p0 + p1 > 0,
             f"Your output has the size without padding: add {p0} zero(s) before and {p1} after "
             f"along every axis first; then {self.fits()}."),
            (self._sizes(pads=tuple((a, 0) for a, _ in self.pads)),
             isinstance(self.padding, int) and self.padding > 0,
             f"Padding goes on both sides: {self.padding} zero(s) before and after, "
             f"so {self.fits()}."),
            (tuple(e - 1 for e in expected), stride == 1 and p0 + p1 == 0,
             f"One window position is missing: loop over range(n - k + 1), not range(n - k); "
             f"{self.fits()}."),
            (self._sizes_ceil(), stride > 1,
             f"Round down: a window that would stick out past the end is not used, so "
             f"{self.fits()}."),
            (tuple(e - 1 for e in expected), True,
             f"One window position is missing: count the first window too (the + 1): "
             f"{self.fits()}."),
            (tuple(e + 1 for e in expected), True,
             f"One window position too many: the last window must end inside the "
             f"{'padded ' if p0 + p1 else ''}input, so {self.fits()}."),
        ]
        spread = self._spread_hint(want, got)
        if spread:
            return spread
        for sizes, applies, text in mistakes:
            if applies and sizes == found and sizes != expected:
                return text
        if self.dims == 2 and found == expected[::-1]:
            return "Rows and columns are swapped: the first axis is the height (rows)."
        return f"Did you forget that {self.fits()}?"

    def _sizes_ceil(self):
        """The sizes with the window count rounded up instead of down."""
        return tuple(-(-(n + a + b - k) // self.stride) + 1 if n + a + b >= k else None
                     for n, k, (a, b) in zip(self.n, self.k, self.pads))

    def _spread_hint(self, want, got):
        """Window j stored at out[j * stride] of a stride-1-sized array, zeros in between."""
        if self.stride == 1 or got.shape[self.space] != self._sizes(stride=1):
            return None
        every = (slice(None),) * self.space.start + (slice(None, None, self.stride),) * self.dims
        spread = np.zeros_like(got)
        spread[every] = want
        if not close(got, spread):
            return None
        s = self.stride
        if self.dims == 1:
            return (f"You stored the window that starts at input i in out[i], leaving zeros in "
                    f"between: store window number j in out[j] (it starts at j * {s}); "
                    f"{self.fits()}, so the output has that many cells.")
        return (f"You stored the window that starts at input (r, c) in out[r, c], leaving zeros "
                f"in between: store window (i, j) in out[i, j] (it starts at row i * {s}, "
                f"column j * {s}); {self.fits()}, so the output has that many cells.")

    # -- values -----------------------------------------------------------

    def _value_hint(self, want, got) -> str:
        if not np.any(got) and np.any(want):
            return ZEROS_HINT
        for axes, text in self._flips():
            if close(got, self.ref(kernel=np.flip(self.kernel, axes))):
                return text
        hints = (self._bias_hint(want, got), self._stride_hint(got), self._padding_hint(want, got))
        for hint in hints:
            if hint:
                return hint
        if close(got, np.trunc(want)):
            return TRUNC_HINT
        if self.dims == 2 and not self.channels and close(got, want.T):
            return "Rows and columns are swapped: x[i, j] is row i, column j."
        return self._first_wrong_cell(want, got)

    def _flips(self):
        yield (tuple(range(self.dims)), FLIP_HINT)
        if self.dims == 2:
            yield ((0,), "Your kernel is flipped upside down (its rows reversed): use k as it is.")
            yield ((1,), "Your kernel is flipped left to right (its columns reversed): "
                         "use k as it is.")

    def _bias_hint(self, want, got):
        if self.bias is None or not np.all(np.asarray(self.bias) != 0):
            return None
        times = (got - want) / np.asarray(self.bias)  # how many extra biases, per cell
        if not np.allclose(times, times.flat[0]):
            return None
        t = float(times.flat[0])
        if np.isclose(t, -1):
            return "Your output is off by exactly the bias: did you forget to add `bias`?"
        if np.isclose(t, -2):
            return "You subtracted the bias: add it."
        if t > 0 and np.isclose(t, round(t)):
            return (f"The bias is added {round(t) + 1} times: add it once per output cell, after "
                    "the sum, not to every product.")
        return None

    def _stride_hint(self, got):
        if self.stride == 1:
            return None
        crop = (slice(None),) * self.space.start + tuple(slice(0, e) for e in got.shape[self.space])
        if close(got, self.ref(stride=1)[crop]):
            return (f"Your values are those of stride 1: the window must jump {self.stride} cells, "
                    f"so window i starts at i * {self.stride}.")
        return None

    def _padding_hint(self, want, got):
        if not any(a + b for a, b in self.pads):
            return None
        swapped = tuple((b, a) for a, b in self.pads)
        if swapped != self.pads and close(got, self.ref(pads=swapped)):
            return ("The odd extra zero of 'same' padding goes at the end (bottom/right), as in "
                    "TensorFlow and Keras, not at the start.")
        all_before = tuple((a + b, 0) for a, b in self.pads)
        for one_side in (all_before, tuple(p[::-1] for p in all_before)):
            if close(got, self.ref(pads=one_side)):
                return (f"All the zeros are on one side: pad {self.pads[0][0]} before and "
                        f"{self.pads[0][1]} after, along every axis.")
        inside = self._interior()
        if inside.any() and not inside.all() and close(got[inside], want[inside]):
            return ("The cells near the border are wrong but the inside is right: check the "
                    f"padding — zeros on every side, {self.pads[0][0]} before and "
                    f"{self.pads[0][1]} after along each axis.")
        return None

    def _interior(self):
        """Mask of the output cells whose window lies inside the unpadded input."""
        masks = []
        for n, k, (before, _), out in zip(self.n, self.k, self.pads, self._sizes()):
            start = np.arange(out) * self.stride - before
            masks.append((start >= 0) & (start + k <= n))
        inside = masks[0] if self.dims == 1 else np.logical_and.outer(masks[0], masks[1])
        if self.channels:
            inside = inside[None, ..., None]
        return np.broadcast_to(inside, self.ref().shape)

    def _first_wrong_cell(self, want, got) -> str:
        index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want, rtol=1e-5, atol=1e-6))[0])
        spatial = index[self.space]
        starts = [i * self.stride - p[0] for i, p in zip(spatial, self.pads)]
        padded = any(a + b for a, b in self.pads)
        if padded:  # indices in the padded input
            starts = [s + p[0] for s, p in zip(starts, self.pads)]
        window = ", ".join(f"{s}:{s + k}" for s, k in zip(starts, self.k))
        name = "xp" if padded else "x"
        if self.channels:
            f = index[-1]
            kernel = ", ".join([":"] * (self.dims + 1) + [str(f)])
            expr = (f"np.sum({name}[{index[0]}, {window}, :] * k[{kernel}])"
                    + (f" + bias[{f}]" if self.bias is not None else ""))
        else:
            expr = f"np.sum({name}[{window}] * k)" + (" + bias" if self.bias is not None else "")
        where = " (xp is x padded with zeros)" if padded else ""
        at = index[0] if len(index) == 1 else index
        return (f"Output cell {at} should be {expr} = {want[index]:.4g}{where}, but your function "
                f"gave {got[index]:.4g}.")


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------

def pool(x, p, s, want, got) -> str:
    """The likely mistake of a max pooling that returned ``got`` instead of ``want``."""
    s = p if s is None else s
    channels = x.ndim == 4
    space = slice(1, 3) if channels else slice(0, 2)
    n = x.shape[space]
    fits = " and ".join(dict.fromkeys(count_text(m, p, s, 0, 0) for m in n))
    if got.shape != want.shape:
        found = got.shape[space] if got.ndim == want.ndim else None
        ceil = tuple(-(-(m - p) // s) + 1 for m in n)
        if found == tuple(m - p + 1 for m in n) and s > 1:
            return (f"The windows must not overlap: they jump {s} cells (the stride equals the "
                    f"pool size), so a {p}x{p} window fits {fits} times.")
        if found == ceil:
            return (f"A window that does not fit is dropped ('valid' pooling rounds down): "
                    f"{fits}.")
        if found == tuple(n):
            return f"Pooling shrinks the map: each {p}x{p} window becomes one cell, {fits}."
        return f"A {p}x{p} window jumping {s} cells fits {fits} times."
    mistakes = [
        (kernels.avg_pool2d(x, p, s), "You averaged: max pooling keeps the largest value of each "
                                      "window (np.max)."),
        (kernels.sum_pool2d(x, p, s), "You added up: max pooling keeps the largest value of each "
                                      "window (np.max)."),
        (-kernels.max_pool2d(-x, p, s), "You kept the smallest value: use np.max."),
        (kernels.max_pool2d(np.maximum(x, 0), p, s),
         "Your maxima never go below 0: start each window's maximum from its first cell (or "
         "-np.inf), not from 0 — a window of negative numbers has a negative maximum."),
    ]
    for answer, text in mistakes:
        if close(got, answer):
            return text
    if not channels and close(got, want.T):
        return "Rows and columns are swapped: x[i, j] is row i, column j."
    index = tuple(int(i) for i in np.argwhere(~np.isclose(got, want))[0])
    i, j = index[space]
    cells = f"{i * s}:{i * s + p}, {j * s}:{j * s + p}"
    expr = f"np.max(x[{index[0]}, {cells}, {index[-1]}])" if channels else f"np.max(x[{cells}])"
    return (f"Output cell {index} should be {expr} = {want[index]:.4g}, but your function gave "
            f"{got[index]:.4g}.")
