"""optax's numerics helpers: norms with a gradient at 0, saturating counters.

``safe_norm`` and ``safe_root_mean_squares`` return a lower bound where the
norm is small, with the gradient of that bound (0), not the NaN that
``jnp.maximum(jnp.linalg.norm(x), m)`` gives at ``x = 0`` (both branches are
differentiated, and the norm's gradient at 0 is 0/0). ``safe_increment``
adds 1 to a counter and stays at its dtype's maximum instead of wrapping.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import abs_sq

__all__ = [
    "safe_increment",
    "safe_int32_increment",
    "safe_norm",
    "safe_root_mean_squares",
]


def safe_norm(
    x: Any,
    min_norm: Any,
    ord: int | float | str | None = None,
    axis: int | tuple[int, ...] | None = None,
    keepdims: bool = False,
) -> jax.Array:
    r"""``max(‖x‖, min_norm)`` whose gradient is 0, not NaN, where it is the bound.

    .. math::
       \operatorname{safe\_norm}(x) = \begin{cases}
         \lVert x \rVert & \lVert x \rVert > m \\ m & \text{otherwise}
       \end{cases}

    with the norm of ``jnp.linalg.norm(x, ord, axis, keepdims)``. Where the
    norm is at most ``m`` the norm is computed from ones instead of ``x``, so
    no branch divides 0 by 0 (optax's ``safe_norm``, the same arguments).

    Args:
      x: an array.
      min_norm: :math:`m`, the lower bound.
      ord: the norm's order, as ``jnp.linalg.norm``'s.
      axis: the axis or 2 axes to take the norm over; None: all.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The bounded norm.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> float(gradtx.safe_norm(jnp.array([3.0, 4.0]), 1.0))
      5.0
      >>> jax.grad(lambda x: gradtx.safe_norm(x, 1e-3))(jnp.zeros(2))
      Array([0., 0.], dtype=float32)
    """
    x = jnp.asarray(x)
    norm = jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=True)
    small = norm <= min_norm
    safe_x = jnp.where(small, jnp.ones_like(x), x)
    safe = jnp.linalg.norm(safe_x, ord=ord, axis=axis, keepdims=True)
    out = jnp.where(small, jnp.asarray(min_norm, safe.dtype), safe)
    if not keepdims:
        out = jnp.squeeze(out, axis=_reduced_axes(x.ndim, axis))
    return out


def _reduced_axes(ndim: int, axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def safe_root_mean_squares(x: Any, min_rms: Any) -> jax.Array:
    r"""``max(rms(x), min_rms)`` whose gradient is 0, not NaN, at the bound.

    .. math::
       \operatorname{rms}(x) = \sqrt{\tfrac1n \textstyle\sum_i |x_i|^2}

    (optax's ``safe_root_mean_squares``).

    Args:
      x: an array.
      min_rms: the lower bound.

    Returns:
      The bounded root mean square, a scalar.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> float(gradtx.safe_root_mean_squares(jnp.array([3.0, 4.0]), 0.1))
      3.5355339050292969
    """
    x = jnp.asarray(x)
    rms = jnp.sqrt(jnp.mean(abs_sq(x)))
    small = rms <= min_rms
    safe_x = jnp.where(small, jnp.ones_like(x), x)
    return jnp.where(small, min_rms, jnp.sqrt(jnp.mean(abs_sq(safe_x))))


def safe_increment(count: Any) -> jax.Array:
    """``count + 1``, staying at the dtype's maximum instead of overflowing.

    Integer counters stop at ``iinfo(dtype).max``, float ones at
    ``finfo(dtype).max`` (optax's ``safe_increment``).

    Args:
      count: an integer or floating-point counter.

    Returns:
      The incremented counter, in ``count``'s dtype.

    Raises:
      ValueError: ``count`` is neither integer nor floating point (a bool or
        complex counter), as in optax.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.safe_increment(jnp.asarray(2147483647, jnp.int32))
      Array(2147483647, dtype=int32)
    """
    count = jnp.asarray(count)
    if jnp.issubdtype(count.dtype, jnp.integer):
        top: Any = jnp.iinfo(count.dtype).max
    elif jnp.issubdtype(count.dtype, jnp.floating):
        top = jnp.finfo(count.dtype).max
    else:
        raise validate.error(
            ValueError,
            "safe_increment",
            f"count must be an integer or floating-point array, got dtype "
            f"{count.dtype}.",
        )
    # The maximum as an array of count's dtype: a Python int above int32's
    # range (uint32's, uint64's maximum) cannot be passed as a weak int.
    top = jnp.asarray(top, count.dtype)
    one = jnp.ones((), count.dtype)
    return jnp.where(count < top, count + one, top)


def safe_int32_increment(count: Any) -> jax.Array:
    """:func:`safe_increment` of an int32 counter (optax's older name).

    Raises:
      TypeError: ``count`` is not int32.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.safe_int32_increment(jnp.asarray(1, jnp.int32))
      Array(2, dtype=int32)
    """
    count = jnp.asarray(count)
    if count.dtype != jnp.int32:
        raise validate.error(
            TypeError,
            "safe_int32_increment",
            f"count must be int32, got {count.dtype}; use safe_increment.",
        )
    return safe_increment(count)
