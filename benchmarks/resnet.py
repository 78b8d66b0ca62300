"""Plain network vs ResNet of the same depth on Fashion-MNIST, trained side by side.

Both networks come from the same builder code (``cnnlab.resnet.build_plain``
and ``build_resnet``, same seed, same layers except the shortcuts) and get
the same recipe (:func:`cnnlab.train.resnet.train`), the one the course's
shipped ResNet was trained with (read from ``data/weights/resnet_<name>.json``):
AdamW, warm-up + cosine learning rate, random shifts and flips, the same epochs. Prints, for each network,
its parameters, the training seconds of every epoch (evaluation excluded),
the test accuracy after every epoch, the training time until the test
accuracy first reached 92 % and 93 %, and the ratios.

Run: ``python benchmarks/resnet.py`` (or ``make bench``); options
``--name`` (default 14), ``--epochs``, ``--limit N`` (train on N images, a
quick check). Takes about twice the training time of the shipped model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import numpy as np

from cnnlab.session import import_keras

keras = import_keras()   # quiet TensorFlow start-up; oneDNN on (TF_ENABLE_ONEDNN_OPTS=1)
import tensorflow as tf  # noqa: E402

from cnnlab import data, resnet  # noqa: E402
from cnnlab.train.resnet import train  # noqa: E402

TARGETS = (0.92, 0.93)   # the minimum (within 15 min) and its target (within 10 min)


def time_to_target(history, target):
    """Training seconds until the test accuracy first reached ``target`` (None if never)."""
    elapsed = 0.0
    for epoch in history:
        elapsed += epoch.seconds
        if epoch.test_accuracy >= target:
            return elapsed
    return None


def run(builder, record, epochs, data_):
    (x_train, y_train), (x_test, y_test) = data_
    keras.utils.set_random_seed(record["seed"])
    model = builder(record["depth"], widths=tuple(record["widths"]), seed=record["seed"])
    result = train(model, x_train, y_train, x_test, y_test, epochs=epochs,
                   batch_size=record["batch_size"], peak_lr=record["peak_lr"],
                   label_smoothing=record["label_smoothing"], augment=record["augment"],
                   max_shift=record.get("max_shift", 0), seed=record["seed"], verbose=2)
    return model.count_params(), result.history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="14", help="shipped model whose recipe to use")
    parser.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--limit", type=int, default=None, help="training images (default all)")
    args = parser.parse_args(argv)
    path = resnet.weights_path(f"resnet_{args.name}.json")
    if not path.exists():
        parser.error(f"no training record {path}; train the model first "
                     f"(python -m cnnlab.train resnet --name {args.name} ...)")
    record = json.loads(path.read_text())
    epochs = args.epochs or record["epochs"]
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(args.limit and (args.limit, 10000))
    data_ = ((resnet.prepare_images(x_train), y_train), (resnet.prepare_images(x_test), y_test))

    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, python "
          f"{platform.python_version()}, {os.cpu_count()} CPU core(s) visible, "
          f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"Fashion-MNIST: {len(x_train)} training, {len(x_test)} test images; depth "
          f"{record['depth']}, widths {record['widths']}, {epochs} epochs, batch "
          f"{record['batch_size']}, peak lr {record['peak_lr']}, flips {record['augment']}, "
          f"shifts up to {record.get('max_shift', 0)} px, label smoothing "
          f"{record.get('label_smoothing', 0)}\n")
    results = {}
    for label, builder in (("plain", resnet.build_plain), ("resnet", resnet.build_resnet)):
        results[label] = run(builder, record, epochs, data_)
        keras.backend.clear_session()

    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min), "
          f"{os.getloadavg()[2]:.2f} (15 min)\n")
    header = (f"{'network':10} {'params':>8} {'s/epoch':>8} {'total s':>8} {'to 92 %':>8} "
              f"{'to 93 %':>8}  test accuracy after each epoch (%)")
    print(header)
    print("-" * len(header))
    for label, (params, history) in results.items():
        seconds = [e.seconds for e in history]
        reach = [time_to_target(history, t) for t in TARGETS]
        reach = " ".join(f"{'never' if r is None else f'{r:.0f} s':>8}" for r in reach)
        accs = " ".join(f"{100 * e.test_accuracy:.2f}" for e in history)
        print(f"{label + str(record['depth']):10} {params:8,} {np.median(seconds):8.1f} "
              f"{sum(seconds):8.0f} {reach}  {accs}")
    (p_params, plain), (r_params, res) = results["plain"], results["resnet"]
    ratio = np.median([e.seconds for e in res]) / np.median([e.seconds for e in plain])
    print(f"\nresnet / plain: time per epoch {ratio:.2f}x, final test accuracy "
          f"{100 * (res[-1].test_accuracy - plain[-1].test_accuracy):+.2f} points, final "
          f"training loss {res[-1].loss:.4f} vs {plain[-1].loss:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
