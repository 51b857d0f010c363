"""PolyLoss: cross entropy plus a weighted first polynomial term."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.losses._softmax import softmax_cross_entropy

__all__ = ["poly_loss_cross_entropy"]

Axis = int | tuple[int, ...] | None


def poly_loss_cross_entropy(
    logits: Any,
    labels: Any,
    *,
    epsilon: Any = 2.0,
    axis: Axis = -1,
    where: Any = None,
) -> jax.Array:
    r"""Poly-1: softmax cross entropy plus :math:`\epsilon (1 - P_t)`.

    Cross entropy is the series :math:`-\log P_t = \sum_{j \ge 1}
    \frac{1}{j}(1 - P_t)^j`; PolyLoss moves its first coefficient by
    :math:`\epsilon`:

    .. math::
       L_{\text{Poly-1}} = -\sum_k y_k \log p_k + \epsilon \sum_k y_k (1 - p_k),
       \quad p = \operatorname{softmax}(x)

    (for one-hot labels, :math:`P_t = p_y`; soft labels weight each class).
    ``epsilon=0`` is the cross entropy; the paper uses 2 on ImageNet and -1
    for detection.

    Args:
      logits: floating array of unnormalized log probabilities.
      labels: floating array broadcasting to ``logits``' shape: a
        distribution over ``axis``.
      epsilon: the change of the first polynomial coefficient.
      axis: the class axis or axes (None: all).
      where: boolean array, of ``logits``' shape or of the batch shape; the
        classes to include.

    Returns:
      The losses, with ``axis`` removed from ``logits``' shape.

    Raises:
      TypeError: ``logits`` or ``labels`` not floating, or ``where`` not
        boolean.
      ValueError: shapes that do not fit, or a concrete ``epsilon`` that is
        not finite.

    References:
      Leng et al., *PolyLoss: A Polynomial Expansion Perspective of
      Classification Loss Functions*, ICLR 2022, https://arxiv.org/abs/2204.12511

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.array([[4.0, 2.0, 1.0], [0.0, 5.0, 1.0]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.8, 0.2]])
      >>> gradtx.losses.poly_loss_cross_entropy(logits, labels)
      Array([0.48225..., 1.25670...], dtype=float32)
    """
    fn = "poly_loss_cross_entropy"
    logits = validate.floating(fn, "logits", logits)
    labels = validate.floating(fn, "labels", labels)
    validate.fits_shape(fn, "labels", labels, tuple(logits.shape), "logits")
    validate.number(fn, "epsilon", epsilon)
    mask = None
    if where is not None:
        mask = validate.as_array(fn, "where", where)
        if mask.ndim != logits.ndim and axis is not None:
            mask = jnp.expand_dims(mask, axis)
        mask = validate.where_mask(fn, mask, tuple(logits.shape))
    with validate.named(fn):
        cross_entropy = softmax_cross_entropy(logits, labels, axis, mask)
    probs = jnp.exp(jax.nn.log_softmax(logits, axis, mask))
    one_minus_pt = jnp.sum(labels * (1.0 - probs), axis=axis, where=mask)
    return cross_entropy + epsilon * one_minus_pt
