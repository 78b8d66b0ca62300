"""Networks as diagrams (lessons 10 and 11).

One block per layer with its output shape, parallel branches side by side,
colours by kind of layer. Dropout and stand-alone activations are left out,
except an activation right after an ``Add``: the final ReLU of a residual
block, ``y = relu(F(x) + x)``, is drawn.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from matplotlib.patches import Patch, Rectangle

from .._validate import describe
from ._checks import check_at_most, check_axes, check_text
from ._parts import new_axes

__all__ = ["draw_architecture", "ARCHITECTURE_COLOURS", "MAX_BLOCKS"]

ARCHITECTURE_COLOURS = {
    "input": "#ffffff", "convolution": "#c6dbef", "pooling": "#fdd0a2", "dense": "#c7e9c0",
    "normalisation": "#e0e0e0", "merge": "#dadaeb", "activation": "#ffffb3", "reshape": "#f7f7f7",
    "other": "#f2f2f2",
}
_KIND_GROUPS = {
    "InputLayer": "input", "Conv2D": "convolution", "TableConv2D": "convolution",
    "DepthwiseConv2D": "convolution", "SeparableConv2D": "convolution",
    "MaxPooling2D": "pooling", "AveragePooling2D": "pooling", "Subsampling": "pooling",
    "GlobalAveragePooling2D": "pooling", "GlobalMaxPooling2D": "pooling", "Dense": "dense",
    "BatchNormalization": "normalisation", "LocalResponseNormalization": "normalisation",
    "Concatenate": "merge", "Add": "merge", "Flatten": "reshape", "ZeroPadding2D": "reshape",
    "ReLU": "activation", "Activation": "activation",
}
_NOT_DRAWN = ("Dropout", "ReLU", "Activation")   # no weights, shape unchanged
_ACTIVATIONS = ("ReLU", "Activation")            # ... but drawn when they follow one of:
_DRAWN_AFTER = ("Add",)                          # the ReLU of y = relu(F(x) + x)
MAX_BLOCKS = 500            # most layers draw_architecture draws


class _Block(NamedTuple):
    name: str
    kind: str
    shape: tuple
    parents: tuple
    window: str = ""     # e.g. "11x11/4" for a convolution with stride 4


def draw_architecture(model_or_layers, ax=None, *, title=None):
    """Draw a network as blocks, one per layer, each with its output shape (lesson 10).

    Blocks run from top (input) to bottom (output); parallel branches, as in
    an Inception module, sit side by side at the same depth, joined by lines
    to the layers they feed. Colours tell the kind of layer (legend).

    Parameters
    ----------
    model_or_layers : keras.Model or list
        A Keras model: one block for every layer except dropout and
        stand-alone activations (no weights, shape unchanged), the input
        included; an activation whose input is an ``Add`` layer (the final
        ReLU of a residual block) is drawn. Or a chain given as a list of ``(name, shape)`` or
        ``(name, kind, shape)`` entries (``kind`` a Keras class name such as
        ``"Conv2D"``), or of rows with ``.name``, ``.kind`` and ``.shape``
        (:func:`cnnlab.classic.model_table`).
    ax : matplotlib Axes, optional
    title : str, optional
        Default: the model's name.

    Returns
    -------
    matplotlib Axes
        Every block is a patch whose gid is ``"block:<layer name>"``.
    """
    check_axes(ax)
    title = check_text(title)
    if hasattr(model_or_layers, "layers") and hasattr(model_or_layers, "get_config"):
        blocks = _model_blocks(model_or_layers)
        title = model_or_layers.name if title is None else title
    else:
        blocks = _listed_blocks(model_or_layers)
    check_at_most(len(blocks), MAX_BLOCKS, "model_or_layers", "blocks (layers)")
    xs, levels = _block_positions(blocks)
    columns = max(xs.values()) - min(xs.values()) + 1
    depth = max(levels.values()) + 1
    chars = max(len(b.name) + len(b.window) + len(str(b.shape)) for b in blocks)
    width, height = max(2.6, 0.075 * chars + 0.6), 0.62   # block size in data units
    step_x, step_y = width + 0.25, 1.0
    ax = new_axes(ax, (max(4.5, 0.9 * step_x * columns + 1.2), 0.42 * depth + 1.0))
    fontsize = 8 if columns < 4 else 7
    centre = {b.name: (xs[b.name] * step_x, -levels[b.name] * step_y) for b in blocks}
    for b in blocks:
        x, y = centre[b.name]
        for parent in b.parents:
            px, py = centre[parent]
            if levels[b.name] - levels[parent] > 1:     # skip the levels between, straight down
                ax.plot([px, px], [py - height / 2, y + step_y - height / 2], color="0.45",
                        lw=0.9, zorder=0.5)
                py = y + step_y
            ax.annotate("", xy=(x, y + height / 2), xytext=(px, py - height / 2),
                        arrowprops=dict(arrowstyle="-|>", color="0.45", lw=0.9,
                                        shrinkA=0, shrinkB=0), zorder=0.5)
    seen = []
    for b in blocks:
        x, y = centre[b.name]
        group = _KIND_GROUPS.get(b.kind, "other")
        seen += [group] if group not in seen else []
        ax.add_patch(Rectangle((x - width / 2, y - height / 2), width, height,
                               facecolor=ARCHITECTURE_COLOURS[group], edgecolor="0.35",
                               linewidth=0.8, gid=f"block:{b.name}"))
        shape = "×".join(str(n) for n in b.shape)
        label = f"{b.name}  {b.window}" if b.window else b.name
        ax.text(x - width / 2 + 0.08, y, label, ha="left", va="center", fontsize=fontsize)
        ax.text(x + width / 2 - 0.08, y, shape, ha="right", va="center", fontsize=fontsize,
                color="0.2")
    left = min(c[0] for c in centre.values()) - width / 2 - 0.1
    right = max(c[0] for c in centre.values()) + width / 2 + 0.1
    ax.set_xlim(left, right)
    ax.set_ylim(-(depth - 1) * step_y - height / 2 - 0.15, height / 2 + 0.15)
    ax.axis("off")
    ax.legend(handles=[Patch(facecolor=ARCHITECTURE_COLOURS[g], edgecolor="0.35", label=g)
                       for g in seen],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax


def _listed_blocks(layers) -> list[_Block]:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError("`model_or_layers` must be a Keras model or a non-empty list of "
                        f"(name, shape) or (name, kind, shape) entries, got {describe(layers)}")
    blocks = []
    for index, entry in enumerate(layers):
        if hasattr(entry, "name") and hasattr(entry, "shape") and hasattr(entry, "kind"):
            name, kind, shape = entry.name, entry.kind, entry.shape
        elif isinstance(entry, (list, tuple)) and len(entry) in (2, 3):
            name, kind, shape = (entry[0], "other", entry[1]) if len(entry) == 2 else entry
        else:
            raise ValueError(f"`model_or_layers[{index}]` must be (name, shape) or "
                             f"(name, kind, shape), got {describe(entry)}")
        shape = _check_block_shape(shape, index)
        parents = (blocks[-1].name,) if blocks else ()
        blocks.append(_Block(str(name), str(kind), shape, parents))
    return blocks


def _check_block_shape(shape, index) -> tuple:
    """A layer's output shape: an int or a short sequence of ints (``None`` for any size)."""
    def size(n):
        return n is None or (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0)
    if size(shape) and shape is not None:
        return (int(shape),)
    if isinstance(shape, (tuple, list)) and len(shape) <= 8 and all(size(n) for n in shape):
        return tuple(None if n is None else int(n) for n in shape)
    raise ValueError(f"`model_or_layers[{index}]`: the shape must be an int or a tuple of "
                     f"ints such as (28, 28, 6), got {describe(shape)}")


