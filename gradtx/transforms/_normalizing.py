"""Gradient centralization and normalization by the global norm."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    init_empty_state,
)

__all__ = ["centralize", "normalize_by_update_norm"]


def centralize(*, output_axis: int = -1) -> GradientTransformation:
    r"""Gradient centralization: removes each output unit's mean gradient.

    For a leaf with two or more axes, each slice along ``output_axis`` (the
    weights of one output unit) is centered:

    .. math::
       u_{\cdot j} \leftarrow u_{\cdot j} - \operatorname{mean}(u_{\cdot j})

    where the mean runs over every axis but ``output_axis``. Leaves with
    fewer than two axes (biases, scales) pass unchanged.

    gradtx follows the paper in JAX's layouts, where the output units are on
    the last axis (a Dense kernel is ``[in, out]``, a conv kernel
    ``[h, w, in, out]``). ``optax.centralize`` keeps the first axis (PyTorch's
    ``[out, in]`` layout), which in JAX centers the weights leaving one *input*
    unit; pass ``output_axis=0`` for optax's rule.

    Args:
      output_axis: the axis of the output units (keyword only; ``-1``, or
        ``0`` for optax's rule).

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      TypeError: ``output_axis`` is not an int.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.centralize()
      >>> g = jnp.array([[1.0, 2.0], [3.0, 6.0]])
      >>> tx.update(g, tx.init(g))[0]
      Array([[-1., -2.],
             [ 1.,  2.]], dtype=float32)

    References:
      Yong et al., *Gradient Centralization: A New Optimization Technique for
      Deep Neural Networks*, ECCV 2020, https://arxiv.org/abs/2004.01461
    """
    fn = validate.who("centralize")
    if not isinstance(output_axis, int) or isinstance(output_axis, bool):
        raise validate.error(
            TypeError, fn, f"output_axis must be an int, got {output_axis!r}."
        )

    def leaf(u: jax.Array) -> jax.Array:
        if u.ndim < 2:
            return u
        keep = output_axis % u.ndim
        axes = tuple(i for i in range(u.ndim) if i != keep)
        return u - jnp.mean(u, axis=axes, keepdims=True)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        return jax.tree.map(leaf, updates), state

    return GradientTransformation(init_empty_state, update)


def normalize_by_update_norm(
    scale_factor: Any = 1.0, eps: Any = 1e-6
) -> GradientTransformation:
    r"""Divides the updates by their global norm (plus ``eps``), times a factor.

    .. math::
       u \leftarrow \frac{s}{\lVert u \rVert_2 + \epsilon}\, u

    so the output has norm :math:`s` (a little less). A zero update with
    ``eps=0`` stays zero instead of becoming NaN. Complex leaves count with
    :math:`|u_i|^2`.

    Args:
      scale_factor: :math:`s`, any finite number (``-lr`` for a descent step).
      eps: :math:`\epsilon \ge 0`, added to the norm.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      TypeError: an argument is not a number.
      ValueError: ``scale_factor`` is not finite, or ``eps`` is negative.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.normalize_by_update_norm(scale_factor=2.0, eps=0.0)
      >>> tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))[0]
      Array([1.2, 1.6], dtype=float32)
    """
    fn = validate.who("normalize_by_update_norm")
    validate.number(fn, "scale_factor", scale_factor)
    validate.number(fn, "eps", eps, low=0.0)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        denom = tree.norm(updates) + eps
        factor = jnp.where(denom > 0, scale_factor / jnp.where(denom > 0, denom, 1), 0)

        def leaf(u: jax.Array) -> jax.Array:
            return (u * factor.astype(jnp.real(u).dtype)).astype(u.dtype)

        return jax.tree.map(leaf, updates), state

    return GradientTransformation(init_empty_state, update)
