"""The trained models that lesson 12 ships, and the commands that make them.

From the course folder::

    python -m cnnlab.beyond train-denoiser        # data/weights/denoiser.keras
    python -m cnnlab.beyond train-style-features  # data/weights/style_features.keras

Both runs are seeded and take a minute or two on a laptop. The saved files
hold the architecture and the weights only (no optimiser state), so they are
small and open with ``keras.saving.load_model`` or :func:`load_model`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ._validate import describe

__all__ = ["WEIGHTS_DIR", "load_model", "save_model", "weights_path"]

#: The folder of the models the course ships.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "data" / "weights"


def weights_path(name: str) -> Path:
    """Path of a shipped model, e.g. ``weights_path("denoiser")`` -> ``data/weights/denoiser.keras``."""
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"`name` must be a model name such as 'denoiser', got {describe(name)}")
    return WEIGHTS_DIR / f"{name}.keras"


def save_model(model, path) -> Path:
    """Save architecture and weights only (a fresh, uncompiled copy of ``model``)."""
    import keras

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    copy.save(path)
    return path


def load_model(name_or_path):
    """Open a shipped model by name (``"denoiser"``) or any ``.keras`` file by path.

    Raises
    ------
    FileNotFoundError
        Naming the file and the command that makes it again.
    """
    import keras

    path = Path(name_or_path)
    if path.suffix != ".keras":
        path = weights_path(str(name_or_path))
    if not path.is_file():
        command = {"denoiser": "train-denoiser", "style_features": "train-style-features"}
        hint = command.get(path.stem)
        how = (f"make it again with `python -m cnnlab.beyond {hint}`" if hint else
               "check the path")
        raise FileNotFoundError(
            f"{path}: model file not found; restore it with `git checkout -- data/weights` "
            f"from the course folder, or {how}")
    return keras.saving.load_model(path, compile=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlab.beyond",
                                     description="Train the models lesson 12 ships.")
    sub = parser.add_subparsers(dest="command", required=True)
    den = sub.add_parser("train-denoiser", help="the MNIST denoising autoencoder")
    den.add_argument("--n-train", type=int, default=20000)
    den.add_argument("--epochs", type=int, default=5)
    den.add_argument("--out", type=Path, default=weights_path("denoiser"))
    sty = sub.add_parser("train-style-features", help="the Fashion-MNIST feature network")
    sty.add_argument("--n-train", type=int, default=20000)
    sty.add_argument("--epochs", type=int, default=4)
    sty.add_argument("--out", type=Path, default=weights_path("style_features"))
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    from .session import setup

    setup(0, keras=True)
    if args.command == "train-denoiser":
        from .denoise import train_denoiser

        model, losses = train_denoiser(args.n_train, args.epochs, verbose=2)
        print("training loss per epoch:", ", ".join(f"{v:.4f}" for v in losses))
    else:
        from .style import train_style_features

        model, accuracy = train_style_features(args.n_train, args.epochs, verbose=2)
        print(f"test accuracy: {accuracy:.4f}")
    path = save_model(model, args.out)
    print(f"saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
