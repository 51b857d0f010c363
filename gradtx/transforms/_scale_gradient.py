"""``scale_gradient``: identity forward, gradient times a factor backward."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["scale_gradient"]


@jax.custom_vjp
def _scaled(inputs: Any, scale: jax.Array) -> Any:
    del scale
    return inputs


def _scaled_fwd(inputs: Any, scale: jax.Array) -> tuple[Any, jax.Array]:
    return inputs, scale


def _scaled_bwd(scale: jax.Array, g: Any) -> tuple[Any, jax.Array]:
    def leaf(x: jax.Array) -> jax.Array:
        return (x * scale.astype(jnp.real(x).dtype)).astype(x.dtype)

    # The scale is a hyperparameter, not learned: its cotangent is 0.
    return jax.tree.map(leaf, g), jnp.zeros_like(scale)


_scaled.defvjp(_scaled_fwd, _scaled_bwd)


def scale_gradient(inputs: Any, scale: Any) -> Any:
    r"""Identity forward; in the backward pass, the gradient times ``scale``.

    .. math::
       f(x) = x, \qquad \frac{\partial L}{\partial x} \leftarrow
       s\, \frac{\partial L}{\partial f(x)}

    A function of the forward pass, not a transformation: use it inside the
    loss, e.g. to slow the learning of one part of a model. ``scale = 0``
    is :func:`jax.lax.stop_gradient`. Works under ``jit`` with a traced
    ``scale`` (optax's version tests ``scale == 1.0`` in Python, which fails
    on a traced one).

    Args:
      inputs: a tree of arrays.
      scale: :math:`s`, a finite real number (may be traced).

    Returns:
      ``inputs``, unchanged.

    Raises:
      TypeError: ``scale`` is not a number.
      ValueError: ``scale`` is not finite (checked when it is concrete).

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> jax.grad(lambda x: jnp.sum(gradtx.scale_gradient(x, 0.5) ** 2))(jnp.ones(2))
      Array([1., 1.], dtype=float32)
    """
    fn = validate.who("scale_gradient")
    validate.number(fn, "scale", scale)
    if not isinstance(scale, jax.core.Tracer):
        s = validate.concrete_float(scale)
        if s == 1.0:
            return inputs
        if s == 0.0:
            return jax.lax.stop_gradient(inputs)
    return _scaled(inputs, jnp.asarray(scale))
