"""Training the ResNets of lesson 11 on Fashion-MNIST, and the degradation experiment.

:func:`train` fits a classifier (AdamW, linear warm-up then cosine decay,
random flips and optional shifts; many steps per compiled graph call: the
loop of :func:`cnnlab.train.loop.fit`; batch norm fused and bfloat16
arithmetic where the CPU has it, on a :func:`~cnnlab.train.precision.training_twin`
whose weights go back into the float32 model) and records the curves;
:func:`train_resnet` builds :func:`cnnlab.resnet.build_resnet` and trains it
on Fashion-MNIST; :func:`degradation_experiment` trains plain and residual
networks of several depths with the same budget. Lesson 11 calls them as
``resnet.train_resnet`` and ``resnet.degradation_experiment``. From a
terminal, in the course folder::

    python -m cnnlab.train resnet --name 14 --depth 14 --epochs 8 --shift 0 --label-smoothing 0.1
    python -m cnnlab.train degradation --depths 20,56 --widths 8,16,32 --epochs 6 --seeds 0,1

The first made ``data/weights/resnet_14.keras`` and its record
``resnet_14.json``, the second ``data/weights/degradation.json``. The same
recipe with ``--plain`` trains the plain twin of ResNet-14 (no shortcuts) and
writes its record ``data/weights/plain_14.json``::

    python -m cnnlab.train resnet --plain --name 14 --depth 14 --epochs 8 --shift 0 --label-smoothing 0.1
"""

from __future__ import annotations


from .._validate import (
    check_classifier, check_epochs, check_flag, check_int, check_labels, check_name,
    check_params, check_real, check_seed, check_verbose, describe, model_images,
)
from ..models.resnet import (
    build_plain, build_resnet, check_depth, check_widths, network_params, prepare_images,
)
from ..session import import_keras
from .augment import MAX_SHIFT, augment_images
from .loop import STEPS_PER_CALL, TrainResult, fit
from .precision import hand_back, resolve_precision, training_twin

keras = import_keras()

__all__ = ["MAX_SHIFT", "augment_images", "train", "train_resnet", "degradation_experiment",
           "check_train_resnet", "check_degradation"]

def train(model, x_train, y_train, x_test, y_test, *, epochs, batch_size=128, peak_lr=3e-3,
          weight_decay=5e-4, label_smoothing=0.0, augment=True, max_shift=0, precision="auto",
          seed=0, verbose=1) -> TrainResult:
    """Train a classifier with AdamW, warm-up + cosine learning rate, optional augmentation (lesson 11).

    The steps run on a :func:`~cnnlab.train.precision.training_twin` of
    ``model`` (batch norm in one fused kernel; bfloat16 arithmetic where
    ``precision`` asks for it), whose weights go back into ``model`` at the end.

    Parameters
    ----------
    model : keras.Model
        ``(N, H, W, C)`` -> ``(N, n_classes)`` probabilities.
    x_train, x_test : (N, H, W, C) float32 ndarray
        Images in [0, 1] (:func:`prepare_images`); raw uint8 pixels 0-255
        are prepared here.
    y_train, y_test : (N,) int ndarray
        Class numbers ``0 .. n_classes - 1``, one per image.
    epochs : int
        1 .. 1000.
    batch_size : int
        At least 1 and at most the number of training images.
    peak_lr : float
        Largest learning rate, in (0, 1]: reached linearly over the first 10 %
        of the steps from 0, then follows a cosine curve down to 0.
    weight_decay : float
        AdamW's decoupled weight decay, in [0, 1).
    label_smoothing : float
        Targets ``(1 - e) * one_hot + e / n_classes``, ``e`` in [0, 1).
    augment : bool
        A fresh random left-right flip (and shift, see ``max_shift``) of every
        training image every epoch (:func:`augment_images`).
    max_shift : int
        Largest random shift in pixels; 0 (the default) flips only, which
        fitted Fashion-MNIST faster in a 6-epoch budget than shifts of 2.
    precision : {"auto", "float32", "mixed_bfloat16"}
        Arithmetic of the training steps: ``"auto"`` is bfloat16 where the CPU
        multiplies it in hardware (:func:`~cnnlab.train.precision.bfloat16_supported`),
        float32 elsewhere. The epochs' test scores are the twin's, except the
        last, scored again on ``model`` in float32.
    seed : int
        Seeds the shuffling and the augmentation.
    verbose : {0, 1, 2}
        0 silent; 1 a progress bar per epoch and one line per epoch; 2 the lines only.

    Returns
    -------
    TrainResult
        The same ``model`` (trained) and one :class:`~cnnlab.train.loop.EpochLog`
        per epoch.
    """
    shape, n_classes = check_classifier(model)
    x_train = model_images(model, x_train, "x_train", input_shape=shape)
    y_train = check_labels(y_train, "y_train", len(x_train), n_classes, images="x_train")
    x_test = model_images(model, x_test, "x_test", input_shape=shape)
    y_test = check_labels(y_test, "y_test", len(x_test), n_classes, images="x_test")
    epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment, max_shift, seed, \
        verbose = _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing,
                                augment, max_shift, seed, verbose)
    policy = resolve_precision(precision)
    if len(x_train) < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {len(x_train)} "
                         "training images")
    if max_shift > max(x_train.shape[1:3]):
        raise ValueError(f"`max_shift` must be at most the image side {max(x_train.shape[1:3])}, "
                         f"got {max_shift}")

    def augmented(images, rng):
        return augment_images(images, rng, max_shift=max_shift)

    twin = training_twin(model, policy)
    result = fit(twin, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                 peak_lr=peak_lr, weight_decay=weight_decay, label_smoothing=label_smoothing,
                 augment=augmented if augment else None, seed=seed,
                 steps_per_call=STEPS_PER_CALL["resnet"], eval_batch_size=1000, verbose=verbose,
                 label=model.name)
    return hand_back(result, model, x_test, y_test, eval_batch_size=1000,
                     verbose=verbose and policy != "float32")


