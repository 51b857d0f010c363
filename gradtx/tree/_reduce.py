"""Reductions of a whole tree to a scalar: ``sum``, ``max``, ``min``, ``vdot``,
``size``, ``allclose``, ``all_finite``.

Numerics, where gradtx differs from ``optax.tree`` on purpose:

- ``sum`` and ``vdot`` accumulate float16/bfloat16 leaves in float32 and
  return float32 for such trees (optax rounds every leaf's sum to the leaf's
  dtype and returns a half-precision scalar); integer and bool leaves are
  summed exactly, in integers, as in optax.
- ``max`` and ``min`` of a tree of integer (or bool) leaves are integers, the
  exact extreme (optax starts from ``-inf``/``inf`` and so returns a float,
  which rounds large integers: above 2**24 in float32).

Everywhere else the results are optax's, up to the order of summation.
Reductions over many leaves use one kernel for all small leaves of a dtype
(``associative_reduction=True`` for ``sum``), so they compile fast with
thousands of leaves.
"""

from __future__ import annotations

import builtins
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx.tree._common import accumulation_dtype, map_trees, reduce_leaves, validate

__all__ = ["all_finite", "allclose", "max", "min", "size", "sum", "vdot"]


def _arrays(tree: Any) -> list[jax.Array]:
    return [jnp.asarray(x) for x in jax.tree.leaves(tree)]


def _leaf_sum(x: jax.Array) -> jax.Array:
    if jnp.issubdtype(x.dtype, jnp.inexact):
        return jnp.sum(x, dtype=accumulation_dtype(x.dtype))
    return jnp.sum(x)  # integers and bools: exactly, in JAX's default int


def _in_order(partials: list[jax.Array]) -> jax.Array:
    """``partials[0] + partials[1] + ...``, left to right (optax's order)."""
    return functools.reduce(jnp.add, partials[1:], partials[0])


def sum(tree: Any, associative_reduction: bool = False) -> jax.Array:
    """The sum of all elements of all leaves.

    Leaves of float16 or bfloat16 are summed in float32 and the result is
    float32 for such a tree (optax returns their dtype, rounding each leaf's
    sum to it). Integer and bool leaves sum exactly to JAX's default integer.

    Args:
      tree: a pytree.
      associative_reduction: combine the leaves in one reduction, with small
        leaves of a dtype concatenated (faster to compile with many leaves;
        the order of summation differs, so the last bits may). ``False``: add
        the leaves' sums left to right, as optax does.

    Returns:
      A scalar array; ``0`` for a tree with no leaves.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.sum({"a": jnp.array([1.0, 2.0]), "b": jnp.array(3.0)})
      Array(6., dtype=float32)
      >>> gradtx.tree.sum({"a": jnp.ones(257, jnp.bfloat16)})  # bfloat16 has no 257
      Array(257., dtype=float32)
    """
    leaves = _arrays(tree)
    if not leaves:
        return jnp.asarray(0)
    if associative_reduction:
        return reduce_leaves(leaves, _leaf_sum, jnp.sum)
    return _in_order([_leaf_sum(x) for x in leaves])


def _extreme(tree: Any, fn: Any, empty: float) -> jax.Array:
    leaves = [x for x in _arrays(tree) if x.size]
    if not leaves:
        return jnp.asarray(empty)
    return reduce_leaves(leaves, fn, fn)


def max(tree: Any) -> jax.Array:
    """The largest element of all leaves (zero-size leaves are skipped).

    A tree of integer leaves gives the exact integer maximum (optax returns it
    as a float).

    Args:
      tree: a pytree.

    Returns:
      A scalar array; ``-inf`` when no leaf has an element.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.max({"a": jnp.array([1.0, 5.0]), "b": jnp.zeros(0)})
      Array(5., dtype=float32)
    """
    return _extreme(tree, jnp.max, -np.inf)


