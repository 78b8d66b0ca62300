"""Batch normalisation in one fused TensorFlow kernel, for training (lesson 11's fast ResNets).

:class:`FusedBatchNormalization` is Keras's layer with a faster training
pass; :func:`cnnlab.train.precision.training_twin` puts it in place of every
``BatchNormalization`` of the network being trained. Importing this module
starts TensorFlow.
"""

from __future__ import annotations

from ..session import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402

__all__ = ["FusedBatchNormalization"]


@keras.saving.register_keras_serializable(package="cnnlab")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras's ``BatchNormalization`` whose training pass is TensorFlow's one fused kernel.

    For channels-last ``(N, H, W, C)`` inputs in training mode the batch mean
    and variance, the normalised output ``gamma * (x - mean) / sqrt(var + eps)
    + beta`` and the update of the moving averages come from a single
    ``FusedBatchNormV3`` operation (and its gradient from one more), instead
    of the separate reductions and element-wise passes of the Keras layer.
    Inference, masks, other layouts and the ``renorm``/``synchronized``
    variants use the Keras layer itself. The variables are the same four, in
    the same order, so weights copy both ways.

    Notes
    -----
    The moving variance takes the batch variance with Bessel's correction
    (divided by ``n - 1`` rather than ``n``, ``n = N * H * W`` values per
    channel): a relative difference of ``1 / n``, under 0.1 % for one batch
    of 28x28 images.
    """

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        x = inputs if inputs.dtype in (tf.float32, tf.bfloat16) else tf.cast(inputs, tf.float32)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, tf.convert_to_tensor(self.gamma.value), tf.convert_to_tensor(self.beta.value),
            mean=tf.convert_to_tensor(self.moving_mean.value),
            variance=tf.convert_to_tensor(self.moving_variance.value),
            epsilon=self.epsilon, is_training=True, exponential_avg_factor=1.0 - self.momentum)
        self.moving_mean.assign(mean)                                   # (C,) running averages
        self.moving_variance.assign(variance)
        return tf.cast(y, self.compute_dtype)                           # (N, H, W, C)

    def _fusable(self, inputs, training, mask) -> bool:
        axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
        return bool(training and self.trainable and mask is None and len(inputs.shape) == 4
                    and axis in (-1, 3) and self.scale and self.center and not self.renorm
                    and not getattr(self, "synchronized", False))
