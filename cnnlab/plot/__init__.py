"""Figures used by the lessons: matrices with numbers, signals, kernels, sliding windows.

Lessons call every figure from here (``plot.show_matrix(...)``); each lives
in the module for what it draws:

- :mod:`~cnnlab.plot.matrices`      matrices, kernels, feature maps, image grids, tables
- :mod:`~cnnlab.plot.signals`       a 1D signal, activation functions
- :mod:`~cnnlab.plot.sliding`       the sliding window step by step (1D, 2D, channels)
- :mod:`~cnnlab.plot.arithmetic`    padding, stride and dilation, frame by frame
- :mod:`~cnnlab.plot.pooling`       pooling windows and their winners
- :mod:`~cnnlab.plot.training`      loss curves, descent paths, values per layer
- :mod:`~cnnlab.plot.architecture`  a network as blocks
- :mod:`~cnnlab.plot.course_map`    the lessons and what each builds on

over the checks (``_checks``), the cell and layout pieces (``_parts``,
shared with :mod:`cnnlab.widgets`), the PNG encoder (``_png``) and the
colour ranges (``_ranges``). What
the step pictures draw is computed in :mod:`cnnlab.steps`
(:func:`convolution_frames`, :func:`arithmetic_example`,
:data:`ARITHMETIC_CASES`); :func:`confusion_counts` comes from
:mod:`cnnlab.metrics`. Both are re-exported here.

Naming rule: ``show_*`` draws data as cells or pixels (matrices, kernels,
images, feature maps, tables, a pooled map), ``plot_*`` draws curves and
the steps of a computation, ``draw_*`` draws diagrams (a network, the
course). Two older names keep working beside the names that follow the
rule: ``confusion_matrix`` is :func:`show_confusion_matrix` and
``show_convolution_frames`` is :func:`plot_convolution_frames`.

Display rule: where brightness is the point, the colour range is fixed
(:func:`feature_map_range`: what a kernel can produce from its input's
range; :func:`data_scale`: from 0 to the largest value), never stretched
from a map's minimum to its maximum unless asked (``range="auto"``);
non-negative maps are grey with white = high (``"gray"``), signed maps
diverging about 0 (``"RdBu_r"``, ``-m`` to ``+m``, blue < 0 < red); a
colour bar or the numbers in the cells say what the colours stand for
(:meth:`ColourScale.legend` writes it as text).

Return rule: a figure of one panel takes ``ax=None`` (a new figure when
omitted) and returns the Axes it drew into; a figure of several panels
returns its Figure (and takes ``fig=None`` where a slider redraws it in
place). None of them calls ``plt.show()``. Outside the rules:
:func:`save_convolution_animation` writes a GIF and returns its path, and
:func:`array_to_png`, the fast path of the widgets, turns a 2D array into
PNG bytes without building a matplotlib figure.
"""

from __future__ import annotations

from ..metrics import confusion_counts
from ..steps import (
    ARITHMETIC_CASES, MAX_ARITHMETIC_SIDE, MAX_CHANNEL_SIDE, MAX_CHANNELS, MAX_FILTERS,
    MAX_POOL_SIDE, POOL_KINDS, ConvolutionFrame, arithmetic_example, convolution_frames,
)
from ._checks import MAX_CELL_TEXT, MAX_FONT_SIZE, MAX_FORMAT_WIDTH
from ._parts import (
    CELL_INCHES, CURRENT_FILL, GRID_CELL_INCHES, INPUT_EDGE, INPUT_FILL, KERNEL_FILL, OUTPUT_FILL,
    PAD_EDGE, PAD_UNDER_FILL, WINDOW_COLOUR, WINDOW_COLOURS, WINDOW_FILL, WINDOW_HEX,
)
from ._png import MAX_PNG_PIXELS, array_to_png
from ._ranges import (
    GREY_CMAP, RANGE_MODES, SIGNED_CMAP, ColourScale, colour_scale, data_scale, feature_map_range,
    stretch_scale,
)
from .architecture import ARCHITECTURE_COLOURS, MAX_BLOCKS, draw_architecture
from .arithmetic import (
    MAX_ANIMATION_FRAMES, MAX_FRAME_PANELS, plot_convolution_frame, plot_convolution_frames,
    save_convolution_animation, show_convolution_frames,
)
from .course_map import draw_course_map
from .matrices import (
    KERNEL_COLOUR_MARGIN, MAX_ANNOTATED_CELLS, MAX_CLASSES, MAX_FEATURE_MAPS, MAX_MATRIX_CELLS,
    MAX_PANELS, MAX_TABLE_SIDE, confusion_matrix, show_confusion_matrix, show_connection_table,
    show_feature_maps, show_image_grid, show_kernel, show_matrix,
)
from .pooling import MIN_POOL_FONT, show_pooling
from .signals import (
    ACTIVATION_NAMES, MAX_ACTIVATION_PANELS, MAX_CURVE_POINTS, MAX_SIGNAL_POINTS,
    plot_activations, plot_signal,
)
from .sliding import (
    MAX_STEP_LENGTH, MAX_STEP_SIDE, plot_channel_step, plot_conv1d_steps, plot_conv2d_step,
)
from .training import (
    MAX_LEVELS, MAX_LINES, MAX_LOSS_STEPS, plot_descent_paths, plot_layer_values,
    plot_loss_curves,
)

