"""Lesson 11's per-layer gradient norms (``python -m cnnlab.train gradient-norms``): the
shipped record equals a fresh backward pass written out with tf.GradientTape, lists one norm
per convolution of each network, and the command refuses bad options."""

from __future__ import annotations

import json
import re
import shlex

import numpy as np
import pytest

from cnnlab import data, weights
from cnnlab.session import import_keras
from cnnlab.train import cli, main
from cnnlab.train.gradients import check_gradient_norm_record, gradient_norm_record

keras = import_keras()
import tensorflow as tf  # noqa: E402

from cnnlab.models.resnet import build_plain, build_resnet  # noqa: E402

RECORD = weights.load_json("degradation_gradients.json")
SETTINGS = RECORD["settings"]
BUILDERS = {"plain": build_plain, "resnet": build_resnet}


def convolutions(model):
    """The 3x3 convolutions in the order the model applies them (no 1x1 projections)."""
    return [layer for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (3, 3)]


def tape_norms(model, x, y):
    """||d loss / d kernel|| per 3x3 convolution: one tf.GradientTape pass, training mode."""
    kernels = [layer.kernel for layer in convolutions(model)]
    with tf.GradientTape() as tape:
        probs = model(x, training=True)                                  # (N, 10)
        picked = tf.gather(probs, y, axis=1, batch_dims=1)               # (N,) p of the label
        loss = -tf.reduce_mean(tf.math.log(picked))
    return np.array([np.sqrt(np.sum(np.square(g.numpy())))
                     for g in tape.gradient(loss, kernels)])


@pytest.fixture(scope="module")
def batch():
    (x, y), _ = data.load_fashion_mnist((SETTINGS["batch_images"], 1))
    return (x[..., None] / 255.0).astype("float32"), y.astype("int64")   # (128, 28, 28, 1), (128,)


# ----------------------------------------------------------------- the shipped record

@pytest.mark.parametrize("kind", ["plain", "resnet"])
def test_recorded_norms_equal_a_fresh_backward_pass(kind, batch):
    depth = SETTINGS["depths"][0]
    assert depth == 20
    model = BUILDERS[kind](depth, widths=tuple(SETTINGS["widths"]),
                           batch_norm=SETTINGS["batch_norm"], seed=SETTINGS["seed"])
    expected = tape_norms(model, *batch)
    np.testing.assert_allclose(RECORD["networks"][f"{kind}{depth}"]["norms"], expected,
                               rtol=1e-2)


@pytest.mark.parametrize("name", ["plain20", "resnet20", "plain56", "resnet56"])
def test_one_norm_per_convolution_of_the_model_in_depth_order(name):
    kind, depth = name[:-2], int(name[-2:])
    model = BUILDERS[kind](depth, widths=tuple(SETTINGS["widths"]), seed=0)
    layers = [layer.name for layer in convolutions(model)]
    network = RECORD["networks"][name]
    assert network["layers"] == layers and len(layers) == depth - 1
    assert layers[0] == "stem" and layers[-1] == "stage3_block{}_conv2".format((depth - 2) // 6)
    assert len(network["norms"]) == len(layers) and min(network["norms"]) > 0


def test_the_record_covers_the_degradation_networks():
    runs = weights.load_json("degradation.json")["settings"]
    assert SETTINGS["depths"] == runs["depths"] and SETTINGS["widths"] == runs["widths"]
    assert SETTINGS["batch_norm"] == runs["batch_norm"] and SETTINGS["batch_images"] == 128
    assert set(RECORD["networks"]) == {f"{k}{d}" for k in ("plain", "resnet")
                                       for d in runs["depths"]}


def test_the_record_names_the_command_that_makes_it():
    assert SETTINGS["command"] == weights.RECORDS["degradation_gradients.json"]
    args = cli.build_parser().parse_args(shlex.split(SETTINGS["command"])[3:])
    assert args.model == "gradient-norms"
    assert [int(d) for d in args.depths.split(",")] == SETTINGS["depths"]
    assert [int(w) for w in args.widths.split(",")] == SETTINGS["widths"]
    assert int(args.seed) == SETTINGS["seed"] and int(args.batch_size) == 128


def test_what_the_record_shows():
    """Plain-56 (batch norm) at initialisation: the gradient grows towards the input,
    thousands of times; the shortcuts keep ResNet-56's within a small factor."""
    spread = {name: net["norms"][0] / net["norms"][-1] for name, net in RECORD["networks"].items()}
    assert spread["plain56"] > 1000
    assert spread["resnet56"] < 10 and spread["resnet20"] < 10 and spread["plain20"] < 10


# ----------------------------------------------------------------- the command

def test_the_command_writes_a_record(tmp_path, capsys):
    out = tmp_path / "g.json"
    argv = ["gradient-norms", "--depths", "8", "--widths", "4,4,4", "--batch-size", "16",
            "--out", str(out)]
    assert main(argv) == 0
    record = json.loads(out.read_text())
    assert record["settings"]["command"] == "python -m cnnlab.train " + " ".join(argv)
    assert set(record["networks"]) == {"plain8", "resnet8"}
    assert all(len(n["norms"]) == 7 for n in record["networks"].values())
    assert "first / last layer gradient" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--depths", "21"], r"--depths: `depth` must be 6n \+ 2"),
    (["--depths", "x"], "--depths must be a whole number"),
    (["--widths", "8,16"], r"n \+ 2"),
    (["--seed", "-1"], "--seed must be from 0"),
    (["--batch-size", "0"], "--batch-size must be from 1 to 1024"),
    (["--out", "norms.txt"], r"--out must be a file name ending in \.json"),
    (["--out", "a\x00.json"], r"--out must be a file name ending in \.json"),
    (["--widths", "100000,1,1"], "--widths and --depths: the network would have"),
])
def test_the_command_refuses_bad_options(argv, message, capsys):
    assert main(["gradient-norms", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m cnnlab.train gradient-norms")
    assert re.search(message, err), err


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(depths="20"), TypeError, "`depths` must be a non-empty tuple"),
    (dict(depths=(21,)), ValueError, "`depths`: `depth` must be 6n"),
    (dict(batch_size=2000), ValueError, "`batch_size` must be at most 1024"),
    (dict(batch_norm=1), TypeError, "`batch_norm` must be True or False"),
    (dict(seed=-1), ValueError, "seed"),
])
def test_gradient_norm_record_checks_its_arguments(kwargs, error, message):
    arguments = dict(depths=(20,), widths=(8, 16, 32), batch_norm=True, seed=0, batch_size=128)
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        check_gradient_norm_record(**arguments)
    with pytest.raises(error, match=message):
        gradient_norm_record(**arguments)
