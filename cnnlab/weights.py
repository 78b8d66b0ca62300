"""The trained models the course ships in ``data/weights``, and how to open them.

Every lesson that shows a trained network loads it from here, so its pictures
are the same on every run and learners can skip training:

==========================  ======  ==================================================
file                        lesson  made again (from the course folder) by
==========================  ======  ==================================================
``lenet5_modern.keras``     09      ``python -m cnnlab.train lenet5 --variant modern``
``lenet5_classic.keras``    09      ``python -m cnnlab.train lenet5 --variant classic``
``resnet_14.keras``         11      ``python -m cnnlab.resnet train --name 14 ...``
``denoiser.keras``          12      ``python -m cnnlab.beyond train-denoiser``
``style_features.keras``    12      ``python -m cnnlab.beyond train-style-features``
==========================  ======  ==================================================

``data/README.md`` gives each file's full command and figures.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._validate import describe

__all__ = ["WEIGHTS_DIR", "SHIPPED", "weights_path", "load_model", "save_model"]

#: The folder of the models the course ships.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "data" / "weights"

#: Each shipped model and the command that makes it again (run from the course folder).
SHIPPED = {
    "lenet5_modern": "python -m cnnlab.train lenet5 --variant modern "
                     "--out data/weights/lenet5_modern.keras",
    "lenet5_classic": "python -m cnnlab.train lenet5 --variant classic "
                      "--out data/weights/lenet5_classic.keras",
    "resnet_14": "python -m cnnlab.resnet train --name 14 --depth 14 --epochs 6 --shift 0 "
                 "--label-smoothing 0.1",
    "denoiser": "python -m cnnlab.beyond train-denoiser",
    "style_features": "python -m cnnlab.beyond train-style-features",
}


def weights_path(name) -> Path:
    """Path of a file in ``data/weights``: ``"denoiser"`` -> ``data/weights/denoiser.keras``.

    Parameters
    ----------
    name : str
        A plain file name; ``.keras`` is added when it has no suffix
        (``"resnet_14.json"`` keeps its own).
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a model name such as 'denoiser', got {describe(name)}")
    if not name or "/" in name or os.sep in name:
        raise ValueError(f"`name` must be a model name such as 'denoiser' (no folders), "
                         f"got {name!r}")
    return WEIGHTS_DIR / (name if Path(name).suffix else f"{name}.keras")


def load_model(name_or_path):
    """Open a shipped model by name (``"lenet5_classic"``) or any ``.keras`` file by path.

    The course's custom layers (LeNet-5's ``Subsampling`` and ``TableConv2D``,
    AlexNet's ``LocalResponseNormalization``) are registered first. The model
    comes back uncompiled: ``compile`` it to ``evaluate`` or train it further.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name from :data:`SHIPPED` or the path of a ``.keras`` file.

    Returns
    -------
    keras.Model

    Raises
    ------
    FileNotFoundError
        Naming the file and, for a shipped model, the command that makes it again.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError("`name_or_path` must be a model name or a path to a .keras file, "
                        f"got {describe(name_or_path)}")
    path = Path(name_or_path)
    if path.suffix != ".keras":
        if path.suffix or len(path.parts) > 1:
            raise ValueError("`name_or_path` must be a model name such as 'lenet5_modern' or a "
                             f"path ending in .keras (a whole Keras model), got {str(path)!r}")
        path = weights_path(str(name_or_path))
    if not path.is_file():
        command = SHIPPED.get(path.stem)
        how = (f"restore it with `git checkout -- data/weights` from the course folder, or "
               f"make it again with `{command}`" if command else
               "check the path (data/README.md lists the models the course ships)")
        raise FileNotFoundError(f"{path}: model file not found; {how}")
    from . import classic, lenet  # noqa: F401  (registers the custom layers)

    return classic.keras.saving.load_model(path, compile=False)


def save_model(model, path) -> Path:
    """Save architecture and weights only (a fresh, uncompiled copy of ``model``); return the path."""
    from .session import import_keras

    keras = import_keras()
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model, got {describe(model)}")
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"`path` must end in .keras, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.save(path)
    return path
