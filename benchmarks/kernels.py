"""Time cnnlab's numpy convolution against TensorFlow on LeNet-sized layers.

Run: ``python benchmarks/kernels.py`` (or ``make bench``). Prints, for each
workload, the best time of several runs after a warm-up (TensorFlow and
``conv2d`` take turns, in several rounds, so that both see the same load), for

- ``tf.nn.conv2d`` (the reference),
- ``cnnlab.kernels.conv2d`` (im2col: one strided view, one matrix product),
- ``cnnlab.kernels.conv2d_naive`` (Python loops; timed on a smaller batch and
  scaled to the full one, as its time grows linearly with the batch),

and the ratios conv2d / tf and naive / conv2d. All in float32, TensorFlow's
default. The results are checked to agree before anything is timed.
"""

from __future__ import annotations

import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cnnlab import kernels  # noqa: E402

BATCH = 64
NAIVE_BATCH = 8  # the loop version is timed on 8 images and scaled by 64 / 8
REPEATS = 20
ROUNDS = 5
NAIVE_REPEATS = 5

WORKLOADS = [
    # (name, input shape (N, H, W, C_in), kernel shape (KH, KW, C_in, C_out))
    ("LeNet C1: 32x32x1 -> 6 @ 5x5", (BATCH, 32, 32, 1), (5, 5, 1, 6)),
    ("LeNet C3: 14x14x6 -> 16 @ 5x5", (BATCH, 14, 14, 6), (5, 5, 6, 16)),
]


def best_times(funcs, repeats, rounds=1, warmup=2):
    """Best wall-clock time in seconds of each function.

    Each round runs every function in turn: ``warmup`` untimed calls, then
    ``repeats`` timed ones. Several rounds give every function several chances
    on a machine whose load changes; calls are not interleaved one by one,
    because numpy's BLAS threads run slowly right after TensorFlow's
    thread pool has been busy.
    """
    best = [float("inf")] * len(funcs)
    for _ in range(rounds):
        for index, func in enumerate(funcs):
            for _ in range(warmup):
                func()
            for _ in range(repeats):
                start = time.perf_counter()
                func()
                best[index] = min(best[index], time.perf_counter() - start)
    return best


def run_workload(name, x_shape, k_shape, rng):
    x = rng.standard_normal(x_shape).astype(np.float32)  # (N, H, W, C_in)
    kernel = rng.standard_normal(k_shape).astype(np.float32)  # (KH, KW, C_in, C_out)
    small = x[:NAIVE_BATCH]

    # same answers first
    reference = tf.nn.conv2d(x, kernel, strides=1, padding="VALID").numpy()
    np.testing.assert_allclose(kernels.conv2d(x, kernel), reference, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(kernels.conv2d_naive(small, kernel), reference[:NAIVE_BATCH],
                               rtol=1e-4, atol=1e-4)

    t_tf, t_fast = best_times([
        lambda: tf.nn.conv2d(x, kernel, strides=1, padding="VALID").numpy(),
        lambda: kernels.conv2d(x, kernel),
    ], REPEATS, ROUNDS)
    (t_naive,) = best_times([lambda: kernels.conv2d_naive(small, kernel)], NAIVE_REPEATS, warmup=1)
    t_naive *= len(x) / len(small)
    return name, t_tf, t_fast, t_naive


def main():
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, tensorflow {tf.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPU core(s) visible")
    print(f"float32, batch {BATCH}, 'valid' padding, stride 1; best of {ROUNDS} rounds of "
          f"{REPEATS} runs (after 2 warm-up runs), tf.nn.conv2d and conv2d taking turns by round")
    print(f"conv2d_naive timed on a batch of {NAIVE_BATCH} (best of {NAIVE_REPEATS}) "
          f"and scaled by {BATCH // NAIVE_BATCH} to batch {BATCH}\n")
    header = (f"{'workload':32} {'tf.nn.conv2d':>13} {'conv2d':>10} {'conv2d_naive':>13} "
              f"{'conv2d/tf':>10} {'naive/conv2d':>13}")
    print(header)
    print("-" * len(header))
    for name, x_shape, k_shape in WORKLOADS:
        name, t_tf, t_fast, t_naive = run_workload(name, x_shape, k_shape, rng)
        print(f"{name:32} {t_tf * 1e3:10.2f} ms {t_fast * 1e3:7.2f} ms {t_naive * 1e3:10.1f} ms "
              f"{t_fast / t_tf:9.1f}x {t_naive / t_fast:12.0f}x")


if __name__ == "__main__":
    main()
