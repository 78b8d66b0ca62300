"""The portability pass of `make test` really changes floating-point round-off.

`make test` runs every notebook a second time under ``PORTABLE_ENV`` (set in
the Makefile): TensorFlow without oneDNN, one thread, OpenBLAS's older kernels.
A stored output whose digits depend on round-off then fails on the
maintainer's machine, before it fails on a learner's. This test shows that the
configuration is not a no-op: a TensorFlow convolution and its gradient, summed
over many values, give other last digits under it than under the default.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from helpers import ROOT  # noqa: E402

PROBE = """
import numpy as np, tensorflow as tf
rng = np.random.default_rng(0)
x = tf.constant(rng.standard_normal((16, 28, 28, 8)).astype("float32"))
kernels = [tf.Variable(0.4 * rng.standard_normal((3, 3, 8, 8)).astype("float32")) for _ in range(6)]
with tf.GradientTape() as tape:
    y = x
    for k in kernels:                       # six 3x3 convolutions with ReLUs
        y = tf.nn.relu(tf.nn.conv2d(y, k, 1, "SAME"))
    loss = tf.reduce_mean(y ** 2)
g = tape.gradient(loss, kernels[0])
a = rng.standard_normal((300, 300))
print(repr(float(loss)), repr(float(tf.reduce_sum(tf.abs(g)))), repr(float((a @ a).sum())))
"""


def portable_env() -> dict[str, str]:
    """The variables of the Makefile's PORTABLE_ENV, as a dict."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    line = re.search(r"^PORTABLE_ENV\s*:?=\s*(.+)$", text, flags=re.M)
    assert line, "the Makefile should define PORTABLE_ENV for the portability pass"
    pairs = dict(word.split("=", 1) for word in shlex.split(line.group(1)))
    assert pairs, "PORTABLE_ENV is empty"
    return pairs


def run_probe(extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_", "OMP_", "OPENBLAS_", "ONEDNN_"))}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", **extra)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_makefile_runs_every_lesson_again_under_the_portable_env():
    done = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    runs = [line for line in done.stdout.splitlines() if "-m pytest" in line]
    assert len(runs) == 2, runs
    first, portable = runs
    lessons = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for run in runs:
        assert "--nbval" in run and sorted(set(re.findall(r"notebooks/\S+\.ipynb", run))) == lessons
    assert " tests" in first
    assert all(f"{k}={v}" in portable for k, v in portable_env().items())


def test_portable_env_changes_tensorflow_round_off():
    env = portable_env()
    assert env.get("TF_ENABLE_ONEDNN_OPTS") == "0"
    default = run_probe({"TF_ENABLE_ONEDNN_OPTS": "1"})
    again = run_probe({"TF_ENABLE_ONEDNN_OPTS": "1"})
    portable = run_probe(env)
    assert default == again, "the probe should be deterministic under one configuration"
    assert portable != default, (
        f"PORTABLE_ENV gave the same digits as the default ({default}): it would not catch "
        "an output that depends on round-off")
    # the same numbers to float32 precision: only round-off differs
    a = [float(v) for v in default.split()]
    b = [float(v) for v in portable.split()]
    assert all(abs(p - q) <= 1e-4 * abs(p) for p, q in zip(a, b)), (default, portable)
