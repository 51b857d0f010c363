"""Softmax cross entropy, with probability labels or integer labels.

Both work in log space (``log_softmax`` / ``logsumexp``), so saturated logits
(``±1e4``) give finite losses and the exact gradient
:math:`\\operatorname{softmax}(x) - y`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = [
    "safe_softmax_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
]

Axis = int | tuple[int, ...] | None


def _expanded_where(
    fn: str, where: Any, logits: jax.Array, axis: Axis
) -> jax.Array | None:
    """``where`` of the batch shape gets the class axes back, as in optax."""
    if where is None:
        return None
    where = jnp.asarray(where)
    if where.ndim != logits.ndim and axis is not None:
        where = jnp.expand_dims(where, axis)
    return validate.where_mask(fn, where, tuple(logits.shape))


def softmax_cross_entropy(
    logits: Any, labels: Any, axis: Axis = -1, where: Any = None
) -> jax.Array:
    r"""The cross entropy of ``labels`` (probabilities) and ``softmax(logits)``.

    .. math::
       \ell = -\sum_j y_j \log \frac{e^{x_j}}{\sum_k e^{x_k}}

    Its gradient in ``logits`` is :math:`\operatorname{softmax}(x)\sum_j y_j
    - y`. A ``-inf`` logit with a zero label gives NaN (``0 * -inf``); use
    :func:`safe_softmax_cross_entropy` for that case.

    Args:
      logits: floating array of unnormalized log probabilities.
      labels: array broadcasting to ``logits``' shape: a distribution over
        ``axis`` (one-hot, or smoothed with :func:`smooth_labels`).
      axis: the class axis or axes (None: all).
      where: boolean array, of ``logits``' shape or of the batch shape; the
        classes to include.

    Returns:
      The losses, with ``axis`` removed from ``logits``' shape.

    Raises:
      TypeError: ``logits`` not floating, or ``where`` not boolean.
      ValueError: ``labels`` or ``where`` do not fit ``logits``' shape.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> labels = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
      >>> loss = gradtx.losses.softmax_cross_entropy(logits, labels)
      >>> [round(float(v), 4) for v in loss]
      [0.2761, 2.9518]
    """
    fn = "softmax_cross_entropy"
    logits = validate.floating(fn, "logits", logits)
    labels = jnp.asarray(labels)
    validate.fits_shape(fn, "labels", labels, tuple(logits.shape), "logits")
    mask = _expanded_where(fn, where, logits, axis)
    log_probs = jax.nn.log_softmax(logits, axis, mask)
    return -(labels * log_probs).sum(axis, where=mask)


def _class_axes(fn: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int or a tuple of ints) as distinct axes in ``[0, ndim)``."""
    if isinstance(axis, tuple):
        axes = tuple(
            validate.axis(fn, "axis", a, (0,) * ndim, shown=axis) for a in axis
        )
    else:
        axes = (validate.axis(fn, "axis", axis, (0,) * ndim),)
    if not axes or len(set(axes)) != len(axes):
        raise validate.error(
            ValueError, fn, f"axis must name distinct axes, got {axis!r}."
        )
    return axes


def _check_labels_in_range(
    fn: str, labels: jax.Array, num_classes: int, included: jax.Array | None
) -> None:
    """Raises for a concrete label outside ``[0, num_classes)`` that counts."""
    if not validate.is_concrete(labels):
        return
    if included is not None and not validate.is_concrete(included):
        return
    values = np.asarray(labels)
    bad = (values < 0) | (values >= num_classes)
    if included is not None:
        bad, keep = np.broadcast_arrays(bad, np.asarray(included))
        bad = bad & keep
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        value = int(np.broadcast_to(values, bad.shape)[index])
        raise validate.error(
            ValueError,
            fn,
            f"labels must be class indices in [0, {num_classes}), got {value} at "
            f"index {index}. Exclude padding with where= (e.g. where=labels >= 0).",
        )


