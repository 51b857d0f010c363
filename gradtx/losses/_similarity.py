"""Cosine similarity and cosine distance between vectors."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["cosine_distance", "cosine_similarity"]

Axis = int | tuple[int, ...] | None


def _cosine(
    fn: str, predictions: Any, targets: Any, epsilon: Any, axis: Axis, where: Any
) -> jax.Array:
    a = validate.floating(fn, "predictions", predictions)
    b = validate.floating(fn, "targets", targets)
    validate.fits_shape(fn, "targets", b, tuple(a.shape), "predictions")
    validate.number(fn, "epsilon", epsilon, low=0.0)
    mask = validate.where_mask(fn, where, tuple(a.shape))
    a_norm2 = jnp.square(a).sum(axis=axis, where=mask, keepdims=True)
    b_norm2 = jnp.square(b).sum(axis=axis, where=mask, keepdims=True)
    a_unit = a / jnp.sqrt(a_norm2.clip(epsilon))
    b_unit = b / jnp.sqrt(b_norm2.clip(epsilon))
    return (a_unit * b_unit).sum(axis=axis, where=mask)


def cosine_similarity(
    predictions: Any,
    targets: Any,
    *,
    epsilon: Any = 0.0,
    axis: Axis = -1,
    where: Any = None,
) -> jax.Array:
    r"""The cosine of the angle between vectors along ``axis``.

    .. math::
       \cos(a, b) = \frac{\langle a, b\rangle}
       {\sqrt{\max(\lVert a\rVert^2, \epsilon)}\,
        \sqrt{\max(\lVert b\rVert^2, \epsilon)}}

    Note that ``epsilon`` bounds the *squared* norms, as in optax (torch's
    ``eps`` bounds the norms). With the default ``epsilon=0`` a zero vector
    gives NaN; pass e.g. ``epsilon=1e-12`` if zero vectors can occur.

    Args:
      predictions: floating array, the vectors along ``axis``.
      targets: floating array broadcasting to ``predictions``' shape.
      epsilon: lower bound of each squared norm, >= 0.
      axis: the axis or axes of the vectors (None: all).
      where: boolean array broadcasting to ``predictions``' shape; the
        elements to include.

    Returns:
      The similarities, with ``axis`` removed from ``predictions``' shape.

    Raises:
      TypeError: an input is not floating, or ``where`` is not boolean.
      ValueError: shapes that do not fit, or a concrete ``epsilon`` < 0.

    References:
      *Cosine similarity*, Wikipedia,
      https://en.wikipedia.org/wiki/Cosine_similarity

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> a = jnp.array([[1.0, 0.0], [1.0, 1.0]])
      >>> b = jnp.array([[0.0, 2.0], [3.0, 3.0]])
      >>> gradtx.losses.cosine_similarity(a, b)
      Array([0., 1.], dtype=float32)
    """
    return _cosine("cosine_similarity", predictions, targets, epsilon, axis, where)


def cosine_distance(
    predictions: Any,
    targets: Any,
    *,
    epsilon: Any = 0.0,
    axis: Axis = -1,
    where: Any = None,
) -> jax.Array:
    r"""One minus the cosine similarity, :math:`1 - \cos(a, b)`, in [0, 2].

    See :func:`cosine_similarity` for the formula and the arguments.

    Args:
      predictions: floating array, the vectors along ``axis``.
      targets: floating array broadcasting to ``predictions``' shape.
      epsilon: lower bound of each squared norm, >= 0.
      axis: the axis or axes of the vectors (None: all).
      where: boolean array broadcasting to ``predictions``' shape; the
        elements to include.

    Returns:
      The distances, with ``axis`` removed from ``predictions``' shape.

    Raises:
      TypeError: an input is not floating, or ``where`` is not boolean.
      ValueError: shapes that do not fit, or a concrete ``epsilon`` < 0.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.cosine_distance(jnp.array([1.0, 0.0]), jnp.array([-2.0, 0.0]))
      Array(2., dtype=float32)
    """
    fn = "cosine_distance"
    return 1.0 - _cosine(fn, predictions, targets, epsilon, axis, where)
