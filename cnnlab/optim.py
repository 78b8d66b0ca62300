"""Gradient-descent optimisers written out in numpy (lesson 08).

Each optimiser is a few lines: ``step(params, grads)`` moves every parameter
array, in place, against its gradient. The difference between them is what
they remember from earlier steps:

- :class:`SGD` remembers nothing: ``w <- w - lr * g``;
- :class:`Momentum` keeps a velocity, a running sum of past gradients;
- :class:`RMSProp` keeps a running mean of squared gradients and divides by
  its square root, so every weight gets its own step size;
- :class:`Adam` does both, with a correction for the first steps.

The update rules are exactly those of ``keras.optimizers.SGD`` (with and
without ``momentum``), ``RMSprop`` and ``Adam``; :func:`minibatches` cuts a training set
into the batches of batch, mini-batch or stochastic gradient descent.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import (
    MAX_STEPS, MAX_WORK, as_array, check_allocation, check_int, check_work, describe,
)

__all__ = ["SGD", "Momentum", "RMSProp", "Adam", "minibatches"]


class _Optimizer:
    """Shared checks and per-parameter memory; subclasses write ``_update``."""

    def __init__(self, lr):
        self.lr = _check_rate(lr, "lr")
        self.iterations = 0  # steps taken so far
        self.state = None  # one dict of arrays per parameter, made on the first step

    def step(self, params, grads) -> None:
        """Update every array of ``params`` in place from ``grads``.

        Parameters
        ----------
        params : list of ndarray, or dict of name -> ndarray
            Float arrays; they are changed in place.
        grads : same structure and shapes as ``params``
        """
        params, grads, names = _pair_up(params, grads)
        state = self.state
        if state is None:
            state = [self._new_state(p) for p in params]
        elif len(state) != len(params) or any(
                s["shape"] != p.shape for s, p in zip(state, params)):
            raise ValueError(
                "`params` must be the same arrays on every step: this optimiser started with "
                f"shapes {[s['shape'] for s in state]}, got {[p.shape for p in params]}"
            )
        # every new value is computed (and checked) before any parameter or memory changes
        self.iterations += 1  # Adam's bias correction reads the step number
        try:
            new_state = [dict(s) for s in state]  # _update replaces its arrays, never edits them
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
                updates = [self._update(g, s).astype(p.dtype, copy=False)
                           for p, g, s in zip(params, grads, new_state)]
                new_values = [p - u for p, u in zip(params, updates)]
            for name, value in zip(names, new_values):
                if not np.all(np.isfinite(value)):
                    raise ValueError(
                        f"`params[{name!r}]` would overflow to infinity or NaN in this step "
                        f"(its dtype is {value.dtype}); `grads[{name!r}]` or the learning rate "
                        f"(lr={self.lr:g}) is too large. Nothing was changed.")
        except BaseException:
            self.iterations -= 1
            raise
        for p, value in zip(params, new_values):
            p[...] = value
        self.state = new_state

    def _new_state(self, p):
        return {"shape": p.shape}

    def _update(self, g, s):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g})"


class SGD(_Optimizer):
    """Plain gradient descent.

    ``w <- w - lr * g``

    Parameters
    ----------
    lr : float
        Learning rate (step size), ``keras.optimizers.SGD(learning_rate=lr)``.
    """

    def _update(self, g, s):
        return self.lr * g


class Momentum(_Optimizer):
    """Gradient descent with momentum (a heavy ball rolling downhill).

    ``v <- beta * v - lr * g``;  ``w <- w + v``

    The velocity ``v`` is a decaying sum of past steps: where gradients keep
    pointing the same way the steps grow (up to ``1 / (1 - beta)`` times), where
    they flip back and forth they cancel. Written as an average instead,
    ``m <- beta * m + (1 - beta) * g``, ``w <- w - lr' * m``, it is the same
    rule with ``lr = lr' * (1 - beta)``.

    Parameters
    ----------
    lr : float
        Learning rate; ``keras.optimizers.SGD(learning_rate=lr, momentum=beta)``.
    beta : float in [0, 1)
        How much of the velocity survives a step.
    """

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = _check_fraction(beta, "beta")

    def _new_state(self, p):
        return {"shape": p.shape, "v": np.zeros_like(p)}

    def _update(self, g, s):
        s["v"] = self.beta * s["v"] - self.lr * g
        return -s["v"]

    def __repr__(self):
        return f"Momentum(lr={self.lr:g}, beta={self.beta:g})"


class RMSProp(_Optimizer):
    """Gradient descent with a step size of its own for every weight.

    ``s <- beta * s + (1 - beta) * g**2``;  ``w <- w - lr * g / sqrt(s + eps)``

    ``s`` tracks the typical size of each weight's gradient; dividing by its
    root makes steep directions take small steps and flat ones large steps.
    ``eps`` keeps the division finite; like Keras it goes inside the root
    (some texts write ``sqrt(s) + eps``, which differs only for tiny ``s``).

    Parameters
    ----------
    lr : float
        Learning rate; ``keras.optimizers.RMSprop(learning_rate=lr, rho=beta, epsilon=eps)``.
    beta : float in [0, 1)
        Decay of the running mean (Keras's ``rho``).
    eps : float
    """

    def __init__(self, lr, beta=0.9, eps=1e-7):
        super().__init__(lr)
        self.beta = _check_fraction(beta, "beta")
        self.eps = _check_rate(eps, "eps")

    def _new_state(self, p):
        return {"shape": p.shape, "s": np.zeros_like(p)}

    def _update(self, g, s):
        s["s"] = self.beta * s["s"] + (1 - self.beta) * g ** 2
        return self.lr * g / np.sqrt(s["s"] + self.eps)

    def __repr__(self):
        return f"RMSProp(lr={self.lr:g}, beta={self.beta:g})"


class Adam(_Optimizer):
    """Momentum and RMSProp together, with bias correction (Kingma and Ba, 2015).

    At step ``t = 1, 2, ...``::

        m <- beta1 * m + (1 - beta1) * g          # running mean of gradients
        v <- beta2 * v + (1 - beta2) * g**2       # running mean of squares
        m_hat = m / (1 - beta1**t)                # both start at 0: undo that
        v_hat = v / (1 - beta2**t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps_hat)

    The code folds both corrections into the step size, as the paper suggests
    and Keras does: ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)`` and
    ``w <- w - lr_t * m / (sqrt(v) + eps)``, which is the rule above with
    ``eps_hat = eps * sqrt(1 - beta2**t)``.

    Parameters
    ----------
    lr : float
        Learning rate; ``keras.optimizers.Adam(learning_rate=lr, beta_1=beta1,
        beta_2=beta2, epsilon=eps)``.
    beta1, beta2 : float in [0, 1)
    eps : float
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = _check_fraction(beta1, "beta1")
        self.beta2 = _check_fraction(beta2, "beta2")
        self.eps = _check_rate(eps, "eps")

    def _new_state(self, p):
        return {"shape": p.shape, "m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _update(self, g, s):
        t = self.iterations
        s["m"] = self.beta1 * s["m"] + (1 - self.beta1) * g
        s["v"] = self.beta2 * s["v"] + (1 - self.beta2) * g ** 2
        lr_t = self.lr * np.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)  # both corrections
        return lr_t * s["m"] / (np.sqrt(s["v"]) + self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g})"


