"""Opening the trained models the course ships, or any ``.keras`` file (lessons 09-12).

:func:`load_model` takes a shipped model's name (``"lenet5_classic"``) or a
path. :mod:`cnnlab.weights` checks the file first (present, whole, the shipped
SHA-256); this module registers the course's custom layers (LeNet-5's
``Subsampling`` and ``TableConv2D``, AlexNet's ``LocalResponseNormalization``)
by importing their modules, then lets Keras read it.
"""

from __future__ import annotations

from ..session import import_keras
from ..weights import model_file_error, model_path
from . import classic, lenet  # noqa: F401  (registers the custom layers with Keras)

__all__ = ["load_model", "open_model"]


def load_model(name_or_path):
    """Open a shipped model by name (``"lenet5_classic"``) or any ``.keras`` file by path.

    The file is checked first (:func:`cnnlab.weights.verify`). The course's
    custom layers are registered before Keras reads it. The model comes back
    uncompiled: ``compile`` it to ``evaluate`` or train it further.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name from :data:`cnnlab.weights.SHIPPED` or the path of a ``.keras`` file.

    Returns
    -------
    keras.Model

    Raises
    ------
    cnnlab.weights.ModelFileError
        When the file is missing (also a ``FileNotFoundError``), empty, a Git
        LFS pointer, not a zip archive, has the wrong checksum, or Keras
        cannot read it; the message names the file and, for a shipped model,
        the commands that restore it or make it again.
    """
    return open_model(name_or_path, "name_or_path")


def open_model(name_or_path, label):
    """:func:`load_model`, naming the argument ``label`` in its messages (``"path"``, ...)."""
    path = model_path(name_or_path, label)
    keras = import_keras()
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # zipfile.BadZipFile, OSError from h5py, ValueError, KeyError...
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        raise model_file_error(path, f"Keras could not read the model ({reason})")
