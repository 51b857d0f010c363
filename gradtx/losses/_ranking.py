"""The listwise softmax ranking loss, as ``optax.losses.ranking_softmax_loss``.

A list's items are scored on the last axis; leading axes are lists. Invalid
items (``where`` False) are left out of the softmax, and lists with no valid
item are left out of the reduction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["ranking_softmax_loss"]


def _reduced(
    losses: jax.Array,
    lists: jax.Array | None,
    reduce_fn: Callable[..., Any] | None,
) -> jax.Array:
    """``reduce_fn`` of the losses of the lists that hold a valid item.

    ``jnp.mean`` of no list is 0, not NaN (unless a loss is NaN already);
    unreduced, the losses of empty lists are 0.
    """
    if reduce_fn is None:
        return losses if lists is None else jnp.where(lists, losses, 0.0)
    if reduce_fn is not jnp.mean:
        return jnp.asarray(reduce_fn(losses, where=lists))
    if lists is None:
        return jnp.mean(losses)
    count = jnp.sum(lists)
    total = jnp.sum(jnp.where(lists, losses, 0.0))
    mean = total / jnp.maximum(count, 1).astype(losses.dtype)
    return jnp.where(jnp.any(jnp.isnan(losses)), jnp.nan, mean)


def ranking_softmax_loss(
    logits: Any,
    labels: Any,
    *,
    where: Any | None = None,
    weights: Any | None = None,
    reduce_fn: Callable[..., Any] | None = jnp.mean,
) -> jax.Array:
    r"""The listwise softmax cross entropy of relevance labels and scores.

    For one list of scores :math:`s` with relevance labels :math:`y` (and
    item weights :math:`w`, 1 by default),

    .. math::
       \ell(s, y) = -\sum_i w_i y_i \log \frac{e^{s_i}}{\sum_{j} e^{s_j}}

    the sums over the valid items only (``where``). It is the cross entropy
    of the (unnormalized) label distribution and the scores' softmax,
    computed with ``log_softmax``, so scores of any magnitude (``3e37``) give
    a finite loss. Labels are not normalized: a list with labels (2, 1)
    counts three times a list with (1, 0).

    Args:
      logits: floating ``[..., list_size]`` scores of the items.
      labels: ``[..., list_size]`` relevance labels (graded or 0/1),
        broadcasting to ``logits``' shape.
      where: None, or a boolean ``[..., list_size]`` array: the valid items.
      weights: None, or ``[..., list_size]`` item weights (multiplying the
        labels).
      reduce_fn: None (a loss per list), or a function of ``(losses,
        where=lists)`` such as :func:`jax.numpy.sum` or
        :func:`jax.numpy.mean`; ``jnp.mean`` of lists with no valid item is
        0, not NaN.

    Returns:
      The reduced loss, or the ``[...]`` losses with ``reduce_fn=None`` (0 for
      a list with no valid item).

    Raises:
      TypeError: ``logits`` not floating, ``where`` not boolean, or
        ``reduce_fn`` not callable.
      ValueError: ``logits`` a scalar, or ``labels``, ``where`` or
        ``weights`` that do not broadcast to its shape.

    References:
      Cao et al., *Learning to Rank: From Pairwise Approach to Listwise
      Approach* (ListNet, which takes a softmax of the labels), ICML 2007,
      https://doi.org/10.1145/1273496.1273513;
      Bruch et al., *An Analysis of the Softmax Cross Entropy Loss for
      Learning-to-Rank with Binary Relevance*, ICTIR 2019,
      https://doi.org/10.1145/3341981.3344221

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> scores = jnp.array([[2.0, 1.0, 0.0], [1.0, 0.5, 1.5]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
      >>> where = jnp.array([[True, True, False], [True, True, True]])
      >>> loss = gradtx.losses.ranking_softmax_loss(scores, labels, where=where)
      >>> print(f"{loss:.3f}")
      0.497
      >>> gradtx.losses.ranking_softmax_loss(scores, labels, reduce_fn=None)
      Array([0.40760595, 0.68026966], dtype=float32)
    """
    fn = "ranking_softmax_loss"
    logits = validate.floating(fn, "logits", logits)
    if logits.ndim == 0:
        raise validate.error(
            ValueError,
            fn,
            "logits must have a last axis of items, [..., list_size], got a scalar.",
        )
    shape = tuple(logits.shape)
    if reduce_fn is not None and not callable(reduce_fn):
        raise validate.error(
            TypeError,
            fn,
            f"reduce_fn must be None or a function such as jnp.mean, got "
            f"{reduce_fn!r}.",
        )
    labels = validate.as_array(fn, "labels", labels)
    validate.fits_shape(fn, "labels", labels, shape, "logits")
    labels = jnp.broadcast_to(labels.astype(logits.dtype), shape)
    if weights is not None:
        weights = validate.as_array(fn, "weights", weights)
        validate.fits_shape(fn, "weights", weights, shape, "logits")
        weights = jnp.broadcast_to(weights.astype(logits.dtype), shape)
    mask = validate.where_mask(fn, where, shape)
    if mask is not None:
        mask = jnp.broadcast_to(mask, shape)
    losses = _list_losses(logits, labels, weights, mask)
    lists = None if mask is None else jnp.any(mask, axis=-1)
    return _reduced(losses, lists, reduce_fn)


@jax.jit
def _list_losses(
    logits: jax.Array,
    labels: jax.Array,
    weights: jax.Array | None,
    mask: jax.Array | None,
) -> jax.Array:
    """The loss of each list, from checked inputs of one shape."""
    if weights is not None:
        labels = labels * weights
    if mask is not None:
        labels = jnp.where(mask, labels, 0.0)
        # -inf leaves an invalid item out of the softmax; where() also stops
        # its gradient (a NaN, for a list with no valid item) at the input.
        logits = jnp.where(mask, logits, -jnp.inf)
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(labels * log_probs, axis=-1, where=mask)
