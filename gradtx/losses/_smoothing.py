"""Label smoothing."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["smooth_labels"]


def smooth_labels(
    labels: Any,
    alpha: Any,
    *,
    axis: int | tuple[int, ...] | None = -1,
    where: Any = None,
) -> jax.Array:
    r"""Mixes one-hot labels with the uniform distribution over ``K`` classes.

    .. math::
       \tilde y = (1 - \alpha)\, y + \frac{\alpha}{K}

    ``softmax_cross_entropy(logits, smooth_labels(one_hot, a))`` is
    ``torch.nn.functional.cross_entropy(..., label_smoothing=a)``. Note that
    ``alpha`` is the mass spread over *all* classes, the true one included:
    the true class keeps :math:`1 - \alpha + \alpha/K`.

    Args:
      labels: floating array of one-hot labels (or distributions).
      alpha: the smoothing factor in [0, 1]; 0 leaves ``labels`` unchanged.
      axis: the class axis or axes; ``K`` is their total size.
      where: boolean array broadcasting to ``labels``' shape; the classes to
        count in ``K`` (per example).

    Returns:
      The smoothed labels, with ``labels``' shape.

    Raises:
      TypeError: ``labels`` not floating, or ``where`` not boolean.
      ValueError: a concrete ``alpha`` outside [0, 1], or a bad ``where``.

    References:
      Szegedy et al., *Rethinking the Inception Architecture for Computer
      Vision*, CVPR 2016, https://arxiv.org/abs/1512.00567 (introduced it);
      Müller, Kornblith & Hinton, *When Does Label Smoothing Help?*,
      NeurIPS 2019, https://arxiv.org/abs/1906.02629

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.smooth_labels(jnp.array([0.0, 1.0, 0.0, 0.0]), 0.2)
      Array([0.05, 0.85, 0.05, 0.05], dtype=float32)
    """
    fn = "smooth_labels"
    labels = validate.floating(fn, "labels", labels)
    validate.number(fn, "alpha", alpha, low=0.0, high=1.0)
    mask = validate.where_mask(fn, where, tuple(labels.shape))
    if mask is None:
        num_categories: Any = jnp.size(labels, axis)
    else:
        num_categories = jnp.sum(mask, axis, keepdims=True)
    return (1.0 - alpha) * labels + alpha / num_categories
