"""The trained models that lesson 12 ships, and the commands that make them.

From the course folder::

    python -m cnnlab.beyond train-denoiser        # data/weights/denoiser.keras
    python -m cnnlab.beyond train-style-features  # data/weights/style_features.keras

Both runs are seeded and take a minute or two on a laptop. The saved files
hold the architecture and the weights only (no optimiser state), so they are
small and open with :func:`cnnlab.weights.load_model` (or ``keras.saving.load_model``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .weights import save_model, weights_path

__all__ = ["main"]


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