def min(tree: Any) -> jax.Array:
    """The smallest element of all leaves (zero-size leaves are skipped).

    A tree of integer leaves gives the exact integer minimum (optax returns it
    as a float).

    Args:
      tree: a pytree.

    Returns:
      A scalar array; ``inf`` when no leaf has an element.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.min({"a": jnp.array([1, 5]), "b": jnp.array([-3])})
      Array(-3, dtype=int32)
    """
    return _extreme(tree, jnp.min, np.inf)


def _leaf_vdot(a: Any, b: Any) -> jax.Array:
    a, b = jnp.asarray(a), jnp.asarray(b)
    acc = accumulation_dtype(jnp.result_type(a, b))
    return jnp.sum(jnp.conj(a).astype(acc) * b.astype(acc), dtype=acc)


def vdot(tree_x: Any, tree_y: Any) -> jax.Array:
    r"""The inner product :math:`\sum_i \overline{x_i} y_i` over all leaves.

    ``tree_x`` is conjugated, as in ``jnp.vdot``. Products of float16 or
    bfloat16 leaves are summed in float32 (and the result is float32).

    Args:
      tree_x: a pytree.
      tree_y: a pytree with the structure and shapes of ``tree_x``.

    Returns:
      A scalar array; ``0`` for trees with no leaves.

    Raises:
      TreeMismatchError: the trees differ in structure or in a leaf's shape.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.vdot({"a": jnp.array([1.0, 2.0]), "b": jnp.array(3.0)},
      ...                  {"a": jnp.array([3.0, 4.0]), "b": jnp.array(-1.0)})
      Array(8., dtype=float32)
    """
    validate.tree_matches(
        "vdot",
        tree_y,
        tree_x,
        got_name="tree_y",
        expected_name="tree_x",
        dtypes="ignore",
    )
    partials = jax.tree.leaves(
        map_trees(_leaf_vdot, tree_x, tree_y, names=("tree_x", "tree_y"), who="vdot")
    )
    return _in_order(partials) if partials else jnp.asarray(0)


def size(tree: Any) -> int:
    """The number of elements of all leaves together, a Python int.

    Args:
      tree: a pytree.

    Returns:
      The total size (known at trace time, also under ``jit``).

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.size({"w": jnp.zeros((3, 4)), "b": jnp.zeros(4), "s": 1.0})
      17
    """
    return builtins.sum(int(np.size(x)) for x in jax.tree.leaves(tree))


def allclose(
    a: Any,
    b: Any,
    rtol: Any = 1e-05,
    atol: Any = 1e-08,
    equal_nan: bool = False,
) -> jax.Array:
    """Whether every leaf of ``a`` is close to that of ``b`` (``jnp.allclose``).

    Args:
      a: a pytree.
      b: a pytree with the structure of ``a``.
      rtol: relative tolerance.
      atol: absolute tolerance.
      equal_nan: whether NaNs in the same place count as equal.

    Returns:
      A bool scalar array (True for trees with no leaves).

    Raises:
      TreeMismatchError: ``b`` lacks ``a``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> bool(gradtx.tree.allclose({"w": jnp.array(1.0)},
      ...                           {"w": jnp.array(1.0 + 1e-7)}))
      True
    """
    close = jax.tree.leaves(
        map_trees(
            lambda x, y: jnp.allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan),
            a,
            b,
            names=("a", "b"),
            who="allclose",
        )
    )
    return functools.reduce(jnp.logical_and, close, jnp.asarray(True))


def all_finite(tree: Any) -> jax.Array:
    """A bool scalar: whether every element of every leaf is finite.

    One reduction kernel for all small leaves together (as in
    :func:`~gradtx.tree.norm`), so it stays cheap with thousands of leaves,
    and no host round trip: use it inside ``jit`` to decide on the device
    (``jnp.where``, ``lax.cond``). Integer and bool leaves are finite.

    Args:
      tree: a pytree.

    Returns:
      A bool scalar array (True for a tree with no leaves).

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> bool(gradtx.tree.all_finite({"a": jnp.ones(2),
      ...                              "b": jnp.array([1.0, jnp.inf])}))
      False
    """
    leaves = _arrays(tree)
    if not leaves:
        return jnp.array(True)
    return reduce_leaves(leaves, lambda x: jnp.all(jnp.isfinite(x)), jnp.all)
