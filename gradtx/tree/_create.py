"""Trees of constants shaped like a given tree: ``zeros_like``, ``ones_like``,
``full_like`` (optax's, leaf by leaf with ``jnp.*_like``), and ``batch_shape``."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["batch_shape", "full_like", "ones_like", "zeros_like"]


def zeros_like(tree: Any, dtype: Any = None) -> Any:
    """Zeros with the structure, shapes and (by default) dtypes of ``tree``.

    Args:
      tree: a pytree of arrays (or numbers).
      dtype: the dtype of every leaf; ``None``: each leaf's own.

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.zeros_like({"w": jnp.ones(2), "n": jnp.ones((), jnp.int32)})
      {'n': Array(0, dtype=int32), 'w': Array([0., 0.], dtype=float32)}
    """
    return jax.tree.map(lambda x: jnp.zeros_like(x, dtype=dtype), tree)


def ones_like(tree: Any, dtype: Any = None) -> Any:
    """Ones with the structure, shapes and (by default) dtypes of ``tree``.

    Args:
      tree: a pytree of arrays (or numbers).
      dtype: the dtype of every leaf; ``None``: each leaf's own.

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.ones_like((jnp.zeros(2),), dtype=jnp.bfloat16)
      (Array([1, 1], dtype=bfloat16),)
    """
    return jax.tree.map(lambda x: jnp.ones_like(x, dtype=dtype), tree)


def full_like(tree: Any, fill_value: Any, dtype: Any = None) -> Any:
    """``fill_value`` everywhere, with the structure and shapes of ``tree``.

    Args:
      tree: a pytree of arrays (or numbers).
      fill_value: the value of every element.
      dtype: the dtype of every leaf; ``None``: each leaf's own (so an integer
        leaf truncates a fractional ``fill_value``, as ``jnp.full_like`` does).

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.full_like({"w": jnp.zeros(2)}, 0.5)
      {'w': Array([0.5, 0.5], dtype=float32)}
    """
    return jax.tree.map(lambda x: jnp.full_like(x, fill_value, dtype=dtype), tree)


def batch_shape(tree: Any, shape: tuple[int, ...] = ()) -> Any:
    """Every leaf broadcast to leading batch dimensions ``shape`` (optax's).

    Args:
      tree: a pytree of arrays (or numbers).
      shape: the leading dimensions to add.

    Returns:
      A pytree like ``tree``, each leaf of shape ``(*shape, *leaf.shape)``
      (a broadcast: no copy until written).

    Raises:
      TypeError: ``shape`` is not a tuple of non-negative ints.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.batch_shape({"w": jnp.array([1.0, 2.0])}, (3,))["w"].shape
      (3, 2)
    """
    dims = tuple(shape) if isinstance(shape, tuple | list) else None
    if dims is None or not all(
        isinstance(d, int | np.integer) and not isinstance(d, bool) and d >= 0
        for d in dims
    ):
        raise validate.error(
            TypeError,
            "batch_shape",
            f"shape must be a tuple of non-negative ints, got {shape!r}.",
        )
    return jax.tree.map(lambda x: jnp.broadcast_to(x, (*dims, *jnp.shape(x))), tree)
