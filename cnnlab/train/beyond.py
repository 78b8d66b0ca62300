"""The trained models that lesson 12 ships, and the commands that make them.

From the course folder::

    python -m cnnlab.beyond train-denoiser        # data/weights/denoiser.keras
    python -m cnnlab.beyond train-style-features  # data/weights/style_features.keras

Both runs are seeded and take a minute or two on a laptop. The saved files
hold the architecture and the weights only (no optimiser state), so they are
small and open with :func:`cnnlab.weights.load_model` (or ``keras.saving.load_model``).

Every option is checked before anything is trained: a bad one prints the
usage and the problem and returns 2; unreadable data returns 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..weights import save_model, weights_path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
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
    parser.commands = {"train-denoiser": den, "train-style-features": sty}
    return parser


def _check_args(args) -> None:
    """Refuse bad options before anything is trained (messages name the options)."""
    from .loop import MAX_EPOCHS

    if not 1 <= args.n_train <= 60000:
        raise ValueError(f"--n-train must be between 1 and 60000 (the training images), "
                         f"got {args.n_train}")
    if not 1 <= args.epochs <= MAX_EPOCHS:
        raise ValueError(f"--epochs must be between 1 and {MAX_EPOCHS}, got {args.epochs}")
    out = os.fspath(args.out)
    if "\x00" in out or args.out.suffix != ".keras":
        raise ValueError(f"--out must be a file path ending in .keras, got {out!r}")
    if args.out.is_dir():
        raise ValueError(f"--out {out!r} is a folder; give a file name ending in .keras")


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 done, 1 data problem, 2 bad arguments)."""
    from .loop import check_argv

    argv = check_argv(argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:                           # argparse printed the usage and the problem
        return int(exc.code or 0)
    try:
        _check_args(args)
    except ValueError as exc:
        parser.commands[args.command].print_usage(sys.stderr)
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2

    from ..data import DataFileError
    from ..session import setup

    setup(0, keras=True)
    try:
        if args.command == "train-denoiser":
            from ..models.denoise import train_denoiser

            model, losses = train_denoiser(args.n_train, args.epochs, verbose=2)
            print("training loss per epoch:", ", ".join(f"{v:.4f}" for v in losses))
        else:
            from ..models.style import train_style_features

            model, accuracy = train_style_features(args.n_train, args.epochs, verbose=2)
            print(f"test accuracy: {accuracy:.4f}")
    except DataFileError as exc:
        print(f"{parser.prog}: error: cannot read the training data: {exc}", file=sys.stderr)
        return 1
    path = save_model(model, args.out)
    print(f"saved {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