def _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment,
                  max_shift, seed, verbose):
    """The training settings of :func:`train`, checked; returned in the same order."""
    return (check_epochs(epochs), check_int(batch_size, "batch_size", minimum=1),
            check_real(peak_lr, "peak_lr", above=0, maximum=1),
            check_real(weight_decay, "weight_decay", minimum=0, below=1),
            check_real(label_smoothing, "label_smoothing", minimum=0, below=1),
            check_flag(augment, "augment"), check_int(max_shift, "max_shift", minimum=0),
            check_seed(seed), check_verbose(verbose))


def _check_limit(limit, n_train=60000, n_test=10000):
    """``limit`` as load_fashion_mnist takes it, checked before anything is loaded."""
    from .. import data

    return data.check_limit(limit, n_train, n_test)


def _load_fashion(limit):
    from .. import data

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(limit)
    return (prepare_images(x_train), y_train), (prepare_images(x_test), y_test)


def train_resnet(depth=14, *, widths=(16, 32, 64), epochs=8, limit=None, batch_size=128,
                 peak_lr=3e-3, weight_decay=5e-4, label_smoothing=0.0, augment=True,
                 max_shift=0, precision="auto", seed=0, verbose=1, name=None,
                 plain=False) -> TrainResult:
    """Build :func:`cnnlab.resnet.build_resnet` and train it on Fashion-MNIST (lesson 11).

    ``limit`` takes fewer images, as :func:`cnnlab.data.load_fashion_mnist`
    does; ``plain=True`` builds the plain twin (:func:`cnnlab.resnet.build_plain`:
    the same layers without the shortcuts) and trains it with the same recipe;
    the other arguments are those of :func:`cnnlab.resnet.build_resnet`
    and :func:`train`. Every argument is checked before the data is loaded or
    the network built.
    """
    check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, weight_decay,
                       label_smoothing, augment, max_shift, seed, verbose, name, plain, precision)
    (x_train, y_train), (x_test, y_test) = _load_fashion(limit)
    keras.utils.set_random_seed(seed)
    builder = build_plain if plain else build_resnet
    model = builder(depth, widths=widths, seed=seed, name=name)
    return train(model, x_train, y_train, x_test, y_test, epochs=epochs, batch_size=batch_size,
                 peak_lr=peak_lr, weight_decay=weight_decay, label_smoothing=label_smoothing,
                 augment=augment, max_shift=max_shift, precision=precision, seed=seed,
                 verbose=verbose)


def check_train_resnet(depth, widths, epochs, limit, batch_size, peak_lr, weight_decay,
                       label_smoothing, augment, max_shift, seed, verbose, name, plain=False,
                       precision="auto"):
    """Every argument of :func:`train_resnet`, checked before anything is loaded or built."""
    check_flag(plain, "plain")
    resolve_precision(precision)
    widths = check_widths(widths)
    n = check_depth(depth, widths)
    check_name(name)
    _check_recipe(epochs, batch_size, peak_lr, weight_decay, label_smoothing, augment,
                  max_shift, seed, verbose)
    n_train, _ = _check_limit(limit)
    if n_train < batch_size:
        raise ValueError(f"`batch_size` {batch_size} is larger than the {n_train} training "
                         "images `limit` leaves")
    if max_shift > 28:
        raise ValueError(f"`max_shift` must be at most 28 (the image side), got {max_shift}")
    check_params(network_params(n, widths, 1, 10, "basic", True), "`widths`")