__all__ = [
    # show_: data as cells or pixels
    "show_matrix", "show_kernel", "show_feature_maps", "show_image_grid",
    "show_connection_table", "show_confusion_matrix", "show_pooling",
    # plot_: curves and steps
    "plot_signal", "plot_activations", "plot_conv1d_steps", "plot_conv2d_step",
    "plot_channel_step", "plot_convolution_frame", "plot_convolution_frames",
    "plot_loss_curves", "plot_descent_paths", "plot_layer_values",
    # draw_: diagrams
    "draw_architecture", "draw_course_map",
    # outside the rules, and the names lessons called first
    "save_convolution_animation", "array_to_png", "confusion_matrix", "show_convolution_frames",
    # the display convention: fixed colour ranges and the colour maps they pick
    "feature_map_range", "colour_scale", "data_scale", "stretch_scale", "ColourScale",
    "GREY_CMAP", "SIGNED_CMAP", "RANGE_MODES",
    # the records the step pictures draw, and the counts a confusion matrix draws
    "ConvolutionFrame", "convolution_frames", "arithmetic_example", "ARITHMETIC_CASES",
    "confusion_counts",
    # the limits of what the figures draw, and their colours
    "MAX_ANNOTATED_CELLS", "MAX_MATRIX_CELLS", "MAX_FEATURE_MAPS", "MAX_PANELS", "MAX_CLASSES",
    "MAX_TABLE_SIDE", "KERNEL_COLOUR_MARGIN", "MAX_SIGNAL_POINTS", "ACTIVATION_NAMES",
    "MAX_ACTIVATION_PANELS", "MAX_CURVE_POINTS", "MAX_STEP_LENGTH", "MAX_STEP_SIDE",
    "MAX_CHANNEL_SIDE", "MAX_CHANNELS", "MAX_FILTERS", "MAX_ARITHMETIC_SIDE", "MAX_FRAME_PANELS",
    "MAX_ANIMATION_FRAMES", "MAX_POOL_SIDE", "POOL_KINDS", "MIN_POOL_FONT", "MAX_LINES",
    "MAX_LOSS_STEPS", "MAX_LEVELS", "MAX_BLOCKS", "MAX_PNG_PIXELS", "MAX_FORMAT_WIDTH",
    "MAX_CELL_TEXT", "MAX_FONT_SIZE", "CELL_INCHES", "GRID_CELL_INCHES", "WINDOW_COLOUR",
    "WINDOW_HEX", "INPUT_EDGE", "WINDOW_FILL", "OUTPUT_FILL", "INPUT_FILL", "KERNEL_FILL", "CURRENT_FILL", "PAD_EDGE",
    "PAD_UNDER_FILL", "WINDOW_COLOURS", "ARCHITECTURE_COLOURS",
]


def __getattr__(name):
    """``plot.channel_step_html``: the HTML picture of a channel step, in :mod:`cnnlab.widgets`."""
    if name == "channel_step_html":
        from ..widgets.channel_explorer import channel_step_html
        return channel_step_html
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"channel_step_html"})
