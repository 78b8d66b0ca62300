"""Running a trained network on one image, fast: shared by the explorers that show one.

A Keras model called eagerly on one image costs about 15 ms of Python
overhead; the same call traced once as a TensorFlow graph costs about 2 ms,
which is most of what a redraw may spend.
"""

from __future__ import annotations


def one_image_runner(model, shape):
    """``model(x, training=False)`` for one image of ``shape``, as a graph traced once now.

    Parameters
    ----------
    model : keras.Model
        Any model (a probe with several outputs too).
    shape : tuple of int
        One image's shape, without the batch axis: ``(28, 28, 1)``.

    Returns
    -------
    callable
        ``run(x)`` with ``x (1, *shape)`` (any float array) returns what the
        model returns (a tensor, or a list of tensors).
    """
    import tensorflow as tf

    spec = tf.TensorSpec((1, *shape), tf.float32)
    graph = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    graph(tf.zeros((1, *shape)))
    return lambda x: graph(tf.constant(x, tf.float32))