def check_degradation(depths, widths, epochs, limit, batch_norm, peak_lr, seeds, verbose):
    """Every argument of :func:`degradation_experiment`, checked; returns depths, widths, seeds."""
    depths = _check_ints(depths, "depths", minimum=1)
    widths = check_widths(widths)
    for depth in depths:
        try:
            n = check_depth(depth, widths)
        except ValueError as exc:
            raise ValueError(f"`depths`: {exc}") from None
        check_params(network_params(n, widths, 1, 10, "basic", True), "`widths` and `depths`")
    seeds = _check_ints(seeds, "seeds", minimum=0)
    for s in seeds:
        check_seed(s, "seeds")
    check_epochs(epochs)
    check_flag(batch_norm, "batch_norm")
    check_real(peak_lr, "peak_lr", above=0, maximum=1)
    check_verbose(verbose)
    n_train, _ = _check_limit(limit)
    if n_train < 128:
        raise ValueError(f"`limit` must leave at least 128 training images (one batch), got "
                         f"{n_train}")
    return depths, widths, seeds


def degradation_experiment(depths=(20, 56), *, widths=(8, 16, 32), epochs=4,
                           limit=(10000, 2000), batch_norm=True, peak_lr=3e-3, seeds=(0,),
                           verbose=1) -> dict:
    """Train plain and residual networks of each depth with the same budget (lesson 11).

    Every network sees the same images in the same order (per seed), with
    the same optimiser, schedule and number of epochs; no augmentation and
    no weight decay, so the training loss measures how well the optimiser
    fits the data.

    Parameters
    ----------
    depths : tuple of int
        Depths to compare, each ``6n + 2`` (for three stages), at most 110.
    widths, batch_norm
        As in :func:`cnnlab.resnet.build_resnet`.
    epochs : int
        1 .. 1000.
    limit : (int, int)
        Training and test images (the first ones of each split); at least
        128 training images (one batch).
    peak_lr : float
        Peak learning rate of :func:`train`'s schedule, in (0, 1].
    seeds : tuple of int
        One run of every network per seed (weights, shuffling).
    verbose : {0, 1, 2}

    Returns
    -------
    dict
        ``{"settings": {...}, "runs": {"plain20": [run, ...], "resnet20": [...], ...}}``
        with one ``run`` per seed: lists ``loss``, ``accuracy`` (training),
        ``test_loss``, ``test_accuracy`` and ``seconds``, one entry per epoch,
        and the ``params`` of the network. JSON-ready.
    """
    depths, widths, seeds = check_degradation(depths, widths, epochs, limit, batch_norm,
                                              peak_lr, seeds, verbose)
    (x_train, y_train), (x_test, y_test) = _load_fashion(limit)
    runs = {}
    for kind, builder in (("plain", build_plain), ("resnet", build_resnet)):
        for depth in depths:
            for seed in seeds:
                keras.utils.set_random_seed(seed)
                model = builder(depth, widths=widths, batch_norm=batch_norm, seed=seed)
                result = train(model, x_train, y_train, x_test, y_test, epochs=epochs,
                               peak_lr=peak_lr, weight_decay=0.0, augment=False,
                               precision="float32", seed=seed, verbose=verbose)
                run = {field: [round(float(getattr(e, field)), 5) for e in result.history]
                       for field in ("loss", "accuracy", "test_loss", "test_accuracy", "seconds")}
                run["params"] = int(model.count_params())
                runs.setdefault(f"{kind}{depth}", []).append(run)
                keras.backend.clear_session()
    settings = {"depths": list(depths), "widths": list(widths), "epochs": epochs,
                "train_images": len(x_train),
                "test_images": len(x_test), "batch_norm": bool(batch_norm), "peak_lr": peak_lr,
                "batch_size": 128, "optimizer": "AdamW, warm-up + cosine", "seeds": list(seeds)}
    return {"settings": settings, "runs": runs}


def _check_ints(values, name, minimum):
    """A non-empty tuple or list of ints (``depths``, ``seeds``) as a tuple."""
    if isinstance(values, (bool, str, bytes)) or not isinstance(values, (tuple, list)) or not values:
        raise TypeError(f"`{name}` must be a non-empty tuple of ints such as (20, 56), got "
                        f"{describe(values)}")
    return tuple(check_int(v, name, minimum=minimum) for v in values)
