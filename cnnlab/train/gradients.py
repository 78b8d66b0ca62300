"""Per-layer gradient norms of lesson 11's plain and residual networks, at initialisation.

The degradation experiment (:func:`cnnlab.train.resnet.degradation_experiment`)
shows *that* a deep plain network trains badly; this record shows one reason
*why*, without training anything: for each network of the experiment (plain
and residual, each depth, the same widths, batch normalisation and seed) one
backward pass on one fixed batch of training images gives the Euclidean norm
of the loss gradient for every convolution kernel, input side first
(:func:`cnnlab.models.resnet.gradient_norms`). From the course folder::

    python -m cnnlab.train gradient-norms

writes ``data/weights/degradation_gradients.json`` (about 15 s on two cores),
which :class:`cnnlab.widgets.degradation_viewer.DegradationViewer` draws.
The record is ``{"settings": {...}, "networks": {"plain20": {"layers": [...],
"norms": [...]}, ...}}``: one norm per 3x3 convolution (``depth - 1`` of
them; the 1x1 projection shortcuts of the residual networks are left out, so
a network and its twin list the same layers).

Only initialisation: after one epoch of training (10,000 images) the four
networks would take over 5 minutes on two shared cores, beyond this command's
budget. Keras is imported when the record is made, not when this module is.
"""

from __future__ import annotations

from .. import data
from .._validate import MAX_SEED, check_flag, check_int, check_params, check_seed, describe
from ..weights import note_made_again, weights_path

__all__ = ["DEFAULT_OUT", "BATCH_SIZE", "gradient_norm_record", "check_gradient_norm_record",
           "add_gradient_norms_parser", "gradient_norms_command"]

DEFAULT_OUT = "degradation_gradients.json"
BATCH_SIZE = 128                 # the batch of the degradation recipe
MAX_BATCH = 1024                 # a larger batch gives the same picture, more slowly
KINDS = ("plain", "resnet")


def check_gradient_norm_record(depths, widths, batch_norm, seed, batch_size):
    """Every argument of :func:`gradient_norm_record`, checked; returns them normalised."""
    from ..models.resnet import check_depth, check_widths, network_params

    if isinstance(depths, (bool, str, bytes)) or not isinstance(depths, (tuple, list)) \
            or not depths:
        raise TypeError(f"`depths` must be a non-empty tuple of ints such as (20, 56), got "
                        f"{describe(depths)}")
    widths = check_widths(widths)
    depths = tuple(check_int(d, "depths", minimum=1) for d in depths)
    for depth in depths:
        try:
            n = check_depth(depth, widths)
        except ValueError as exc:
            raise ValueError(f"`depths`: {exc}") from None
        check_params(network_params(n, widths, 1, 10, "basic", True), "`widths` and `depths`")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if batch_size > MAX_BATCH:
        raise ValueError(f"`batch_size` must be at most {MAX_BATCH} (one batch of training "
                         f"images), got {batch_size}")
    return depths, widths, check_flag(batch_norm, "batch_norm"), check_seed(seed), batch_size


def gradient_norm_record(depths=(20, 56), *, widths=(8, 16, 32), batch_norm=True, seed=0,
                         batch_size=BATCH_SIZE) -> dict:
    """Gradient norm of every convolution kernel of the degradation networks, at initialisation.

    Parameters
    ----------
    depths : tuple of int
        Depths ``6n + 2`` (at most 110); one plain and one residual network each.
    widths : tuple of int
        Channels per stage, as in :func:`cnnlab.models.resnet.build_resnet`.
    batch_norm : bool
    seed : int
        Seed of the starting weights (and Keras's global seed).
    batch_size : int
        The first ``batch_size`` Fashion-MNIST training images (1 .. 1024) are the batch.

    Returns
    -------
    dict
        ``{"settings": {...}, "networks": {"plain20": {"layers": [name, ...],
        "norms": [float, ...]}, ...}}``, layers input side first, norms to 6
        significant digits. JSON-ready.
    """
    depths, widths, batch_norm, seed, batch_size = check_gradient_norm_record(
        depths, widths, batch_norm, seed, batch_size)
    (x, y), _ = data.load_fashion_mnist((batch_size, 1))                 # (B, 28, 28), (B,)
    from ..models.resnet import build_plain, build_resnet, gradient_norms, prepare_images
    from ..session import import_keras

    keras = import_keras()
    x = prepare_images(x)                                                # (B, 28, 28, 1)
    networks = {}
    for kind, builder in zip(KINDS, (build_plain, build_resnet)):
        for depth in depths:
            keras.utils.set_random_seed(seed)
            model = builder(depth, widths=widths, batch_norm=batch_norm, seed=seed)
            norms = gradient_norms(model, x, y)                          # layer name -> norm
            networks[f"{kind}{depth}"] = {"layers": list(norms),
                                          "norms": [float(f"{v:.6g}") for v in norms.values()]}
            keras.backend.clear_session()
    settings = {"depths": list(depths), "widths": list(widths), "batch_norm": batch_norm,
                "seed": seed, "batch_images": batch_size,
                "batch": f"the first {batch_size} Fashion-MNIST training images",
                "when": "initialisation (no training)",
                "loss": "mean sparse categorical cross-entropy, training mode (batch statistics)",
                "layers": "every 3x3 convolution kernel, input side first (no 1x1 projections)"}
    return {"settings": settings, "networks": networks}