def _keras_history(node) -> list[str]:
    """Names of the layers whose outputs appear in a serialised inbound node."""
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if node.get(
            "class_name") == "__keras_tensor__" else None
        if history:
            return [history[0]]
        return [name for value in node.values() for name in _keras_history(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _keras_history(value)]
    return []


def _model_blocks(model) -> list[_Block]:
    """Blocks of a functional Keras model, with the skipped layers' edges passed through."""
    config = {entry["name"]: entry for entry in model.get_config()["layers"]}
    kept, source, kinds = [], {}, {}
    for layer in model.layers:
        parents = []
        inputs = _keras_history(config[layer.name].get("inbound_nodes", []))
        for name in inputs:
            for p in source.get(name, (name,)):
                if p not in parents:
                    parents.append(p)
        kind = type(layer).__name__
        after_merge = (kind in _ACTIVATIONS and len(inputs) == 1    # its input straight from an Add
                       and kinds.get(inputs[0]) in _DRAWN_AFTER)
        if kind in _NOT_DRAWN and not after_merge:
            source[layer.name] = tuple(parents)       # edges go straight through
            continue
        kinds[layer.name] = kind
        shape = tuple(int(n) for n in layer.output.shape[1:])
        kept.append(_Block(layer.name, type(layer).__name__, shape, tuple(parents),
                           _window_text(layer)))
    return kept


def _window_text(layer) -> str:
    """``"KHxKW"`` of a layer's sliding window, with ``"/stride"`` when the stride is not 1."""
    kernel = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if kernel is None:
        return ""
    kernel = tuple(kernel) if isinstance(kernel, (list, tuple)) else (kernel, kernel)
    stride = getattr(layer, "strides", None) or kernel
    stride = tuple(stride) if isinstance(stride, (list, tuple)) else (stride, stride)
    text = "x".join(str(k) for k in kernel)
    if stride != (1, 1):
        text += "/" + (str(stride[0]) if stride[0] == stride[1] else "x".join(map(str, stride)))
    return text


def _block_positions(blocks):
    """Column (int or half-int) and depth of every block: branches side by side."""
    levels, xs = {}, {}
    children = {b.name: [] for b in blocks}
    by_name = {b.name: b for b in blocks}
    for b in blocks:
        levels[b.name] = 1 + max((levels[p] for p in b.parents), default=-1)
        for p in b.parents:
            children[p].append(b.name)
    branch = {}                      # a branch's place in the list of inputs of the merge it feeds
    for b in blocks:
        for i, name in enumerate(b.parents if len(b.parents) > 1 else ()):
            while name not in branch:
                branch[name] = i
                parents = by_name[name].parents
                if len(parents) != 1 or len(children[parents[0]]) != 1:
                    break
                name = parents[0]
    for kids in children.values():
        kids.sort(key=lambda name: branch.get(name, 0))
    for b in sorted(blocks, key=lambda blk: levels[blk.name]):
        if not b.parents:
            xs[b.name] = 0.0
        elif len(b.parents) > 1:
            xs[b.name] = sum(xs[p] for p in b.parents) / len(b.parents)
        else:
            siblings = children[b.parents[0]]
            if len(siblings) > 1:    # branches spread around their parent
                i = siblings.index(b.name)
                xs[b.name] = xs[b.parents[0]] + i - (len(siblings) - 1) / 2
            else:
                xs[b.name] = xs[b.parents[0]]
    return xs, levels
