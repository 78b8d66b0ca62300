"""Interactive explorers for the lessons (ipywidgets 8), one per file.

- :class:`BumpEditor`, lessons 00 and 01: a 1D input and a 3-weight filter (``bump_editor``)
- :class:`KernelEditor`, lesson 02: a 2D kernel on a picture (``kernel_editor``)
- :class:`PaddingStrideExplorer`, lesson 03: padding, stride, dilation (``padding_stride``)
- :class:`ChannelExplorer`, lesson 04: one output cell over several channels (``channel_explorer``)
- :class:`PoolingExplorer`, lesson 05: max, average and sum pooling (``pooling_explorer``)
- :class:`ActivationExplorer`, lesson 06: a non-linearity and a bias on a feature map (``activation_explorer``)
- :class:`ClassifierExplorer`, lesson 07: the trained lesson-07 network on a chosen test digit (``classifier_explorer``)
- :class:`SoftmaxExplorer`, lesson 07: logits and a temperature, through softmax (``softmax_explorer``)
- :class:`OptimiserRace`, lesson 08: SGD, momentum, RMSProp and Adam on one loss surface (``optimiser_race``)
- :class:`DigitInspector`, lesson 09: LeNet-5 layer by layer on a digit (``digit_inspector``)
- :class:`DrawingPad`, lesson 09: draw a digit, see the trained LeNet-5 read it (``drawing_pad``)
- :class:`FilterSurgeon`, lesson 09: edit the trained LeNet-5's C1 filters (``filter_surgeon``)
- :class:`ReceptiveFieldExplorer`, lesson 10: click a unit, see its receptive field (``receptive_field``)
- :class:`DegradationViewer`, lesson 11: the degradation runs and per-layer gradient norms (``degradation_viewer``)
- :class:`TransposedConvExplorer`, lesson 12: a transposed convolution and its overlaps (``transposed_explorer``)

Every explorer is built on ``_base.Explorer`` (the redraw machinery); the
two editors add ``_base.KernelBoxes`` (the weight boxes and the preset
menu). The pictures are drawn with :mod:`cnnlab.plot`'s own functions, on
the records of :mod:`cnnlab.steps`.

Each explorer keeps its controls in ``.controls`` (name -> widget), its whole
layout in ``.widget`` and redraws in place: the pictures are ``Image`` (or
``HTML``) widgets whose value is replaced, so no matplotlib figure is made per
change, nothing flickers and no output piles up. The logic runs without a
browser: set a control's ``.value`` and the result is there at once
(``.feature_map`` / ``.output_values``), which is how the tests drive them.

A weight box that holds something other than a finite number (NaN) leaves
the last good picture on screen and says so in the status line. To change
several controls with a single redraw, wrap the changes in
``with editor.hold_redraw(): ...``.

Every control checks the values it is given. A value it cannot take — out
of its range (a slider's min to max, a box's bounds listed in each class),
not one of a menu's options, of the wrong type — is refused before anything
changes: the control keeps its last good value, the picture stays, and the
status line says what was refused and what is allowed. Set from code, the
refusal is also raised, as a :class:`ControlValueError` (both a
``ValueError`` and the ``traitlets.TraitError`` ipywidgets raises) whose
message names the control, as its key in ``.controls``, and the allowed
values. Settings that are allowed but cannot work together (a stride of 0,
a kernel larger than the padded input) are explained in the status line
without an error, so a learner can see why.

Every constructor checks its arguments first and bounds what sets a size
(the ``MAX_*`` constants) so that every redraw takes well under a second.
"""

from __future__ import annotations

from ..plot import array_to_png
from ._canvas import PICTURE_CELL_INCHES, PICTURE_DPI, PICTURE_MAX_INCHES, PICTURE_TITLE_INCHES
from ._controls import CUSTOM, MAX_VALUE, MAX_WEIGHT, ControlValueError
from .activation_explorer import (
    ACTIVATION_INPUTS, ACTIVATIONS, DEAD_THRESHOLD, VALUE_RANGE, ActivationExplorer,
)
from .bump_editor import MAX_SIGNAL_LENGTH, BumpEditor
from .channel_explorer import (
    MAX_CHANNEL_STRIDE, ChannelExplorer, channel_example, channel_step_html,
)
from .classifier_explorer import ClassifierExplorer
from .degradation_viewer import CURVES, DegradationViewer
from .digit_inspector import INSPECTOR_LAYERS, MAX_INSPECTOR_IMAGES, DigitInspector
from .drawing_pad import PAD_LAYERS, DrawingPad
from .filter_surgeon import (
    MAX_ACCURACY_DIGITS, SURGEON_DIGITS, SURGEON_LAYERS, SURGEON_PRESETS, FilterSurgeon,
)
from .kernel_editor import (
    DISPLAY_SIZE, INPUTS, KERNEL_SIZES, MAX_EDITOR_SIDE, PHOTO_SIZE, SCALES, KernelEditor,
)
from .optimiser_race import LEARNING_RATES, MAX_RACE_STEPS, OptimiserRace
from .padding_stride import (
    MAX_INPUT_SIDE, MAX_KERNEL_SIDE, MAX_SETTING, PADDING_MODES, PaddingStrideExplorer,
)
from .pooling_explorer import MAX_POOL_SLIDER, POOL_INPUTS, PoolingExplorer
from .receptive_field import DEFAULT_LAYERS, NETWORKS, ReceptiveFieldExplorer, unit_field
from .softmax_explorer import TEMPERATURE_RANGE, SoftmaxExplorer
from .transposed_explorer import (
    TRANSPOSED_INPUTS, TRANSPOSED_KERNELS, TransposedConvExplorer, cells_html,
)

__all__ = [
    "BumpEditor", "KernelEditor", "PaddingStrideExplorer", "ChannelExplorer",
    "PoolingExplorer", "DigitInspector", "ActivationExplorer", "TransposedConvExplorer",
    "FilterSurgeon", "DrawingPad", "PAD_LAYERS", "DegradationViewer", "CURVES", "ClassifierExplorer", "SoftmaxExplorer",
    "TEMPERATURE_RANGE", "OptimiserRace", "LEARNING_RATES", "MAX_RACE_STEPS",
    "ReceptiveFieldExplorer", "unit_field", "NETWORKS", "DEFAULT_LAYERS",
    "channel_example", "channel_step_html", "cells_html",
    "ControlValueError", "CUSTOM", "INSPECTOR_LAYERS", "array_to_png",
    # the limits of what the explorers take, and their settings
    "MAX_WEIGHT", "MAX_VALUE", "MAX_SIGNAL_LENGTH", "MAX_EDITOR_SIDE", "INPUTS", "KERNEL_SIZES",
    "PHOTO_SIZE", "DISPLAY_SIZE", "MAX_CHANNEL_STRIDE", "PADDING_MODES", "MAX_INPUT_SIDE",
    "MAX_KERNEL_SIDE", "MAX_SETTING", "POOL_INPUTS", "MAX_POOL_SLIDER", "MAX_INSPECTOR_IMAGES",
    "SCALES", "ACTIVATIONS", "ACTIVATION_INPUTS", "DEAD_THRESHOLD", "VALUE_RANGE",
    "TRANSPOSED_INPUTS", "TRANSPOSED_KERNELS", "MAX_ACCURACY_DIGITS", "SURGEON_DIGITS",
    "SURGEON_LAYERS", "SURGEON_PRESETS", "PICTURE_DPI", "PICTURE_CELL_INCHES", "PICTURE_MAX_INCHES", "PICTURE_TITLE_INCHES",
]