# ----------------------------------------------------------------- the subcommand

def add_gradient_norms_parser(sub):
    """Add ``gradient-norms`` to the subparsers ``sub`` of ``python -m cnnlab.train``."""
    p = sub.add_parser(
        "gradient-norms",
        help="per-layer gradient norms of the degradation networks at initialisation (lesson 11)",
        description="Build the plain and residual networks of the degradation experiment, run "
                    "one backward pass on one batch of Fashion-MNIST training images and write "
                    "the gradient norm of every convolution kernel to JSON (lesson 11).")
    p.add_argument("--depths", default="20,56", help="depths to compare (default 20,56)")
    p.add_argument("--widths", default="8,16,32", help="channels per stage (default 8,16,32)")
    p.add_argument("--no-batch-norm", action="store_true", help="no batch normalisation")
    p.add_argument("--seed", default="0", help="seed of the starting weights (default 0)")
    p.add_argument("--batch-size", default=str(BATCH_SIZE),
                   help=f"training images in the batch (default {BATCH_SIZE})")
    p.add_argument("--out", default=None,
                   help=f"JSON file to write (default data/weights/{DEFAULT_OUT})")
    p.set_defaults(command_prog=p.prog)
    return p


def _option_ints(text, option, minimum, maximum=None) -> tuple:
    values = []
    for word in text.split(","):
        try:
            value = int(word.strip())
        except ValueError:
            raise ValueError(f"{option} must be a whole number (or several, comma-separated), "
                             f"got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise ValueError(f"{option} must be {bound}, got {word.strip()}")
        values.append(value)
    return tuple(values)


def gradient_norms_command(args):
    """Read and check the options of ``gradient-norms``; return ``(run, save)`` for the command."""
    from pathlib import Path

    depths = _option_ints(args.depths, "--depths", 1)
    widths = _option_ints(args.widths, "--widths", 1)
    (seed,) = _option_ints(args.seed, "--seed", 0, MAX_SEED)
    (batch_size,) = _option_ints(args.batch_size, "--batch-size", 1, MAX_BATCH)
    out = weights_path(DEFAULT_OUT) if args.out is None else Path(args.out)
    if out.suffix != ".json" or "\x00" in str(out) or out.is_dir():
        raise ValueError(f"--out must be a file name ending in .json, got {str(out)!r}")
    batch_norm = not args.no_batch_norm
    try:
        check_gradient_norm_record(depths, widths, batch_norm, seed, batch_size)
    except (TypeError, ValueError) as exc:
        message = str(exc).replace("`depths`", "--depths").replace("`widths`", "--widths")
        raise ValueError(message) from None

    def run():
        return gradient_norm_record(depths, widths=widths, batch_norm=batch_norm, seed=seed,
                                    batch_size=batch_size)

    def save(record):
        import json

        argv = list(args.argv)
        words = argv[argv.index("gradient-norms") + 1:]
        record["settings"]["command"] = " ".join([args.command_prog, *words])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1) + "\n")
        note_made_again(out)
        spread = {name: net["norms"][0] / net["norms"][-1]
                  for name, net in record["networks"].items()}
        return (f"saved {out}; first / last layer gradient: "
                + ", ".join(f"{name} {ratio:.3g}x" for name, ratio in spread.items()))
    return run, save
