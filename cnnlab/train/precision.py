"""How the course's trainers compute: bfloat16 where the CPU has it, batch norm in one fused step.

Two things make a training step cheaper on a CPU without changing what the
network learns:

- **bfloat16** (Keras's ``"mixed_bfloat16"`` policy): the layers keep float32
  weights but multiply in bfloat16 (8 bits of mantissa instead of 23), about
  half the memory traffic; worth it only where the CPU multiplies bfloat16
  in hardware (:func:`bfloat16_supported`), so ``precision="auto"`` picks it
  there and float32 elsewhere (:func:`resolve_precision`).
- **fused batch normalisation**: Keras's ``BatchNormalization`` computes the
  batch mean, the batch variance and the normalised output as separate
  operations, each a pass over the activations (and as many again for the
  gradient). :class:`~cnnlab.train.fused_norm.FusedBatchNormalization` does
  the training pass in TensorFlow's single fused kernel: the same variables
  and the same maths.

:func:`training_twin` clones a model with both; the trainer fits the twin and
:func:`hand_back` copies its weights into the original float32 model, which
is what the learner gets, saves and loads: plain Keras layers that compute the
same way on every CPU. LeNet-5 (no batch norm) is built in bfloat16 under
:func:`dtype_policy` and handed back the same way.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .._validate import check_choice
from ..session import import_keras
from .loop import TrainResult, loss_and_accuracy

__all__ = ["PRECISIONS", "bfloat16_supported", "resolve_precision", "dtype_policy",
           "training_twin", "hand_back"]

#: Arithmetic a trainer may compute in: "auto" picks bfloat16 where the CPU has it in hardware.
PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def bfloat16_supported(cpuinfo="/proc/cpuinfo") -> bool:
    """Whether this CPU multiplies bfloat16 numbers in hardware (AVX512-BF16 or AMX-BF16).

    Read from the CPU flags in ``cpuinfo`` (Linux); False where that file
    cannot be read (another system) or lists neither flag. Without hardware
    support bfloat16 is emulated and slower than float32.
    """
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(precision) -> str:
    """``"float32"`` or ``"mixed_bfloat16"`` for a trainer's ``precision`` argument.

    ``"auto"`` is ``"mixed_bfloat16"`` where :func:`bfloat16_supported`,
    ``"float32"`` elsewhere; the other two are taken as given.
    """
    precision = check_choice(precision, "precision", PRECISIONS)
    if precision == "auto":
        return "mixed_bfloat16" if bfloat16_supported() else "float32"
    return precision


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build models inside this block with Keras's dtype policy ``name``; the old one comes back after.

    Under ``"mixed_bfloat16"`` layers keep float32 weights but compute in
    bfloat16 (8 bits of mantissa instead of 23): about half the memory traffic.
    """
    keras = import_keras()
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def training_twin(model, precision="float32"):
    """A copy of ``model`` that trains faster: fused batch norm, and ``precision`` arithmetic.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential model (:func:`cnnlab.resnet.build_resnet`,
        ...). A subclassed model has no layer graph to clone: it is returned
        as it is and trains in its own layers and precision.
    precision : {"float32", "mixed_bfloat16"}
        Compute dtype of every layer but the last, which stays float32 so the
        class probabilities (and the loss) keep float32's resolution.

    Returns
    -------
    keras.Model
        The same layers, names and starting weights, every ``BatchNormalization``
        a :class:`~cnnlab.train.fused_norm.FusedBatchNormalization`. Train it,
        then :func:`hand_back`.
    """
    from .fused_norm import FusedBatchNormalization

    keras = import_keras()
    precision = check_choice(precision, "precision", PRECISIONS[1:])
    last = model.layers[-1]

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32" if layer is last else precision
        kind = (FusedBatchNormalization if type(layer) is keras.layers.BatchNormalization
                else type(layer))
        return kind.from_config(config)

    try:
        twin = keras.models.clone_model(model, clone_function=clone)
    except ValueError:                  # subclassed: Keras clones only layer graphs
        return model
    twin.set_weights(model.get_weights())
    return twin


def hand_back(result, model, x_test, y_test, *, eval_batch_size=1000, verbose=0) -> TrainResult:
    """The weights of a trained twin in ``model``, its last epoch scored again there.

    Parameters
    ----------
    result : TrainResult
        What training the twin (or a mixed-precision model) returned.
    model : keras.Model
        The float32 model of the same architecture: the one handed on.
    x_test, y_test : (N, H, W, C) ndarray, (N,) int ndarray
        The test set of the last epoch's score.

    Returns
    -------
    TrainResult
        ``model`` (now trained) and the history, its last test loss and
        accuracy those of ``model`` as it computes in float32.
    """
    model.set_weights(result.model.get_weights())
    test_loss, test_accuracy = loss_and_accuracy(model, x_test, y_test, eval_batch_size)
    last = result.history[-1]
    if verbose:
        print(f"handed on in float32: test accuracy {100 * test_accuracy:.2f} %", flush=True)
    return TrainResult(model, [*result.history[:-1],
                               last._replace(test_loss=test_loss, test_accuracy=test_accuracy)])
