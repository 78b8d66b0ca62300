"""Lesson 11: the plain twin of ResNet-14, ``python -m cnnlab.train resnet --plain``.

References: the shipped ResNet-14 record (the plain record must hold the
same recipe, seed included), ``cnnlab.resnet.build_plain`` (the parameter
count of the network the record describes) and tiny training runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import pytest  # noqa: E402

from cnnlab import resnet, weights  # noqa: E402
from cnnlab.train import cli, main  # noqa: E402
from cnnlab.train.resnet import train_resnet  # noqa: E402

RECIPE = ("depth", "widths", "epochs", "batch_size", "peak_lr", "label_smoothing", "augment",
          "max_shift", "seed", "precision")


def test_shipped_plain_record_has_resnet_14s_recipe():
    plain = weights.load_json("plain_14.json")
    res = weights.load_json("resnet_14.json")
    assert plain["plain"] is True and "plain" not in res
    assert {k: plain[k] for k in RECIPE} == {k: res[k] for k in RECIPE}
    assert set(plain) == set(res) | {"plain"}
    assert len(plain["history"]) == plain["epochs"] == len(res["history"])
    assert [e["epoch"] for e in plain["history"]] == list(range(1, plain["epochs"] + 1))
    assert set(plain["history"][0]) == set(res["history"][0])
    net = resnet.build_plain(plain["depth"], widths=tuple(plain["widths"]))
    assert plain["params"] == net.count_params()
    assert not any(isinstance(layer, keras.layers.Add) for layer in net.layers)
    # the same command, with --plain: the recipe is the ResNet's, only the shortcuts go
    assert weights.RECORDS["plain_14.json"] == plain["command"]
    words = shlex.split(plain["command"])
    assert words.count("--plain") == 1
    words.remove("--plain")
    assert words == shlex.split(res["command"])
    args = cli.build_parser().parse_args(shlex.split(plain["command"])[3:])
    assert args.plain and args.out is None and int(args.seed) == res["seed"]


def test_shipped_plain_record_is_registered_and_checked():
    assert "plain_14.json" in weights.CHECKSUMS
    assert weights.verify("plain_14.json").name == "plain_14.json"
    assert "python -m cnnlab.train resnet --plain" in weights.how_to_fix(
        weights.weights_path("plain_14.json"), "plain_14.json")


@pytest.mark.parametrize("argv, message", [
    (["resnet", "--plain", "--out", "plain.keras"], r"--out must end in \.json"),
    (["resnet", "--plain", "--depth", "15"], r"6n \+ 2"),
    (["resnet", "--plain", "--name", "a/b"], "--name may hold"),
])
def test_plain_bad_arguments_give_a_clear_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err


def test_train_resnet_checks_plain_before_loading():
    with pytest.raises(TypeError, match="`plain` must be True or False"):
        train_resnet(8, plain="yes")


def test_train_resnet_plain_trains_the_twin_without_shortcuts():
    result = train_resnet(8, widths=(4, 8, 8), epochs=1, limit=(256, 256), batch_size=64,
                          plain=True, verbose=0, name="twin")
    model = result.model
    assert model.name == "twin" and len(result.history) == 1
    assert not any(isinstance(layer, keras.layers.Add) for layer in model.layers)
    assert model.count_params() == resnet.build_plain(8, widths=(4, 8, 8)).count_params()
    assert model.count_params() < resnet.build_resnet(8, widths=(4, 8, 8)).count_params()


def test_plain_tiny_run_writes_its_record_only(tmp_path, capsys):
    out = tmp_path / "twin.json"
    argv = ["resnet", "--plain", "--depth", "8", "--widths", "4,8,8", "--epochs", "1",
            "--limit", "256", "--batch-size", "64", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert "plain twin" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twin.json"]     # no .keras file
    record = json.loads(out.read_text())
    assert record["command"] == "python -m cnnlab.train " + " ".join(
        w for w in argv if w != "--quiet")   # display options are left out
    assert record["plain"] is True and record["depth"] == 8 and record["widths"] == [4, 8, 8]
    assert record["params"] == resnet.build_plain(8, widths=(4, 8, 8)).count_params()
    assert len(record["history"]) == 1 and 0 <= record["history"][0]["test_accuracy"] <= 1