def softmax_cross_entropy_with_integer_labels(
    logits: Any, labels: Any, axis: int | tuple[int, ...] = -1, where: Any = None
) -> jax.Array:
    r"""Softmax cross entropy with class indices as labels.

    .. math::
       \ell = \log \sum_j e^{x_j} - x_{y}

    the same as :func:`softmax_cross_entropy` with one-hot labels. Its
    gradient in ``logits`` is :math:`\operatorname{softmax}(x) -
    \operatorname{onehot}(y)`.

    Labels out of range: outside ``jit``, a concrete label outside
    ``[0, num_classes)`` (among those ``where`` includes) raises a ValueError;
    inside ``jit``, where values cannot be checked, its loss is NaN, so that it
    shows. optax reads ``-1`` as the last class and gives NaN for labels too
    large.

    Args:
      logits: floating array of unnormalized log probabilities.
      labels: integer array of the batch shape (``logits``' shape without
        ``axis``), broadcasting allowed; class indices in
        ``[0, num_classes)``.
      axis: the class axis, or a tuple of axes; then a label is a flat index
        into the slice of those axes, in their order
        (``jnp.ravel_multi_index``).
      where: boolean array, of ``logits``' shape or of the batch shape; the
        classes (or examples) to include. An example with none included has
        loss 0.

    Returns:
      The losses, of the batch shape.

    Raises:
      TypeError: ``logits`` not floating, ``labels`` not integer, ``axis``
        not an int or a tuple of ints, or ``where`` not boolean.
      ValueError: shapes that do not fit, a bad ``axis``, or a concrete label
        out of range.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.array([[1.2, -0.8, -0.5], [0.9, -1.2, 1.1]])
      >>> loss = gradtx.losses.softmax_cross_entropy_with_integer_labels(
      ...     logits, jnp.array([0, 1])
      ... )
      >>> [round(float(v), 4) for v in loss]
      [0.2761, 2.9518]
    """
    fn = "softmax_cross_entropy_with_integer_labels"
    logits = validate.floating(fn, "logits", logits)
    labels = validate.integral(
        fn,
        "labels",
        labels,
        "Pass class indices, or one-hot probabilities to softmax_cross_entropy.",
    )
    if not isinstance(axis, int | tuple) or isinstance(axis, bool):
        raise validate.error(
            TypeError, fn, f"axis must be an int or a tuple of ints, got {axis!r}."
        )
    class_axes = _class_axes(fn, axis, logits.ndim)
    batch_axes = tuple(a for a in range(logits.ndim) if a not in class_axes)
    batch_shape = tuple(logits.shape[a] for a in batch_axes)
    validate.fits_shape(fn, "labels", labels, batch_shape, "logits without axis")
    mask = _expanded_where(fn, where, logits, axis)
    if mask is not None:
        mask = jnp.broadcast_to(mask, logits.shape)
    # Class axes last, flattened into one.
    logits = logits.transpose(batch_axes + class_axes)
    logits = logits.reshape((*batch_shape, -1))
    num_classes = int(logits.shape[-1])
    if mask is not None:
        mask = mask.transpose(batch_axes + class_axes).reshape(logits.shape)
    included = None if mask is None else jnp.any(mask, -1)
    _check_labels_in_range(fn, labels, num_classes, included)
    labels = jnp.broadcast_to(labels, batch_shape)
    in_range = (labels >= 0) & (labels < num_classes)
    index = jnp.where(in_range, labels, 0)[..., None]
    label_logits = jnp.take_along_axis(logits, index, axis=-1)[..., 0]
    label_logits = jnp.where(in_range, label_logits, jnp.nan)
    out = jax.nn.logsumexp(logits, axis=-1, where=mask) - label_logits
    if included is not None:
        out = jnp.where(included, out, 0.0)
    return out


@jax.custom_jvp
def _weighted_log_softmax(x: jax.Array, weights: jax.Array) -> jax.Array:
    """``weights * log_softmax(x)``, 0 where a weight is 0 (``0 log 0 = 0``)."""
    log_probs = jax.nn.log_softmax(x, axis=-1)
    return jnp.where(weights != 0.0, weights * log_probs, jnp.zeros_like(log_probs))


@_weighted_log_softmax.defjvp
def _weighted_log_softmax_jvp(
    primals: tuple[jax.Array, jax.Array], tangents: tuple[jax.Array, jax.Array]
) -> tuple[jax.Array, jax.Array]:
    x, weights = primals
    x_dot, weights_dot = tangents
    log_probs = jax.nn.log_softmax(x, axis=-1)
    out = jnp.where(weights != 0.0, weights * log_probs, jnp.zeros_like(log_probs))
    # The terms of weights_dot * log_probs stay finite: 0 where log_probs = -inf.
    weights_term = jnp.where(jnp.isneginf(log_probs), 0.0, weights_dot * log_probs)
    probs = jax.nn.softmax(x, axis=-1)
    out_dot = (
        weights * x_dot
        - weights * jnp.sum(x_dot * probs, axis=-1, keepdims=True)
        + weights_term
    )
    return out, out_dot


def safe_softmax_cross_entropy(logits: Any, labels: Any) -> jax.Array:
    r"""Softmax cross entropy that reads :math:`0 \log 0` as 0.

    .. math::
       \ell = -\sum_{j:\, y_j \ne 0} y_j \log \operatorname{softmax}(x)_j

    Unlike :func:`softmax_cross_entropy`, a ``-inf`` logit with a zero label
    (a masked class) gives a finite loss and finite gradients. The classes
    are on the last axis.

    Args:
      logits: floating array of unnormalized log probabilities, classes last.
      labels: array broadcasting to ``logits``' shape, distributions over the
        last axis.

    Returns:
      The losses, with the last axis removed from ``logits``' shape.

    Raises:
      TypeError: ``logits`` is not floating.
      ValueError: ``labels`` does not broadcast to ``logits``' shape.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits = jnp.array([0.0, 0.0, -jnp.inf])
      >>> gradtx.losses.safe_softmax_cross_entropy(logits, jnp.array([1.0, 0.0, 0.0]))
      Array(0.6931472, dtype=float32)
    """
    fn = "safe_softmax_cross_entropy"
    logits = validate.floating(fn, "logits", logits)
    labels = jnp.asarray(labels)
    validate.fits_shape(fn, "labels", labels, tuple(logits.shape), "logits")
    labels = jnp.broadcast_to(labels, logits.shape).astype(logits.dtype)
    return -jnp.sum(_weighted_log_softmax(logits, labels), axis=-1)
