"""Random trees: ``split_key_like``, ``random_like``, ``unwrap_random_key_data``
(optax's)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["random_like", "split_key_like", "unwrap_random_key_data"]


def split_key_like(rng_key: Any, target_tree: Any) -> Any:
    """One independent PRNG key per leaf of ``target_tree``.

    The keys are ``jax.random.split(rng_key, number of leaves)``, in leaf
    order.

    Args:
      rng_key: a PRNG key (``jax.random.key`` or a legacy ``PRNGKey``).
      target_tree: the pytree whose structure to copy.

    Returns:
      A pytree with ``target_tree``'s structure and a key at each leaf.

    Example:
      >>> import gradtx.tree, jax, jax.numpy as jnp
      >>> keys = gradtx.tree.split_key_like(jax.random.key(0),
      ...                                   {"w": jnp.zeros(3), "b": jnp.zeros(1)})
      >>> sorted(keys)
      ['b', 'w']
    """
    leaves, treedef = jax.tree.flatten(target_tree)
    keys = jax.random.split(rng_key, len(leaves))
    return jax.tree.unflatten(treedef, list(keys))


def _takes_out_sharding(sampler: Callable[..., Any]) -> bool:
    try:
        return "out_sharding" in inspect.signature(sampler).parameters
    except (TypeError, ValueError):  # no signature to read
        return False


def random_like(
    rng_key: Any,
    target_tree: Any,
    sampler: Callable[..., Any] = jax.random.normal,
    dtype: Any = None,
) -> Any:
    """Random arrays with the structure and shapes of ``target_tree``.

    Each leaf is ``sampler(key, leaf.shape, dtype or leaf.dtype)`` with its own
    key from :func:`split_key_like`, placed like the leaf (``out_sharding``)
    when the sampler accepts it, as in optax.

    Args:
      rng_key: a PRNG key.
      target_tree: a pytree of arrays whose shapes (and dtypes) to copy.
      sampler: ``(key, shape, dtype) -> array``, such as
        ``jax.random.normal`` (the default) or ``jax.random.uniform``; note
        that some samplers accept only some dtypes
        (``jax.random.rademacher``: integers).
      dtype: the dtype of every leaf; ``None``: each leaf's own.

    Returns:
      A pytree like ``target_tree``.

    Example:
      >>> import gradtx.tree, jax, jax.numpy as jnp
      >>> noise = gradtx.tree.random_like(jax.random.key(0),
      ...                                 {"w": jnp.zeros((2, 3), jnp.bfloat16)})
      >>> noise["w"].shape, noise["w"].dtype
      ((2, 3), dtype(bfloat16))
    """
    keys = split_key_like(rng_key, target_tree)
    placed = _takes_out_sharding(sampler)

    def leaf(x: Any, key: Any) -> Any:
        d = dtype if dtype is not None else jnp.result_type(x)
        if placed and isinstance(x, jax.Array):
            return sampler(key, jnp.shape(x), d, out_sharding=jax.typeof(x).sharding)
        return sampler(key, jnp.shape(x), d)

    return jax.tree.map(leaf, target_tree, keys)


def unwrap_random_key_data(input_tree: Any) -> Any:
    """Typed PRNG keys (``jax.random.key``) replaced by their raw data (optax's).

    For comparing trees that hold keys numerically (``allclose``, NumPy):
    a typed key is not a number; its ``jax.random.key_data`` is (uint32).
    Other leaves are returned as they are.

    Args:
      input_tree: a pytree of arrays and typed keys.

    Returns:
      The tree, each typed key replaced by ``jax.random.key_data(key)``.

    Example:
      >>> import gradtx.tree, jax
      >>> gradtx.tree.unwrap_random_key_data({"k": jax.random.key(0)})["k"].dtype
      dtype('uint32')
    """

    def unwrap(x: Any) -> Any:
        if isinstance(x, jax.Array) and jax.dtypes.issubdtype(
            x.dtype, jax.dtypes.prng_key
        ):
            return jax.random.key_data(x)
        return x

    return jax.tree.map(unwrap, input_tree)
