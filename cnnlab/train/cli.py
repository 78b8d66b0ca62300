"""``python -m cnnlab.train``: the course's one training command.

From the course folder, one subcommand per trained model the course ships
(:data:`cnnlab.weights.SHIPPED` lists each model with its command)::

    python -m cnnlab.train mnist-cnn
    python -m cnnlab.train lenet5 --variant modern --out data/weights/lenet5_modern.keras
    python -m cnnlab.train resnet --name 14 --depth 14 --epochs 8 --shift 0 --label-smoothing 0.1
    python -m cnnlab.train resnet --plain --name 14 --depth 14 --epochs 8 --shift 0 --label-smoothing 0.1
    python -m cnnlab.train degradation --depths 20,56 --widths 8,16,32 --epochs 6 --seeds 0,1
    python -m cnnlab.train denoiser
    python -m cnnlab.train style-features
    python -m cnnlab.train gradient-norms

``python -m cnnlab.train <subcommand> --help`` lists its options. Every
option is checked before anything is trained: a bad one prints the
subcommand's usage and the problem and returns 2; unreadable data returns 1.
Runs are seeded; the ``resnet`` and ``degradation`` runs write a JSON record
holding the command that made them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from .._validate import MAX_EPOCHS, MAX_SEED, describe
from ..weights import note_made_again, save_model, weights_path
from .gradients import add_gradient_norms_parser, gradient_norms_command
from .lenet5 import FAST_LIMIT, PRECISIONS, RECIPES, VARIANTS, check_out
from .mnist_cnn import add_mnist_cnn_parser, mnist_cnn_command

__all__ = ["MODELS", "PROG", "build_parser", "check_argv", "main"]

PROG = "python -m cnnlab.train"
#: The subcommands: the models (and the experiment) the course trains.
MODELS = ("mnist-cnn",
          "lenet5", "resnet", "degradation", "gradient-norms", "denoiser", "style-features")
DEFAULT_DEGRADATION = "degradation.json"
#: What each subcommand reads, for the message when its data cannot be read.
DATA = {"mnist-cnn": "the MNIST data",
        "lenet5": "the MNIST data", "resnet": "Fashion-MNIST", "degradation": "Fashion-MNIST",
        "gradient-norms": "Fashion-MNIST",
        "denoiser": "the training data", "style-features": "the training data"}


def check_argv(argv) -> list:
    """Command-line words: None (``sys.argv[1:]``) or a list of strings (numbers are turned into text)."""
    if argv is None:
        return sys.argv[1:]
    if not isinstance(argv, (list, tuple)):
        raise TypeError(f"`argv` must be a list of command-line words such as ['lenet5', "
                        f"'--epochs', '1'], or None, got {describe(argv)}")
    bad = [a for a in argv if not isinstance(a, (str, int, float)) or isinstance(a, bool)]
    if bad:
        raise TypeError(f"`argv` must hold strings (or numbers), got {describe(bad[0])}")
    return [str(a) for a in argv]


# ----------------------------------------------------------------- the parsers

def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m cnnlab.train``; ``.commands`` maps each subcommand to its own."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Train a course model and save it (every trained model the "
                               "course ships in data/weights is made by one of these).")
    sub = parser.add_subparsers(dest="model", metavar="{" + ",".join(MODELS) + "}")
    parser.commands = {
        "mnist-cnn": add_mnist_cnn_parser(sub),
        "lenet5": _lenet5_parser(sub), "resnet": _resnet_parser(sub),
        "degradation": _degradation_parser(sub), "denoiser": _denoiser_parser(sub),
        "gradient-norms": add_gradient_norms_parser(sub),
        "style-features": _style_parser(sub),
    }
    return parser


def _lenet5_parser(sub):
    p = sub.add_parser("lenet5", help="LeNet-5 on MNIST (lesson 09): data/weights/lenet5_*.keras",
                       description="Train LeNet-5 on MNIST and save it (lesson 09).")
    p.add_argument("--variant", default="modern", help="classic or modern (default modern)")
    p.add_argument("--epochs", default=None,
                   help=f"passes over the training set (default {RECIPES['modern']['epochs']})")
    p.add_argument("--out", default=None, help="where to save the model (.keras)")
    p.add_argument("--fast", action="store_true",
                   help=f"a quick check: {FAST_LIMIT[0]} training and {FAST_LIMIT[1]} test "
                        "images, 1 epoch unless --epochs is given")
    p.add_argument("--seed", default="0", help="seed of weights and shuffling (default 0)")
    p.add_argument("--precision", default=None,
                   help="auto, float32 or mixed_bfloat16 (default: the variant's recipe; auto is "
                        "bfloat16 where the CPU has it in hardware)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, one line per epoch")
    return p


def _resnet_parser(sub):
    p = sub.add_parser(
        "resnet", help="a ResNet on Fashion-MNIST (lesson 11): data/weights/resnet_<name>.keras",
        description="Train a ResNet on Fashion-MNIST and save it as "
                    "data/weights/resnet_<name>.keras, with its record resnet_<name>.json; "
                    "with --plain, its plain twin (no shortcuts), whose record alone is "
                    "saved as data/weights/plain_<name>.json.")
    p.add_argument("--depth", default="14", help="layers with weights, 6n + 2 (default 14)")
    p.add_argument("--widths", default="16,32,64", help="channels per stage (default 16,32,64)")
    p.add_argument("--epochs", default="8", help="passes over the training set (default 8)")
    p.add_argument("--batch-size", default="128", help="images per step (default 128)")
    p.add_argument("--lr", default="3e-3", help="peak learning rate (default 3e-3)")
    p.add_argument("--label-smoothing", default="0", help="label smoothing (default 0)")
    p.add_argument("--no-augment", action="store_true", help="no random shifts and flips")
    p.add_argument("--shift", default="0",
                   help="largest random shift in pixels (default 0: flips only)")
    p.add_argument("--precision", default="auto",
                   help="auto, float32 or mixed_bfloat16 (default auto: bfloat16 where the CPU "
                        "has it in hardware)")
    p.add_argument("--plain", action="store_true",
                   help="train the plain twin instead (the same layers and recipe without the "
                        "shortcuts); saves its record only, data/weights/plain_<name>.json")
    p.add_argument("--name", default=None,
                   help="file name: data/weights/resnet_<name>.keras (default: the depth)")
    p.add_argument("--out", default=None,
                   help="save the model here instead (.keras; with --plain the record, .json)")
    p.add_argument("--limit", default=None,
                   help="train on the first N images only (a quick check)")
    p.add_argument("--seed", default="0", help="seed of weights, shuffling, augmentation")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _degradation_parser(sub):
    p = sub.add_parser(
        "degradation", help="plain vs residual networks of two depths (lesson 11), curves to JSON",
        description="Train plain and residual networks of each depth with the same budget and "
                    "write their curves to JSON (lesson 11's degradation experiment).")
    p.add_argument("--depths", default="20,56", help="depths to compare (default 20,56)")
    p.add_argument("--widths", default="8,16,32", help="channels per stage (default 8,16,32)")
    p.add_argument("--epochs", default="4", help="epochs for every network (default 4)")
    p.add_argument("--limit", default="10000",
                   help="training images (default 10000; the test curves use 2000 test images)")
    p.add_argument("--no-batch-norm", action="store_true", help="no batch normalisation")
    p.add_argument("--lr", default="3e-3", help="peak learning rate (default 3e-3)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    p.add_argument("--out", default=None,
                   help=f"JSON file to write (default data/weights/{DEFAULT_DEGRADATION})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _denoiser_parser(sub):
    p = sub.add_parser("denoiser", help="the MNIST denoising autoencoder (lesson 12)",
                       description="Train lesson 12's MNIST denoising autoencoder and save it.")
    p.add_argument("--n-train", type=int, default=20000,
                   help="training digits, 1 .. 60000 (default 20000)")
    p.add_argument("--epochs", type=int, default=5, help="passes over them (default 5)")
    p.add_argument("--out", type=Path, default=weights_path("denoiser"),
                   help="where to save the model (.keras; default data/weights/denoiser.keras)")
    return p


def _style_parser(sub):
    p = sub.add_parser("style-features", help="the Fashion-MNIST feature network (lesson 12)",
                       description="Train lesson 12's Fashion-MNIST feature network (its "
                                   "feature maps give the style) and save it.")
    p.add_argument("--n-train", type=int, default=20000,
                   help="training images, 1 .. 60000 (default 20000)")
    p.add_argument("--epochs", type=int, default=4, help="passes over them (default 4)")
    p.add_argument("--out", type=Path, default=weights_path("style_features"),
                   help="where to save the model (.keras; default "
                        "data/weights/style_features.keras)")
    return p


# ----------------------------------------------------------------- reading options

def _number(text, option, *, kind=int, minimum=None, positive=False, maximum=None):
    """Parse one command-line value, with a message naming the option."""
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{option} must be {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{option} must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{option} must be at least {minimum}, got {text}")
    if positive and value <= 0:
        raise ValueError(f"{option} must be positive, got {text}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{option} must be at most {maximum}, got {text}")
    return value


def _numbers(text, option, minimum, maximum=None):
    return tuple(_number(t.strip(), option, minimum=minimum, maximum=maximum)
                 for t in text.split(","))


def _cli_error(exc, *options):
    """Turn a check's message about `argument` into one about the command-line option."""
    message = str(exc)
    for argument, option in options:
        message = message.replace(f"`{argument}`", option)
    return ValueError(message)