def minibatches(n, batch_size, rng=None):
    """Cut ``n`` training examples into batches for one epoch.

    ``batch_size = n`` gives (full-)batch gradient descent, one step per
    epoch; ``batch_size = 1`` gives stochastic gradient descent, one step per
    example; anything between is mini-batch gradient descent.

    Parameters
    ----------
    n : int
        Number of training examples.
    batch_size : int
        Examples per batch; the last batch may be smaller.
    rng : numpy.random.Generator, optional
        Shuffles the examples first (a new order every epoch); ``None`` keeps
        the order ``0 .. n - 1``.

    Returns
    -------
    list of (batch,) int ndarray
        Indices of the examples of each batch; together they cover every
        example exactly once.

    Examples
    --------
    >>> [b.tolist() for b in minibatches(5, 2)]
    [[0, 1], [2, 3], [4]]
    """
    n = check_int(n, "n", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)) or None, "
            f"got {describe(rng)}"
        )
    check_allocation(n, "n", what="the example indices")
    # shuffling jumps around memory: an eighth of the work allowed to a plain pass
    check_work(n, "n", what="the example indices" + (" (shuffled)" if rng is not None else ""),
               limit=MAX_WORK if rng is None else MAX_WORK // 8)
    check_work(-(-n // batch_size), "`n` and `batch_size`", what="the list of batches",
               limit=10 * MAX_STEPS, unit="batches", advice="Use a larger `batch_size`.")
    order = np.arange(n) if rng is None else rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

def _pair_up(params, grads):
    """Parameters and gradients as two matching lists of arrays."""
    if isinstance(params, dict):
        if not isinstance(grads, dict) or set(grads) != set(params):
            raise ValueError(
                f"`grads` must be a dict with the keys of `params` {sorted(params)}, "
                f"got {sorted(grads) if isinstance(grads, dict) else describe(grads)}"
            )
        names = list(params)
        params, grads = [params[k] for k in names], [grads[k] for k in names]
    elif isinstance(params, (list, tuple)):
        if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
            raise ValueError(
                f"`grads` must be a list with one gradient per parameter ({len(params)}), "
                f"got {describe(grads)}"
            )
        names = list(range(len(params)))
    else:
        raise TypeError(f"`params` must be a list or a dict of numpy arrays, got {describe(params)}")
    seen = {}
    for name, p in zip(names, params):
        if id(p) in seen and isinstance(p, np.ndarray):
            raise ValueError(f"`params` holds the same array twice ({seen[id(p)]!r} and {name!r}); "
                             "pass each parameter once, with the sum of its gradients")
        seen[id(p)] = name
    checked = []
    for name, p, g in zip(names, params, grads):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise TypeError(
                f"`params[{name!r}]` must be a float numpy array (updated in place), got {describe(p)}"
            )
        if not p.flags.writeable:
            raise TypeError(f"`params[{name!r}]` must be a writable array (it is updated in "
                            "place); pass a copy: p.copy()")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"`params[{name!r}]` must hold finite numbers, got infinite or NaN "
                             "values (an earlier step may have diverged)")
        g = as_array(g, f"grads[{name!r}]")
        if g.shape != p.shape:
            raise ValueError(
                f"`grads[{name!r}]` must have the shape of its parameter {p.shape}, got {g.shape}"
            )
        checked.append(g)
    return list(params), checked, names


def _check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"`{name}` must be a finite number, got {describe(value)}")
    if value <= 0:
        raise ValueError(f"`{name}` must be positive, got {value}")
    return float(value)


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"`{name}` must be a number in [0, 1), got {describe(value)}")
    if not 0 <= value < 1:
        raise ValueError(f"`{name}` must be in [0, 1), got {value}")
    return float(value)
