"""Trees of constants shaped like a given tree: ``zeros_like``, ``ones_like``,
``full_like`` (optax's, leaf by leaf with ``jnp.*_like``)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["full_like", "ones_like", "zeros_like"]


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