def _out_path(text, suffix, default):
    path = default if text is None else Path(text)
    if path.suffix != suffix:
        raise ValueError(f"--out must end in {suffix}, got {str(path)!r}")
    return path


# ----------------------------------------------------------------- the subcommands
# Each reads and checks its options, then returns (run, save): run() trains,
# save(result) writes the files and returns what to print.

def _lenet5(args):
    if args.variant not in VARIANTS:
        raise ValueError(f"unknown variant {args.variant!r}; valid variants: "
                         f"{', '.join(VARIANTS)}")
    epochs = (None if args.epochs is None
              else _number(args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS))
    if epochs is None and args.fast:
        epochs = 1
    seed = _number(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    out = check_out(args.out)
    if args.precision is not None and args.precision not in PRECISIONS:
        raise ValueError(f"unknown --precision {args.precision!r}; valid: {', '.join(PRECISIONS)}")

    def run():
        from ..session import import_keras
        from .lenet5 import train_lenet5

        import_keras()                  # TensorFlow's start-up lines bypass its log level
        return train_lenet5(args.variant, epochs, limit=FAST_LIMIT if args.fast else None,
                            precision=args.precision, seed=seed, verbose=2 if args.quiet else 1,
                            out=out)

    def save(result):                   # train_lenet5 saved the model
        last = result.history[-1]
        return (f"lenet5 {args.variant}: test accuracy {100 * last.test_accuracy:.2f} % after "
                f"{len(result.history)} epoch(s), {result.train_seconds:.1f} s of training")
    return run, save


def _resnet(args):
    from ..models.resnet import MAX_DEPTH, stage_sizes
    from .resnet import check_train_resnet

    depth = _number(args.depth, "--depth", minimum=1)
    widths = _numbers(args.widths, "--widths", 1)
    stage_sizes(depth, len(widths))                      # a clear error for depths that are not 6n + 2
    _number(args.depth, "--depth", maximum=MAX_DEPTH)
    epochs = _number(args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS)
    batch_size = _number(args.batch_size, "--batch-size", minimum=1)
    peak_lr = _number(args.lr, "--lr", kind=float, positive=True, maximum=1)
    smoothing = _number(args.label_smoothing, "--label-smoothing", kind=float, minimum=0)
    if smoothing >= 1:
        raise ValueError(f"--label-smoothing must be below 1, got {args.label_smoothing}")
    limit = (None if args.limit is None
             else _number(args.limit, "--limit", minimum=1, maximum=60000))
    seed = _number(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    shift = _number(args.shift, "--shift", minimum=0, maximum=28)
    if batch_size > (60000 if limit is None else limit):
        raise ValueError(f"--batch-size {batch_size} is larger than the "
                         f"{60000 if limit is None else limit} training images")
    name = str(depth) if args.name is None else args.name
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"--name may hold letters, digits, '-' and '_' only, got {name!r}")
    kind = "plain" if args.plain else "resnet"
    if args.plain:
        out = _out_path(args.out, ".json", weights_path(f"plain_{name}.json"))
    else:
        out = _out_path(args.out, ".keras", weights_path(f"resnet_{name}.keras"))
    try:
        check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, 5e-4, smoothing,
                           not args.no_augment, shift, seed, 2, f"{kind}_{name}", args.plain,
                           args.precision)
    except (TypeError, ValueError) as exc:
        raise _cli_error(exc, ("widths", "--widths"), ("depth", "--depth"),
                         ("precision", "--precision")) from None

    def run():
        from .resnet import train_resnet

        return train_resnet(depth, widths=widths, epochs=epochs, limit=limit,
                            batch_size=batch_size, peak_lr=peak_lr, label_smoothing=smoothing,
                            augment=not args.no_augment, max_shift=shift,
                            precision=args.precision, seed=seed, verbose=2 if args.quiet else 1,
                            name=f"{kind}_{name}", plain=args.plain)

    def save(result):
        from .precision import resolve_precision

        out.parent.mkdir(parents=True, exist_ok=True)
        record = {"command": f"{PROG} " + " ".join(args.argv),
                  "depth": depth, "widths": list(widths), "epochs": epochs,
                  "batch_size": batch_size, "peak_lr": peak_lr, "label_smoothing": smoothing,
                  "augment": not args.no_augment, "max_shift": shift, "seed": seed,
                  "precision": resolve_precision(args.precision),
                  "params": result.model.count_params(),
                  "history": [e._asdict() for e in result.history]}
        last = result.history[-1]
        if args.plain:                  # the plain twin: its record only
            record = {"command": record["command"], "plain": True,
                      **{k: v for k, v in record.items() if k != "command"}}
            out.write_text(json.dumps(record, indent=1) + "\n")
            note_made_again(out)
            return (f"saved {out} (the plain twin's training record): test accuracy "
                    f"{100 * last.test_accuracy:.2f} % after {epochs} epoch(s), "
                    f"{result.train_seconds:.0f} s of training")
        result.model.save(out)
        out.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
        note_made_again(out)
        note_made_again(out.with_suffix(".json"))
        return (f"saved {out} (and its training record {out.with_suffix('.json').name}): test "
                f"accuracy {100 * last.test_accuracy:.2f} % after {epochs} epoch(s), "
                f"{result.train_seconds:.0f} s of training")
    return run, save


