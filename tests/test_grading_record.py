"""Recording answer calls: random generators and keras.Input as arguments, models as results.

Unit tests of :mod:`cnnlab.tools.grading_record` (generators travel as their
state and come back fresh; a fresh ``keras.Input`` travels as its shape and
dtype and comes back new; a Keras model, or a tensor built on the call's
inputs, travels as a fingerprint every right construction shares), of the
probe in that fingerprint (:mod:`cnnlab.tools.grading_probe`: blocks built
another way share it; a missing shortcut, ReLU before BatchNorm, a wrong
activation, stride or padding that keep every shape do not), then one graded
class (sandboxed kernels, slow): a wrong dropout, a wrong model and a wrong
residual block that switch their test off now fail, a right model and a right
block built another way do not.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from cnnlab.tools import grading_probe, grading_record
from cnnlab.tools.grading_record import Recorder, Unencodable, decode, encode


def trip(value, **kw):
    """``value`` encoded, through JSON text, decoded."""
    return decode(json.loads(json.dumps(encode(value, **kw))))


def dropout(a, keep_prob, rng, training=True):
    a = np.asarray(a, dtype=float)
    if not training:
        return a.copy(), np.ones(a.shape, dtype=bool)
    mask = rng.random(a.shape) < keep_prob
    return a * mask / keep_prob, mask


def recorded(fn, *calls, name="fn"):
    """The calls a Recorder keeps while ``fn`` is called with each ``(args, kwargs)``."""
    namespace = {name: fn}
    recorder = Recorder()
    recorder.wrap(namespace, [name])
    recorder.start("t")
    for args, kwargs in calls:
        namespace[name](*args, **kwargs)
    recorder.stop()
    return recorder.calls["t"]


# --------------------------------------------------------------------------
# Random generators as arguments
# --------------------------------------------------------------------------

@pytest.mark.parametrize("name", grading_record.BIT_GENERATORS)
def test_a_generator_comes_back_new_in_the_state_it_had(name):
    rng = np.random.Generator(getattr(np.random, name)(2024))
    rng.random(5)                                       # a state that is not the seed's
    data = json.loads(json.dumps(encode(rng, argument=True)))
    first, second = decode(data), decode(data)
    assert first is not rng and first is not second
    assert type(first.bit_generator) is type(rng.bit_generator)
    want = rng.random(8)
    np.testing.assert_array_equal(first.random(8), want)
    np.testing.assert_array_equal(second.random(8), want)  # drawing from one left the other alone


def test_encoding_a_generator_draws_nothing_from_it():
    rng, twin = np.random.default_rng(5), np.random.default_rng(5)
    encode([rng, {"again": rng}], argument=True)
    assert rng.random() == twin.random()


def test_the_state_kept_is_the_state_at_the_call_not_the_seed():
    rng = np.random.default_rng(3)
    before = encode(rng, argument=True)
    rng.normal(size=4)
    after = encode(rng, argument=True)
    assert before != after
    np.testing.assert_array_equal(decode(after).random(3), rng.random(3))


@pytest.mark.parametrize("make", [
    lambda: np.random.Generator(type("MyBits", (np.random.PCG64,), {})(1)),  # not numpy's own
    lambda: np.random.RandomState(1),                                       # the legacy API
    lambda: np.random.PCG64(1),                                             # a bare bit generator
])
def test_other_random_sources_are_not_plain_data(make):
    with pytest.raises(Unencodable):
        encode([make()], argument=True)


def test_a_generator_is_plain_data_only_as_an_argument():
    with pytest.raises(Unencodable, match="Generator"):
        encode(np.random.default_rng(0))  # a result: no way to compare two generators


def test_decoding_refuses_a_bit_generator_that_is_not_numpys():
    data = encode(np.random.default_rng(0), argument=True)
    data["__generator__"] = "os.system"
    with pytest.raises(ValueError, match="not a bit generator"):
        decode(data)


def test_a_recorder_keeps_calls_that_take_a_generator():
    a = np.arange(1.0, 13.0).reshape(3, 4)
    rng = np.random.default_rng(7)
    calls = recorded(dropout, ((a, 0.5, rng), {}), ((a, 0.5, rng), {}),
                     ((a, 0.5, np.random.default_rng(8)), {"training": False}))
    assert [("result" in c) for c in calls] == [True, True, True]
    assert calls[0]["args"] != calls[1]["args"]  # the second call starts where the first ended
    twin = np.random.default_rng(7)
    for call in calls[:2]:
        out, mask = decode(call["result"])
        want_out, want_mask = dropout(a, 0.5, twin)
        np.testing.assert_array_equal(mask, want_mask)
        np.testing.assert_array_equal(out, want_out)
    assert rng.random() == twin.random()  # the caller's generator moved on as without recording


def test_a_call_whose_draws_do_not_come_from_its_generator_is_not_kept():
    def own_draws(a, keep_prob, rng):
        return np.random.default_rng().random(np.shape(a)) < keep_prob

    assert recorded(own_draws, ((np.ones(50), 0.5, np.random.default_rng(0)), {})) == []
    bits = type("MyBits", (np.random.PCG64,), {})
    assert recorded(dropout, ((np.ones(4), 0.5, np.random.Generator(bits(1))), {})) == []


def test_replay_gives_each_call_its_generator_in_the_recorded_state(tmp_path, monkeypatch):
    a = np.linspace(-1, 1, 20)
    calls = recorded(dropout, ((a, 0.7, np.random.default_rng(11)), {}), name="my_dropout")
    monkeypatch.chdir(tmp_path)
    (tmp_path / grading_record.IN_FILE).write_text(
        json.dumps({"t": [{"fn": c["fn"], "args": c["args"]} for c in calls]}))

    def swapped(a, keep_prob, rng, training=True):  # keeps with the drop probability
        mask = rng.random(np.shape(a)) < 1 - keep_prob
        return np.asarray(a) * mask / keep_prob, mask

    got = {}
    for student, fn in [("right", dropout), ("swapped", swapped)]:
        grading_record.replay({"my_dropout": fn}, "t")
        got[student] = json.loads((tmp_path / grading_record.out_file("t")).read_text())
    assert got["right"] == [{"result": calls[0]["result"]}]
    assert got["swapped"] != got["right"] and "result" in got["swapped"][0]


# --------------------------------------------------------------------------
# Keras models as results
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    from cnnlab.session import import_keras

    return import_keras()


def small_net(keras, filters=4, kernel=3, relu_layer=False, sequential=False, dense=True):
    """(N, 8, 8, 1) -> conv -> flatten -> dense(3): ReLU inside Conv2D or as its own layer."""
    layers = keras.layers
    conv = [layers.Conv2D(filters, kernel), layers.ReLU()] if relu_layer else \
        [layers.Conv2D(filters, kernel, activation="relu")]
    stack = [*conv, layers.Flatten(), *([layers.Dense(3)] if dense else [])]
    if sequential:
        return keras.Sequential([keras.Input(shape=(8, 8, 1)), *stack])
    x = inputs = keras.Input(shape=(8, 8, 1))
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x, name="mine")


def two_branches(keras, first="wide"):
    """A sum of a 3x3 and a 1x1 convolution; the branches created in either order."""
    layers = keras.layers
    inputs = keras.Input(shape=(6, 6, 2))
    make = {"wide": lambda: layers.Conv2D(5, 3, padding="same", name="w")(inputs),
            "narrow": lambda: layers.Conv2D(5, 1, use_bias=False, name="n")(inputs)}
    other = "narrow" if first == "wide" else "wide"
    branch = {first: make[first]()}
    branch[other] = make[other]()
    return keras.Model(inputs, layers.Add()([branch["wide"], branch["narrow"]]))


def test_equivalent_constructions_share_one_fingerprint(keras):
    fused = encode(small_net(keras))
    assert encode(small_net(keras, relu_layer=True)) == fused
    assert encode(small_net(keras, relu_layer=True, sequential=True)) == fused
    assert encode(two_branches(keras, "wide")) == encode(two_branches(keras, "narrow"))
    fingerprint = trip(small_net(keras))
    assert isinstance(fingerprint, grading_record.ModelFingerprint)
    assert fingerprint.inputs == "(None, 8, 8, 1)" and fingerprint.outputs == "(None, 3)"
    assert fingerprint.params == 4 * 9 + 4 + 36 * 4 * 3 + 3
    assert fingerprint.weights == "[(3,), (3, 3, 1, 4), (4,), (144, 3)]"


@pytest.mark.parametrize("wrong", [{"filters": 5}, {"kernel": 2}, {"dense": False}])
def test_a_wrong_model_has_another_fingerprint(keras, wrong):
    assert trip(small_net(keras, **wrong)) != trip(small_net(keras))


def test_fingerprints_compare_in_the_grader(keras):
    replay = pytest.importorskip("cnnlab.tools.grading_replay", reason="teachers' tools")
    right = trip(small_net(keras))
    assert replay.same(right, trip(small_net(keras, relu_layer=True, sequential=True)))
    assert not replay.same(right, trip(small_net(keras, filters=5)))
    for other in (None, "(None, 3)", np.zeros(3), [1, 2], {"params": right.params}):
        assert replay.same(right, other) is False


def test_a_model_that_is_not_built_or_is_an_argument_is_not_plain_data(keras):
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(Unencodable, match="without inputs"):
        encode(unbuilt)
    with pytest.raises(Unencodable):
        encode([small_net(keras)], argument=True)
    with pytest.raises(Unencodable):  # a tensor result needs the call's inputs to be a model
        encode(keras.layers.Dense(2)(keras.Input(shape=(3,))))


def test_a_recorder_keeps_a_model_builder_only_if_it_builds_the_same_twice(keras):
    def build(filters):
        return small_net(keras, filters)

    calls = recorded(build, ((4,), {}), ((6,), {}))
    assert [decode(c["result"]).params for c in calls] == [f * 10 + 36 * f * 3 + 3 for f in (4, 6)]
    growing = iter(range(1, 10))
    assert recorded(lambda: small_net(keras, next(growing)), ((), {})) == []


def test_plain_values_never_import_keras():
    code = ("import sys, numpy as np\n"
            "from cnnlab.tools.grading_record import encode, decode, keras_inputs, Unencodable\n"
            "encode([1, np.zeros(3), {'a': (2.5, None)}], inputs=[])\n"
            "decode(encode([[np.random.default_rng(0), 'x'], {}], argument=True))\n"
            "assert keras_inputs([[1, np.zeros(2), (None,)], {'a': 'b'}]) == []\n"
            "try:\n    encode(object())\nexcept Unencodable:\n    pass\n"
            "print('keras' in sys.modules, 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


# --------------------------------------------------------------------------
# keras.Input as arguments, Keras tensors (blocks built on them) as results
# --------------------------------------------------------------------------

def identity_block(keras, x, f, add="layer", relu="layer", kernel=None, filters=None):
    """relu(BN(conv(relu(BN(conv(x))))) + x), the lesson-11 block, built in several ways."""
    layers = keras.layers
    channels = filters or x.shape[-1]

    def relu_of(t):
        return layers.ReLU()(t) if relu == "layer" else layers.Activation("relu")(t)

    y = layers.Conv2D(channels, kernel or f, padding="same", use_bias=False)(x)
    y = relu_of(layers.BatchNormalization()(y))
    y = layers.Conv2D(x.shape[-1], f, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    y = layers.Add()([y, x]) if add == "layer" else keras.layers.add([x, y])
    return relu_of(y)


def inception(keras, x, filters, order=(0, 1, 2, 3), relu="argument", n3=None):
    """The lesson-10 Inception module, its branches created in the given ``order``."""
    layers = keras.layers
    n1, r3, n3_, r5, n5, pp = filters

    def conv(t, maps, k):
        if relu == "argument":
            return layers.Conv2D(maps, k, padding="same", activation="relu")(t)
        return layers.ReLU()(layers.Conv2D(maps, k, padding="same")(t))

    make = [lambda: conv(x, n1, 1), lambda: conv(conv(x, r3, 1), n3 or n3_, 3),
            lambda: conv(conv(x, r5, 1), n5, 5),
            lambda: conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), pp, 1)]
    branch = {}
    for i in order:
        branch[i] = make[i]()
    return layers.Concatenate()([branch[i] for i in range(4)])


def tensor_trip(keras, build, shape, *rest):
    """The encoded result of ``build(x, *rest)`` for a new ``keras.Input(shape)`` ``x``."""
    arguments = encode([[keras.Input(shape=shape), *rest], {}], argument=True)
    args, kwargs = decode(json.loads(json.dumps(arguments)))
    result = build(*args, **kwargs)
    return decode(json.loads(json.dumps(encode(result, inputs=grading_record.keras_inputs(args)))))


def test_a_fresh_input_comes_back_new_with_its_shape_and_dtype(keras):
    x = keras.Input(shape=(5, None, 3), dtype="float16", name="mine")
    data = json.loads(json.dumps(encode([x, 4], argument=True)))
    assert data == [{"__keras_input__": {"shape": [5, None, 3], "dtype": "float16"}}, 4]
    (first, four), (second, _) = decode(data), decode(data)
    assert four == 4 and first is not x and second is not first
    for new in (first, second):
        assert isinstance(new, keras.KerasTensor)
        assert tuple(new.shape) == (None, 5, None, 3) and new.dtype == "float16"
        assert encode(new, argument=True) == data[0]  # a fresh input too
    batched = trip(keras.Input(shape=(2,), batch_size=7), argument=True)
    assert tuple(batched.shape) == (7, 2)


def test_a_tensor_with_layers_behind_it_is_not_an_argument(keras):
    x = keras.Input(shape=(4, 4, 2))
    for tensor in (keras.layers.Conv2D(3, 1)(x), keras.layers.ReLU()(x),
                   keras.KerasTensor((None, 4, 4, 2))):           # no keras.Input at all
        with pytest.raises(Unencodable):
            encode([[tensor, 3], {}], argument=True)
    with pytest.raises(Unencodable):  # a tensor result needs the inputs of its call
        encode(x, inputs=None)
    with pytest.raises(ValueError, match="argument, never a result"):
        decode(encode(x, argument=True), result=True)


def test_equivalent_blocks_share_one_fingerprint(keras):
    def block(**kw):
        return tensor_trip(keras, lambda x, f: identity_block(keras, x, f, **kw), (5, 6, 3), 3)

    right = block()
    assert isinstance(right, grading_record.ModelFingerprint)
    assert right.inputs == right.outputs == "(None, 5, 6, 3)"
    assert right.params == 2 * (27 * 3 + 12)
    assert block(add="function") == block(relu="activation") == right
    assert block(add="function", relu="activation") == right
    for wrong in ({"kernel": 1}, {"filters": 4}):
        assert block(**wrong) != right, wrong

    filters = (2, 3, 4, 1, 5, 6)

    def module(**kw):
        return tensor_trip(keras, lambda x, f: inception(keras, x, f, **kw), (9, 9, 7), filters)

    right = module()
    assert right.outputs == "(None, 9, 9, 17)" and right.params == 16 + 24 + 112 + 8 + 130 + 48
    assert module(order=(3, 2, 1, 0)) == module(order=(2, 0, 3, 1), relu="layer") == right
    assert module(n3=5) != right


def test_a_result_not_built_on_the_calls_inputs_is_not_plain_data(keras):
    x, other = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    on_other = keras.layers.Dense(2)(other)
    with pytest.raises(Unencodable, match="not built on the call's inputs"):
        encode(on_other, inputs=[x])
    with pytest.raises(Unencodable, match="not built on the call's inputs"):
        encode(keras.layers.Add()([x, other]), inputs=[x])  # needs an input it was not given
    assert recorded(lambda t: keras.layers.Dense(2)(other), (([x], {}))) == []


def test_a_recorder_keeps_block_calls_and_replay_compares_them(keras, tmp_path, monkeypatch):
    replay = pytest.importorskip("cnnlab.tools.grading_replay", reason="teachers' tools")

    def teachers(x, f):
        return identity_block(keras, x, f)

    x = keras.Input(shape=(5, 6, 3))
    calls = recorded(teachers, ((x, 3), {}), ((keras.Input(shape=(4, 4, 2)), 5), {}),
                     ((keras.layers.ReLU()(x), 3), {}),   # not a fresh input: not kept
                     name="my_identity_block")
    assert [decode(c["result"]).params for c in calls] == [2 * (27 * 3 + 12), 2 * (25 * 4 + 4 * 2)]
    monkeypatch.chdir(tmp_path)
    (tmp_path / grading_record.IN_FILE).write_text(
        json.dumps({"t": [{"fn": c["fn"], "args": c["args"]} for c in calls]}))
    students = {
        "other_right": lambda x, f: identity_block(keras, x, f, add="function", relu="activation"),
        "wrong_kernel": lambda x, f: identity_block(keras, x, f, kernel=1),
        "own_input": lambda x, f: identity_block(keras, keras.Input(shape=x.shape[1:]), f),
    }
    problems = {}
    for student, fn in students.items():
        grading_record.replay({"my_identity_block": fn}, "t")
        got = json.loads((tmp_path / grading_record.out_file("t")).read_text())
        problems[student] = replay._differences(calls, got)
    assert problems["other_right"] == ""
    assert "does not return what the teacher's version returns" in problems["wrong_kernel"]
    assert "raised Unencodable" in problems["own_input"]


@pytest.mark.parametrize("expected", ["a", None, ""])
def test_a_string_or_none_compared_with_an_array_is_simply_different(expected):
    replay = pytest.importorskip("cnnlab.tools.grading_replay", reason="teachers' tools")
    for got in (np.zeros(3), np.array(["a", "a"]), np.array("a"), 0):
        assert replay.same(expected, got) is False
        assert replay.same(got, expected) is False
    assert replay.same(expected, expected) is True

    class NoTruth:  # an == that gives an array, as numpy's does
        def __eq__(self, other):
            return np.array([True, False])

    assert replay.same(NoTruth(), NoTruth()) is False
    want = [{"fn": "f", "result": encode(expected)}]
    assert "does not return" in replay._differences(want, [{"result": encode(np.zeros(3))}])
    assert "does not return" in replay._differences(want, [{"result": {"__ndarray__": 1}}])


# --------------------------------------------------------------------------
# Probes: what a model computes with its weights filled by role
# --------------------------------------------------------------------------

def residual(keras, x, variant="right", f=3):
    """The identity block, right in several ways or wrong in one (shapes and weights kept).

    ``"reordered"``: the second convolution and BatchNorm created first, all
    named, ``x + y`` and ``Activation("relu")``; ``"x_plus_y"`` and
    ``"activation_layer"`` one change each; the wrong ones: ``"no_shortcut"``,
    ``"relu_before_bn"``, ``"sigmoid"``.
    """
    L = keras.layers
    c = x.shape[-1]
    if variant == "reordered":  # created second conv first, named, x + y, Activation("relu")
        conv_b = L.Conv2D(c, f, padding="same", use_bias=False, name="zz_second")
        bn_b = L.BatchNormalization(name="zz_bn_second")
        conv_a = L.Conv2D(c, f, padding="same", use_bias=False, name="aa_first")
        bn_a = L.BatchNormalization(name="aa_bn_first")
        y = bn_b(conv_b(L.Activation("relu")(bn_a(conv_a(x)))))
        return L.Activation("relu")(x + y)

    def relu():
        return L.Activation("relu") if variant == "activation_layer" else L.ReLU()

    y = L.Conv2D(c, f, padding="same", use_bias=False)(x)
    if variant == "relu_before_bn":
        y = L.BatchNormalization()(relu()(y))
    else:
        y = L.BatchNormalization()(y)
        y = L.Activation("sigmoid")(y) if variant == "sigmoid" else relu()(y)
    y = L.BatchNormalization()(L.Conv2D(c, f, padding="same", use_bias=False)(y))
    if variant == "x_plus_y":
        y = x + y
    elif variant != "no_shortcut":
        y = L.Add()([y, x])
    return relu()(y)


def downsampling(keras, x, variant="right"):
    """A stride-2 projection block on an even-sized input; the stride or padding wrong, or not."""
    L = keras.layers

    def conv_bn(t, maps, k, stride, padding="same"):
        return L.BatchNormalization()(L.Conv2D(maps, k, strides=stride, padding=padding,
                                               use_bias=False)(t))

    if variant == "stride_on_1x1":       # ResNet v1's placement instead of v1.5's: same shapes
        y = conv_bn(L.ReLU()(conv_bn(x, 4, 1, 2)), 4, 3, 1)
    elif variant == "padded_by_hand":    # one zero on every side, then "valid": same shapes
        y = conv_bn(L.ZeroPadding2D(1)(L.ReLU()(conv_bn(x, 4, 1, 1))), 4, 3, 2, "valid")
    else:
        y = conv_bn(L.ReLU()(conv_bn(x, 4, 1, 1)), 4, 3, 2)
    return L.ReLU()(L.Add()([y, conv_bn(x, 4, 1, 2)]))


def probed(keras, build, shape=(6, 6, 3), variant="right"):
    """The fingerprint, as the grader reads it, of ``build(x, variant)`` on a new input."""
    fingerprint = tensor_trip(keras, lambda x: build(keras, x, variant), shape)
    assert fingerprint.probe and all(fingerprint.probe), "the model was probed"
    return fingerprint


def without_probe(fingerprint):
    return grading_record.ModelFingerprint(fingerprint.inputs, fingerprint.outputs,
                                           fingerprint.params, fingerprint.weights)


@pytest.mark.parametrize("other", ["reordered", "x_plus_y", "activation_layer"])
def test_right_blocks_built_otherwise_share_one_probe(keras, other):
    right = probed(keras, residual)
    again = probed(keras, residual, variant=other)
    assert again == right and right == again
    assert grading_probe.probes_match(right.probe, again.probe)
    assert len(right.probe) == 1 and len(right.probe[0]) == 2 * 6 * 6 * 3


@pytest.mark.parametrize("build, wrong", [
    (residual, "no_shortcut"), (residual, "relu_before_bn"), (residual, "sigmoid"),
    (downsampling, "stride_on_1x1"), (downsampling, "padded_by_hand")])
def test_a_wrong_block_with_the_right_shapes_has_another_probe(keras, build, wrong):
    right, other = probed(keras, build), probed(keras, build, variant=wrong)
    assert without_probe(other) == without_probe(right), "shapes and weights alone: the same"
    assert other != right and right != other
    assert (other == right) is False


def test_probing_leaves_the_models_own_weights(keras):
    model = small_net(keras)
    before = [w.copy() for w in model.get_weights()]
    first = encode(model)["__keras_model__"]["probe"]
    for was, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(now, was)
    model.set_weights([w * 2 for w in before])          # other weights: the same probe
    assert encode(model)["__keras_model__"]["probe"] == first


def test_every_input_and_output_is_probed(keras):
    L = keras.layers

    def two_way(swap=False):
        a, b = keras.Input(shape=(4,)), keras.Input(shape=(4,))
        first, second = (b, a) if swap else (a, b)
        return keras.Model([a, b], [L.Dense(3)(first), L.Dense(2)(L.Subtract()([first, second]))])

    right = trip(two_way())
    assert [len(p) for p in right.probe] == [2 * 3, 2 * 2]
    assert trip(two_way()) == right and trip(two_way(swap=True)) != right


def test_a_large_output_is_summarised_and_every_value_counts(keras):
    L = keras.layers

    def wide(activation="relu"):
        x = keras.Input(shape=(32, 32, 3))
        return keras.Model(x, L.Conv2D(8, 3, padding="same", activation=activation)(x))

    probe = trip(wide()).probe
    assert len(probe[0]) == grading_probe.MAX_VALUES < 2 * 32 * 32 * 8
    assert trip(wide()) == trip(wide()) and trip(wide("tanh")) != trip(wide())


def test_a_model_that_cannot_be_probed_falls_back_to_the_other_fields(keras):
    L = keras.layers

    class Fussy(L.Layer):
        def call(self, x, training=None):
            if not training:
                raise RuntimeError("only in training")
            return x

    def open_size():
        x = keras.Input(shape=(None, None, 1))
        return keras.Model(x, L.Conv2D(2, 3)(x))

    def fussy():
        x = keras.Input(shape=(4,))
        return keras.Model(x, Fussy()(L.Dense(2)(x), training=True))

    for build in (open_size, fussy):
        fingerprint = trip(build())
        assert fingerprint.probe == [] and fingerprint == trip(build())
    probed_model = trip(small_net(keras))
    unprobed = grading_record.ModelFingerprint(*[getattr(probed_model, f) for f in
                                                 ("inputs", "outputs", "params", "weights")], [])
    assert unprobed != probed_model and probed_model != unprobed  # one side probed: different


def test_a_fingerprint_recorded_before_probes_compares_by_its_other_fields(keras):
    right = trip(small_net(keras))
    old = without_probe(right)
    assert old.probe is None and old == right and right == old and hash(old) == hash(right)
    data = encode(small_net(keras))
    del data["__keras_model__"]["probe"]
    assert decode(data) == right and decode(data) != trip(small_net(keras, filters=5))
    replay = pytest.importorskip("cnnlab.tools.grading_replay", reason="teachers' tools")
    assert replay._same_result(data, encode(small_net(keras)))        # an old teacher's record
    assert not replay._same_result(encode(small_net(keras)), data)     # a student's result: forged


def test_weight_roles_and_values_depend_on_role_and_shape_only():
    role = grading_probe.weight_role
    assert [role(n) for n in ("conv2d_3/kernel:0", "block/depthwise_kernel", "dense/bias",
                              "bn/gamma", "bn/beta", "x/moving_mean", "moving_variance",
                              "embedding/embeddings")] == \
        ["kernel", "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "other"]
    kernel = grading_probe.role_values("kernel", (3, 3, 2, 4))
    np.testing.assert_array_equal(kernel, grading_probe.role_values("kernel", (3, 3, 2, 4)))
    assert abs(kernel.std() * np.sqrt(18) - np.sqrt(1.5)) < 0.2     # about sqrt(3 / fan_in) / sqrt 2
    for positive in ("gamma", "moving_variance"):
        values = grading_probe.role_values(positive, (64,))
        assert values.min() > 0.5 and abs(values.mean() - 1) < 0.1
    assert np.abs(grading_probe.role_values("moving_mean", (64,))).max() <= 0.2
    with pytest.raises(ValueError, match="role: expected one of kernel"):
        grading_probe.role_values("weights", (2,))
    batch = grading_probe.probe_input((2, 4, 4, 1))
    assert batch.dtype == np.float32 and len(np.unique(batch)) == batch.size
    assert not np.array_equal(batch[0], batch[1])


def test_probes_match_within_float32_rounding_only():
    want = [[0.0, 1.5, -2.0, 1e-6], [3.0]]
    match = grading_probe.probes_match
    assert match(want, [[1e-6, 1.5 * (1 + 1e-5), -2.0, 0.0], [3.0]])
    assert not match(want, [[0.0, 1.5 * (1 + 1e-2), -2.0, 1e-6], [3.0]])
    assert not match(want, [[0.0, 1.5, -2.0], [3.0]]) and not match(want, want[:1])
    assert not match(want, None) and not match(want, "probe") and match([], [])
    assert not match(want, [["a", 1.5, -2.0, 0.0], [3.0]])


# --------------------------------------------------------------------------
# A graded class (sandboxed kernels: slow)
# --------------------------------------------------------------------------

LESSON = "96_record"
TESTS = ["ex-my_dropout-test", "ex-build_net-test", "ex-my_block-test"]
DROPOUT = ("def my_dropout(a, keep_prob, rng):\n"
           "    mask = rng.random(np.shape(a)) < keep_prob\n"
           "    return np.asarray(a) * mask / keep_prob, mask")
NET = ("def build_net(filters):\n"
       "    inputs = keras.Input(shape=(6, 6, 1))\n"
       "    x = keras.layers.Conv2D(filters, 3, activation='relu')(inputs)\n"
       "    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(x))\n"
       "    return keras.Model(inputs, outputs)")
OTHER_NET = ("def build_net(filters):\n"
             "    return keras.Sequential([keras.Input(shape=(6, 6, 1)),\n"
             "                             keras.layers.Conv2D(filters, 3), keras.layers.ReLU(),\n"
             "                             keras.layers.Flatten(), keras.layers.Dense(2)])")
BLOCK = ("def my_block(x, f):\n"
         "    y = keras.layers.Conv2D(x.shape[-1], f, padding='same', use_bias=False)(x)\n"
         "    y = keras.layers.ReLU()(keras.layers.BatchNormalization()(y))\n"
         "    y = keras.layers.Conv2D(x.shape[-1], f, padding='same', use_bias=False)(y)\n"
         "    y = keras.layers.Add()([keras.layers.BatchNormalization()(y), x])\n"
         "    return keras.layers.ReLU()(y)")
OTHER_BLOCK = ("def my_block(x, f):\n"
               "    L = keras.layers\n"
               "    def conv_bn(t):\n"
               "        return L.BatchNormalization()(L.Conv2D(x.shape[-1], f, padding='same',\n"
               "                                               use_bias=False)(t))\n"
               "    y = conv_bn(L.Activation('relu')(conv_bn(x)))\n"
               "    return L.Activation('relu')(L.add([x, y]))")
STUDENTS = {
    "right": {},
    "other_right": {"ex-build_net": OTHER_NET, "ex-my_block": OTHER_BLOCK},
    "attack": {"ex-my_dropout": DROPOUT.replace("< keep_prob", "< 1 - keep_prob")
               + "\nnp.testing.assert_array_equal = lambda *a, **k: None",
               "ex-build_net": NET.replace("Conv2D(filters,", "Conv2D(filters + 1,")
               + "\nnp.testing.assert_equal = lambda *a, **k: None",
               # no shortcut: every shape and the parameter count right, only the probe differs
               "ex-my_block": BLOCK.replace("keras.layers.Add()([keras.layers.Batch",
                                            "(lambda t: t[0])([keras.layers.Batch")
               + "\nnp.testing.assert_allclose = lambda *a, **k: None"},
}


def record_notebook(tgc):
    import nbformat

    def answer(source):
        name = source.split("(")[0].removeprefix("def ")
        head, body = source.split("\n", 1)
        return tgc.code(f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION",
                        grade_id=f"ex-{name}", solution=True, locked=False)

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        tgc.code("import numpy as np\nfrom cnnlab.session import import_keras\n"
                 "keras = import_keras()"),
        answer(DROPOUT),
        tgc.graded_cell("my_dropout",
                        "a = np.arange(1.0, 13.0).reshape(3, 4)\n"
                        "out, mask = my_dropout(a, 0.8, np.random.default_rng(7))\n"
                        "np.testing.assert_array_equal(mask, np.random.default_rng(7).random((3, 4)) < 0.8)\n"
                        "np.testing.assert_array_equal(out, a * mask / 0.8)"),
        answer(NET),
        tgc.graded_cell("build_net",
                        "np.testing.assert_equal(build_net(3).count_params(), 30 + 16 * 3 * 2 + 2)"),
        answer(BLOCK),
        tgc.graded_cell("my_block",
                        "x = keras.Input(shape=(5, 6, 3))\n"
                        "block = keras.Model(x, my_block(x, 3))\n"
                        "np.testing.assert_allclose(block.count_params(), 2 * (27 * 3 + 12))"),
    ]
    return nb


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    pytest.importorskip("nbgrader", reason="teachers' tools: make .venv/.teacher")
    pytest.importorskip("tensorflow")
    import nbformat
    import test_grading_class as tgc

    from cnnlab.tools import assignments

    root = tmp_path_factory.mktemp("record")
    (root / "notebooks").mkdir()
    nbformat.write(record_notebook(tgc), root / "notebooks" / f"{LESSON}.ipynb")
    course = root / "course"
    assignments.build(course, root / "notebooks", [LESSON], timeout=120, log=lambda *a: None)
    release = course / "release" / LESSON / f"{LESSON}.ipynb"
    right = {"ex-my_dropout": DROPOUT, "ex-build_net": NET, "ex-my_block": BLOCK}
    for student, answers in STUDENTS.items():
        nb = nbformat.read(release, as_version=4)
        for cell in nb.cells:
            if tgc.grade_id(cell) in right:
                cell.source = answers.get(tgc.grade_id(cell), right[tgc.grade_id(cell)])
        path = root / "subs" / student / LESSON / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    assignments.grade(root / "subs", course, jobs=1, unsandboxed=not tgc.SANDBOXED,
                      log=lambda *a: None)
    return {"course": course, "tgc": tgc}


def test_the_teachers_run_records_the_generator_model_and_block_calls(graded_class):
    calls = json.loads((graded_class["course"] / "expected" / f"{LESSON}.json").read_text())
    assert [len(calls.get(t, [])) for t in TESTS] == [1, 1, 1]
    assert "__generator__" in json.dumps(calls[TESTS[0]][0]["args"])
    assert "__keras_model__" in calls[TESTS[1]][0]["result"]
    assert calls[TESTS[2]][0]["args"][0][0] == {
        "__keras_input__": {"shape": [5, 6, 3], "dtype": "float32"}}
    assert calls[TESTS[2]][0]["result"]["__keras_model__"]["params"] == 2 * (27 * 3 + 12)
    assert [len(p) for p in calls[TESTS[2]][0]["result"]["__keras_model__"]["probe"]] == [2 * 90]


@pytest.mark.parametrize("student, expected, flagged", [
    ("right", [1, 1, 1], []), ("other_right", [1, 1, 1], []), ("attack", [0, 0, 0], TESTS)])
def test_switched_off_tests_fail_and_right_models_built_otherwise_pass(graded_class, student,
                                                                        expected, flagged):
    tgc = graded_class["tgc"]
    got = {r["exercise"]: r for r in tgc.rows(graded_class["course"]) if r["student"] == student}
    assert [float(got[t]["score"]) for t in TESTS] == expected
    review = got[TESTS[0]]["review"]
    assert all(tgc.disagrees(t) in review for t in flagged), review
    if not flagged:
        assert review == ""
    else:
        assert "assigns np.testing.assert_array_equal" in review
        assert "assigns np.testing.assert_equal" in review
        assert "assigns np.testing.assert_allclose" in review
