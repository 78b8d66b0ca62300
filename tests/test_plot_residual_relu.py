"""Lesson 11: the block diagrams draw the final ReLU of a residual block, y = relu(F(x) + x).

``cnnlab.plot.draw_architecture`` leaves out dropout and stand-alone
activations, except an activation whose input is an ``Add`` layer. The
references are the Keras models themselves: which layer feeds which
(``layer.input``) and each layer's class.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from cnnlab import plot, resnet  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def drawn(ax):
    """{layer name: its block (a Rectangle)} of a drawn architecture."""
    return {p.get_gid().removeprefix("block:"): p for p in ax.patches
            if (p.get_gid() or "").startswith("block:")}


def centre(patch):
    return patch.get_x() + patch.get_width() / 2, patch.get_y() + patch.get_height() / 2


def arrows_into(ax, patch):
    """Start points of the arrows that end on the top edge of ``patch``."""
    x, y = centre(patch)
    top = y + patch.get_height() / 2
    return [a.xyann for a in ax.texts
            if isinstance(a, matplotlib.text.Annotation) and a.xy == pytest.approx((x, top))]


def block_model(c_in, filters, stride, name="b"):
    x = keras.Input(shape=(8, 8, c_in), name="x")
    return keras.Model(x, resnet.residual_block(x, filters, stride=stride, name=name))


def follows_add(model, layer):
    """Whether ``layer`` is a ReLU whose input is the output of an Add layer of ``model``."""
    producer = {id(other.output): other for other in model.layers}.get(id(layer.input))
    return isinstance(layer, keras.layers.ReLU) and isinstance(producer, keras.layers.Add)


@pytest.mark.parametrize("c_in, filters, stride", [(4, 4, 1), (4, 8, 2)])
def test_block_diagram_draws_the_relu_after_the_add(c_in, filters, stride):
    model = block_model(c_in, filters, stride)
    ax = plot.draw_architecture(model)
    blocks = drawn(ax)
    relus = [layer.name for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    assert relus == ["b_conv1_relu", "b_out"]
    assert "b_out" in blocks and "b_conv1_relu" not in blocks     # only the one after the Add
    want = [layer.name for layer in model.layers if layer.name != "b_conv1_relu"]
    assert list(blocks) == want
    assert list(blocks)[-1] == "b_out" and list(blocks)[-2] == "b_add"
    add, out = blocks["b_add"], blocks["b_out"]
    assert centre(out)[0] == pytest.approx(centre(add)[0])          # straight below the Add
    assert centre(out)[1] < centre(add)[1]
    starts = arrows_into(ax, out)                                   # one arrow, from the Add
    assert starts == [pytest.approx((centre(add)[0], add.get_y()))]
    colour = mcolors.to_rgba(plot.ARCHITECTURE_COLOURS["activation"])
    assert out.get_facecolor() == pytest.approx(colour)
    assert add.get_facecolor() == pytest.approx(mcolors.to_rgba(plot.ARCHITECTURE_COLOURS["merge"]))
    texts = [t.get_text() for t in ax.texts]
    assert "b_out" in texts and "×".join(map(str, model.output.shape[1:])) in texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "activation" in legend


def test_resnet_diagram_chains_through_each_blocks_relu():
    model = resnet.build_resnet(8)
    ax = plot.draw_architecture(model)
    blocks = drawn(ax)
    outs = [layer.name for layer in model.layers if follows_add(model, layer)]
    assert outs == ["stage1_block1_out", "stage2_block1_out", "stage3_block1_out"]
    hidden = [layer.name for layer in model.layers
              if isinstance(layer, keras.layers.ReLU) and layer.name not in outs]
    assert hidden and not set(hidden) & set(blocks)                 # the other ReLUs stay out
    assert set(outs) <= set(blocks)
    assert len(blocks) == len(model.layers) - len(hidden)
    # the next stage's two branches (and the pooling) start at the ReLU, not at the Add
    for out, children in [("stage1_block1_out", ["stage2_block1_conv1", "stage2_block1_shortcut"]),
                          ("stage2_block1_out", ["stage3_block1_conv1", "stage3_block1_shortcut"]),
                          ("stage3_block1_out", ["pool"])]:
        source = blocks[out]
        for child in children:
            assert arrows_into(ax, blocks[child]) == [
                pytest.approx((centre(source)[0], source.get_y()))], child


def test_plain_twin_diagram_is_unchanged():
    model = resnet.build_plain(8)
    ax = plot.draw_architecture(model)
    blocks = drawn(ax)
    assert not any(isinstance(model.get_layer(n), keras.layers.ReLU) for n in blocks)
    assert len(blocks) == sum(not isinstance(layer, keras.layers.ReLU) for layer in model.layers)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "activation" not in legend


def test_only_activations_straight_after_an_add_are_drawn():
    x = keras.Input(shape=(6, 6, 3), name="x")
    a = keras.layers.Conv2D(3, 3, padding="same", name="a")(x)
    a_relu = keras.layers.ReLU(name="a_relu")(a)                          # after a conv: hidden
    joined = keras.layers.Concatenate(name="cat")([a_relu, x])
    cat_relu = keras.layers.Activation("relu", name="cat_relu")(joined)   # after a concat: hidden
    b = keras.layers.Conv2D(3, 1, name="b")(cat_relu)
    added = keras.layers.Add(name="add")([b, x])
    drop = keras.layers.Dropout(0.5, name="drop")(added)
    drop_relu = keras.layers.ReLU(name="drop_relu")(drop)                 # after a dropout: hidden
    added2 = keras.layers.Add(name="add2")([drop_relu, x])
    act = keras.layers.Activation("relu", name="act")(added2)             # after an Add: drawn
    model = keras.Model(x, act)
    blocks = drawn(plot.draw_architecture(model))
    assert list(blocks) == ["x", "a", "cat", "b", "add", "add2", "act"]


def test_listed_relu_blocks_take_the_activation_colour():
    ax = plot.draw_architecture([("add", "Add", (4, 4, 2)), ("out", "ReLU", (4, 4, 2))])
    blocks = drawn(ax)
    assert blocks["out"].get_facecolor() == pytest.approx(
        mcolors.to_rgba(plot.ARCHITECTURE_COLOURS["activation"]))
    assert len(set(plot.ARCHITECTURE_COLOURS.values())) == len(plot.ARCHITECTURE_COLOURS)