def _degradation(args):
    from ..models.resnet import MAX_DEPTH, stage_sizes
    from .resnet import check_degradation

    depths = _numbers(args.depths, "--depths", 1)
    widths = _numbers(args.widths, "--widths", 1)
    for depth in depths:
        stage_sizes(depth, len(widths))
    _numbers(args.depths, "--depths", 1, MAX_DEPTH)
    epochs = _number(args.epochs, "--epochs", minimum=1, maximum=MAX_EPOCHS)
    limit = _number(args.limit, "--limit", minimum=128, maximum=60000)
    peak_lr = _number(args.lr, "--lr", kind=float, positive=True, maximum=1)
    seeds = _numbers(args.seeds, "--seeds", 0, MAX_SEED)
    out = _out_path(args.out, ".json", weights_path(DEFAULT_DEGRADATION))
    try:
        check_degradation(depths, widths, epochs, (limit, 2000), True, peak_lr, seeds, 2)
    except (TypeError, ValueError) as exc:
        raise _cli_error(exc, ("widths", "--widths"), ("depths", "--depths")) from None

    def run():
        from .resnet import degradation_experiment

        return degradation_experiment(depths, widths=widths, epochs=epochs, limit=(limit, 2000),
                                      batch_norm=not args.no_batch_norm, peak_lr=peak_lr,
                                      seeds=seeds, verbose=2 if args.quiet else 1)

    def save(result):
        out.parent.mkdir(parents=True, exist_ok=True)
        result["settings"]["command"] = f"{PROG} " + " ".join(args.argv)
        out.write_text(json.dumps(result, indent=1) + "\n")
        note_made_again(out)
        return f"saved {out}"
    return run, save


