"""One call at the top of every lesson: quiet, seeded, reproducible.

``cnnlab.setup()`` makes a lesson print the same thing on every run: it seeds
every random number generator, keeps TensorFlow's start-up chatter off the
page and fixes numpy's print format. ``cnnlab.fast_mode()`` tells a lesson to
shrink its training (the test suite sets ``CNNLAB_FAST=1``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
import warnings

import numpy as np

FAST_ENV = "CNNLAB_FAST"
RETRAIN_ENV = "CNNLAB_RETRAIN"


def fast_mode() -> bool:
    """Return True when ``CNNLAB_FAST`` is set to 1/true/yes (the test suite's mode).

    Lessons use it to train on less data for fewer epochs; learners run the
    full lesson, which is what the stored outputs and benchmarks show.
    """
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def retrain_all() -> bool:
    """Return True when ``CNNLAB_RETRAIN`` is set to 1/true/yes (``make notebooks-retrain``).

    Lessons whose experiments take minutes load their shipped results unless
    the learner sets a switch (``RERUN = True``, ``TRAIN = True``); a switch
    is also on when this returns True, so a maintainer's run retrains
    everything the course ships and checks the fresh results.
    """
    return os.environ.get(RETRAIN_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for a moment.

    TensorFlow's C++ start-up lines (with a timestamp and a process id) are
    written straight to the descriptor, past ``TF_CPP_MIN_LOG_LEVEL``, and
    would make a lesson's stored output differ on every run.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _quiet_tensorflow_env() -> None:
    if "tensorflow" not in sys.modules:
        # Only effective before TensorFlow starts.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def import_keras():
    """Import Keras (and TensorFlow) without their start-up chatter; return ``keras``.

    Safe to call many times: only the first call starts TensorFlow (a few
    seconds). The log level is set before TensorFlow starts, the C++ start-up
    lines are sent to /dev/null and TensorFlow's Python logger shows errors only.
    """
    _quiet_tensorflow_env()
    with native_stderr_silenced():
        import keras
        import tensorflow as tf

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    return keras


def setup(seed: int = 0, *, keras: bool = False) -> None:
    """Prepare a lesson: seeds, quiet logs, stable printing.

    Parameters
    ----------
    seed : int
        Seed for Python's ``random``, numpy and (with ``keras=True``) Keras/TensorFlow.
    keras : bool
        Also import Keras, seed it and make TensorFlow's ops deterministic.
        Takes a few seconds the first time (TensorFlow starts up).
    """
    from ._validate import check_int

    seed = check_int(seed, "seed", minimum=0)
    _quiet_tensorflow_env()
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*Protobuf gencode version.*")
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    random.seed(seed)
    np.random.seed(seed)
    if keras:
        _keras = import_keras()
        import tensorflow as tf

        _keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
