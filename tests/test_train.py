"""``python -m cnnlab.train``: the one training command, its subcommands, their options and errors.

The ``lenet5`` subcommand's own cases are in tests/test_lenet.py.

References: the shipped models' records (the command stored with each one,
and listed by cnnlab.weights, parses into the recipe the record describes),
argparse's own help, and tiny training runs whose files open again.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import ROOT  # noqa: E402

from cnnlab import train, weights  # noqa: E402
from cnnlab.train import cli  # noqa: E402
from cnnlab.train import main  # noqa: E402


def resnet_params(depth, widths):
    """Parameters of a ResNet of basic blocks with batch norm (4 numbers per channel)."""
    def conv_bn(k, c_in, c_out):
        return k * k * c_in * c_out + 4 * c_out

    n = (depth - 2) // 6
    total, c_in = conv_bn(3, 1, widths[0]), widths[0]
    for s, w in enumerate(widths):
        for b in range(n):
            total += conv_bn(3, c_in, w) + conv_bn(3, w, w)
            if c_in != w or (s > 0 and b == 0):
                total += conv_bn(1, c_in, w)
            c_in = w
    return total + c_in * 10 + 10


# ----------------------------------------------------------------- the command and its help

def test_every_shipped_model_is_made_by_one_subcommand():
    for command in [*weights.SHIPPED.values(), *weights.RECORDS.values()]:
        words = shlex.split(command)
        assert words[:3] == ["python", "-m", "cnnlab.train"], command
        assert words[3] in train.MODELS, command
        cli.build_parser().parse_args(words[3:])           # options the subcommand knows


def test_help_lists_every_subcommand_without_starting_tensorflow():
    result = subprocess.run([sys.executable, "-c",
                             "import sys; from cnnlab.train import main; code = main(['--help']); "
                             "assert 'tensorflow' not in sys.modules; sys.exit(code)"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m cnnlab.train" in result.stdout
    for model in train.MODELS:
        assert model in result.stdout


def test_python_dash_m_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "cnnlab.train", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "{" + ",".join(train.MODELS) + "}" in result.stdout
    assert {"mnist-cnn", "lenet5", "resnet", "degradation", "denoiser",
            "style-features"} <= set(train.MODELS)


@pytest.mark.parametrize("model, option", [("lenet5", "--variant"), ("resnet", "--depth"),
                                           ("degradation", "--depths"), ("denoiser", "--n-train"),
                                           ("style-features", "--n-train"),
                                           ("gradient-norms", "--depths")])
def test_each_subcommand_has_its_own_help(model, option, capsys):
    assert main([model, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m cnnlab.train {model}") and option in out


def test_without_arguments_shows_the_usage(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: python -m cnnlab.train" in err and "resnet" in err


# ----------------------------------------------------------------- lesson 07

@pytest.mark.parametrize("argv, message", [
    (["mnist-cnn", "--epochs", "0"], "--epochs must be at least 1"),
    (["mnist-cnn", "--epochs", "two"], "--epochs must be a whole number"),
    (["mnist-cnn", "--lr", "0"], "--lr must be above 0"),
    (["mnist-cnn", "--lr", "nan"], "--lr must be a finite number"),
    (["mnist-cnn", "--batch-size", "70000"], r"--batch-size must be at most (60000|512)"),
    (["mnist-cnn", "--fast", "--batch-size", "600"], "--batch-size must be at most 512"),
    (["mnist-cnn", "--seed", "-1"], "--seed must be at least 0"),
    (["mnist-cnn", "--out", "model.h5"], r"--out must end in \.keras"),
])
def test_mnist_cnn_bad_arguments_give_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "usage: python -m cnnlab.train mnist-cnn" in err, err


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside model.save
def test_mnist_cnn_fast_mode_trains_saves_and_records(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNLAB_FAST", "1")            # the test suite's fast mode, as --fast
    out = tmp_path / "tiny.keras"
    argv = ["mnist-cnn", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/1" in printed and "mnist-cnn: test accuracy" in printed
    model = weights.load_model(out)
    assert model.count_params() == 843_658 and getattr(model, "optimizer", None) is None
    assert [layer.name for layer in model.layers][1:3] == ["conv1", "pool1"]
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["command"] == "python -m cnnlab.train " + " ".join(
        w for w in argv if w != "--quiet")   # display options are left out
    assert record["fast"] is True and record["epochs"] == 1 and len(record["history"]) == 1
    assert record["history"][0]["test_accuracy"] > 0.2     # 4 steps on 512 digits: above chance
    # without --out, fast mode saves nothing (the shipped file stays as it is)
    _, save = cli.SUBCOMMANDS["mnist-cnn"](cli.build_parser().parse_args(["mnist-cnn"]))
    line = save(train.TrainResult(None, [train.EpochLog(1, 1.0, 0.6, 1.0, 0.6, 2.0)]))
    assert "test accuracy 60.00 %" in line and "nothing saved" in line


# ----------------------------------------------------------------- lesson 11

def test_shipped_resnet_record_command_gives_its_recipe():
    """The command stored with the model (and listed by cnnlab.weights) asks for the recipe
    the record describes, so running it again makes the same model."""
    record = weights.load_json("resnet_14.json")
    assert weights.SHIPPED["resnet_14"] == record["command"]
    words = shlex.split(record["command"])
    assert words[:4] == ["python", "-m", "cnnlab.train", "resnet"]
    args = cli.build_parser().parse_args(words[3:])
    assert int(args.depth) == record["depth"] and int(args.epochs) == record["epochs"]
    assert [int(w) for w in args.widths.split(",")] == record["widths"]
    assert float(args.label_smoothing) == record["label_smoothing"]
    assert int(args.shift) == record["max_shift"] and int(args.seed) == record["seed"]
    assert int(args.batch_size) == record["batch_size"] and float(args.lr) == record["peak_lr"]
    assert (not args.no_augment) == record["augment"] and args.out is None
    assert len(record["history"]) == record["epochs"]
    # auto: bfloat16 where the CPU has it; the record keeps what the run computed in
    assert args.precision == "auto" and record["precision"] in ("float32", "mixed_bfloat16")


def test_shipped_degradation_record_command_gives_its_settings():
    settings = weights.load_json("degradation.json")["settings"]
    assert settings["command"].startswith(weights.RECORDS["degradation.json"])
    args = cli.build_parser().parse_args(shlex.split(settings["command"])[3:])
    assert args.model == "degradation"
    assert [int(d) for d in args.depths.split(",")] == settings["depths"]
    assert [int(w) for w in args.widths.split(",")] == settings["widths"]
    assert int(args.epochs) == settings["epochs"] and int(args.limit) == settings["train_images"]
    assert [int(s) for s in args.seeds.split(",")] == settings["seeds"]


@pytest.mark.parametrize("argv, message", [
    (["resnet", "--depth", "21"], r"6n \+ 2"),
    (["resnet", "--epochs", "0"], "--epochs must be at least 1"),
    (["resnet", "--epochs", "two"], "--epochs must be a whole number"),
    (["resnet", "--lr", "-1"], "--lr must be positive"),
    (["resnet", "--widths", "16,x"], "--widths must be a whole number"),
    (["resnet", "--out", "model.h5"], r"--out must end in \.keras"),
    (["resnet", "--name", "../x"], "--name may hold"),
    (["resnet", "--shift", "-1"], "--shift must be at least 0"),
    (["resnet", "--label-smoothing", "1"], "--label-smoothing must be below 1"),
    (["resnet", "--precision", "half"], "--precision must be one of"),
    (["degradation", "--widths", "8,16"], r"12n \+ 2|4n \+ 2|n \+ 2"),
    (["degradation", "--depths", "8,9"], r"6n \+ 2"),
    (["degradation", "--out", "curves.txt"], r"--out must end in \.json"),
    (["resnet", "--fly"], "unrecognized arguments: --fly"),
    (["fly"], "unknown model 'fly'"),
])
def test_resnet_bad_arguments_give_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside model.save
def test_resnet_tiny_run_writes_a_loadable_model_and_its_record(tmp_path, capsys):
    out = tmp_path / "tiny.keras"
    argv = ["resnet", "--depth", "8", "--widths", "4,8,8", "--epochs", "1", "--limit", "256",
            "--batch-size", "64", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert "saved" in capsys.readouterr().out
    model = keras.saving.load_model(out)
    assert model.count_params() == resnet_params(8, (4, 8, 8))
    probs = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["depth"] == 8 and len(record["history"]) == 1
    assert record["command"] == "python -m cnnlab.train " + " ".join(
        w for w in argv if w != "--quiet")   # display options are left out
    assert set(record["history"][0]) == {"epoch", "loss", "accuracy", "test_loss",
                                         "test_accuracy", "seconds"}


# ----------------------------------------------------------------- lesson 12

@pytest.mark.parametrize("argv, message", [
    (["denoiser", "--n-train", "0"], "--n-train must be between 1 and 60000"),
    (["style-features", "--epochs", "-3"], "--epochs must be between"),
    (["denoiser", "--out", "model.h5"], "--out must be a file path ending"),
    (["denoiser", "--epochs", "x"], "invalid int value"),
])
def test_lesson12_bad_arguments_give_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and f"usage: python -m cnnlab.train {argv[0]}" in err


def test_denoiser_trains_and_saves_a_loadable_model(tmp_path, capsys):
    out = tmp_path / "tiny.keras"
    assert main(["denoiser", "--n-train", "64", "--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training loss per epoch" in printed and f"saved {out}" in printed
    model = weights.load_model(out)
    assert model.name == "denoiser" and getattr(model, "optimizer", None) is None