def _check_lesson12(args) -> None:
    """Refuse bad options of ``denoiser`` and ``style-features`` (messages name the options)."""
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


def _saved(path) -> str:
    return f"saved {path} ({path.stat().st_size / 1024:.0f} KiB)"


def _denoiser(args):
    _check_lesson12(args)

    def run():
        from ..session import setup
        from .denoise import train_denoiser

        setup(0, keras=True)
        return train_denoiser(args.n_train, args.epochs, verbose=2)

    def save(result):
        model, losses = result
        path = save_model(model, args.out)
        return ("training loss per epoch: " + ", ".join(f"{v:.4f}" for v in losses) + "\n"
                + _saved(path))
    return run, save


def _style_features(args):
    _check_lesson12(args)

    def run():
        from ..session import setup
        from .style import train_style_features

        setup(0, keras=True)
        return train_style_features(args.n_train, args.epochs, verbose=2)

    def save(result):
        model, accuracy = result
        path = save_model(model, args.out)
        return f"test accuracy: {accuracy:.4f}\n" + _saved(path)
    return run, save


SUBCOMMANDS = {"mnist-cnn": mnist_cnn_command,
               "lenet5": _lenet5, "resnet": _resnet, "degradation": _degradation,
               "gradient-norms": gradient_norms_command,
               "denoiser": _denoiser, "style-features": _style_features}


def main(argv=None) -> int:
    """Run the command line; return the exit status (0 done, 1 data problem, 2 bad arguments)."""
    argv = check_argv(argv)
    parser = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in MODELS:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: unknown model {argv[0]!r}; valid models: {', '.join(MODELS)}",
              file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # argparse already printed the usage and the problem
        return int(exc.code or 0)
    if args.model is None:
        parser.print_help(sys.stderr)
        return 2
    args.argv = [word for word in argv if word != "--quiet"]   # the record's command: what it made
    command = parser.commands[args.model]
    try:
        run, save = SUBCOMMANDS[args.model](args)
    except (TypeError, ValueError) as exc:
        command.print_usage(sys.stderr)
        print(f"{command.prog}: error: {exc}", file=sys.stderr)
        return 2
    from ..data import DataFileError

    try:
        result = run()
    except DataFileError as exc:
        print(f"{command.prog}: error: cannot read {DATA[args.model]}: {exc}", file=sys.stderr)
        return 1
    print(save(result), flush=True)
    return 0
