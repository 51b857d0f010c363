"""What the losses ask of their inputs: floating arrays, shapes that fit.

Each helper takes the public function's name and the argument's name, and
raises through :func:`gradtx._internal.validate.error`, so a message reads
``softmax_cross_entropy: labels has shape (3,), which ...``. Shapes and dtypes
are static, so the checks run at trace time, once per compilation.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._arrays import mask as check_mask
from gradtx._internal.validate._caller import error

__all__ = ["as_array", "fits_shape", "floating", "integral", "where_mask"]


def as_array(fn: str, name: str, value: Any) -> jax.Array:
    """``value`` as a JAX array; a TypeError naming ``name`` if it is not one."""
    try:
        return jnp.asarray(value)
    except (TypeError, ValueError):
        raise error(
            TypeError, fn, f"{name} must be an array, got {type(value).__name__}."
        ) from None


def floating(fn: str, name: str, value: Any) -> jax.Array:
    """``value`` as an array of a real floating dtype, else a TypeError."""
    x = as_array(fn, name, value)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise error(
            TypeError,
            fn,
            f"{name} has dtype {x.dtype}; it must be floating, e.g. "
            f"{name}.astype(jnp.float32).",
        )
    return x


def integral(fn: str, name: str, value: Any, hint: str) -> jax.Array:
    """``value`` as an array of an integer dtype (not bool), else a TypeError."""
    x = as_array(fn, name, value)
    if not jnp.issubdtype(x.dtype, jnp.integer):
        raise error(
            TypeError, fn, f"{name} has dtype {x.dtype}; it must be integer. {hint}"
        )
    return x


def fits_shape(
    fn: str, name: str, value: jax.Array, shape: tuple[int, ...], what: str
) -> None:
    """Raises ValueError unless ``value`` broadcasts to ``shape`` (``what``'s)."""
    value_shape = tuple(value.shape)
    try:
        broadcast = np.broadcast_shapes(value_shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise error(
            ValueError,
            fn,
            f"{name} has shape {value_shape}, which does not broadcast to the "
            f"shape {shape} of {what}.",
        )


def where_mask(fn: str, where: Any, shape: tuple[int, ...]) -> jax.Array | None:
    """``where`` (None or a boolean array broadcasting to ``shape``) as an array."""
    if where is None:
        return None
    array = as_array(fn, "where", where)
    check_mask(fn, "where", array, shape, meaning="the element is included")
    return array
