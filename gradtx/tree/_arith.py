"""Element-wise arithmetic on pytrees, leaf by leaf: ``add``, ``sub``, ``where``...

Each function maps over the leaves of its first tree; the other trees must
have that structure (a leaf of the first tree may face a subtree, as in
``jax.tree.map``), or a :class:`~gradtx.TreeMismatchError` names the first
path where they differ. Leaves broadcast and promote as ``jax.numpy`` does.
The results are optax's (``optax.tree.add`` ...).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx.tree._common import IsLeaf, broadcast_prefix, is_none, map_trees

__all__ = [
    "add",
    "add_scale",
    "clip",
    "conj",
    "div",
    "mul",
    "real",
    "scale",
    "sub",
    "where",
]


def _pair(
    fn: Callable[[Any, Any], Any],
    tree_x: Any,
    tree_y: Any,
    who: str,
    is_leaf: IsLeaf = None,
) -> Any:
    """``fn`` over the leaves of ``tree_x`` and ``tree_y`` (same structure)."""
    return map_trees(
        fn, tree_x, tree_y, names=("tree_x", "tree_y"), is_leaf=is_leaf, who=who
    )


def add(tree_x: Any, tree_y: Any, *other_trees: Any) -> Any:
    """The leaf-wise sum of two or more pytrees.

    Args:
      tree_x: a pytree.
      tree_y: a pytree with the structure of ``tree_x``.
      *other_trees: more such pytrees to add.

    Returns:
      ``tree_x + tree_y + ...``, a pytree like ``tree_x``.

    Raises:
      TreeMismatchError: a tree lacks ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.add({"a": jnp.array([1.0])}, {"a": jnp.array([2.0])},
      ...                 {"a": jnp.array([3.0])})
      {'a': Array([6.], dtype=float32)}
    """
    names = [
        "tree_x",
        "tree_y",
        *(f"other_trees[{i}]" for i in range(len(other_trees))),
    ]
    return map_trees(
        lambda *xs: sum(xs), tree_x, tree_y, *other_trees, names=names, who="add"
    )


def sub(tree_x: Any, tree_y: Any) -> Any:
    """The leaf-wise difference ``tree_x - tree_y``.

    Args:
      tree_x: a pytree.
      tree_y: a pytree with the structure of ``tree_x``.

    Returns:
      A pytree like ``tree_x``.

    Raises:
      TreeMismatchError: ``tree_y`` lacks ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.sub((jnp.array([3.0]),), (jnp.array([1.0]),))
      (Array([2.], dtype=float32),)
    """
    return _pair(operator.sub, tree_x, tree_y, "sub")


def mul(tree_x: Any, tree_y: Any) -> Any:
    """The leaf-wise product ``tree_x * tree_y``.

    Args:
      tree_x: a pytree.
      tree_y: a pytree with the structure of ``tree_x``.

    Returns:
      A pytree like ``tree_x``.

    Raises:
      TreeMismatchError: ``tree_y`` lacks ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.mul([jnp.array([1.0, 2.0])], [jnp.array([3.0, 4.0])])
      [Array([3., 8.], dtype=float32)]
    """
    return _pair(operator.mul, tree_x, tree_y, "mul")


def div(tree_x: Any, tree_y: Any) -> Any:
    """The leaf-wise quotient ``tree_x / tree_y`` (true division).

    Args:
      tree_x: a pytree.
      tree_y: a pytree with the structure of ``tree_x``.

    Returns:
      A pytree like ``tree_x``.

    Raises:
      TreeMismatchError: ``tree_y`` lacks ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.div({"a": jnp.array([1.0])}, {"a": jnp.array([4.0])})
      {'a': Array([0.25], dtype=float32)}
    """
    return _pair(operator.truediv, tree_x, tree_y, "div")


def scale(scalar: Any, tree: Any) -> Any:
    """Every leaf times one scalar: ``scalar * tree``.

    Args:
      scalar: a number or a scalar array (a Python number keeps the leaves'
        dtypes).
      tree: a pytree.

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.scale(0.5, {"a": jnp.array([2.0, 4.0])})
      {'a': Array([1., 2.], dtype=float32)}
    """
    return jax.tree.map(lambda x: scalar * x, tree)


def add_scale(tree_x: Any, scalar: Any, tree_y: Any) -> Any:
    """``tree_x + scalar * tree_y``, leaf by leaf; ``None`` leaves stay ``None``.

    A ``None`` leaf of ``tree_x`` gives ``None`` whatever ``tree_y`` holds
    there (as in optax).

    Args:
      tree_x: a pytree, possibly with ``None`` leaves.
      scalar: a number or a scalar array.
      tree_y: a pytree with the structure of ``tree_x``.

    Returns:
      A pytree like ``tree_x``.

    Raises:
      TreeMismatchError: ``tree_y`` lacks ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.add_scale({"a": jnp.array([1.0]), "b": None}, 0.5,
      ...                       {"a": jnp.array([4.0]), "b": jnp.array([1.0])})
      {'a': Array([3.], dtype=float32), 'b': None}
    """
    s = jnp.asarray(scalar)
    return _pair(
        lambda x, y: None if x is None else x + s * y,
        tree_x,
        tree_y,
        "add_scale",
        is_leaf=is_none,
    )


def clip(tree: Any, min_value: Any = None, max_value: Any = None) -> Any:
    """Every element clipped to ``[min_value, max_value]`` (``jnp.clip``).

    Args:
      tree: a pytree of real arrays.
      min_value: the lower bound, or ``None`` for none.
      max_value: the upper bound, or ``None`` for none.

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.clip({"a": jnp.array([-2.0, 0.5, 3.0])}, -1.0, 1.0)
      {'a': Array([-1. ,  0.5,  1. ], dtype=float32)}
    """
    return jax.tree.map(lambda x: jnp.clip(x, min_value, max_value), tree)


def where(condition: Any, tree_x: Any, tree_y: Any) -> Any:
    """``tree_x`` where ``condition`` holds, else ``tree_y``, leaf by leaf.

    ``condition`` is either one boolean (a scalar, or an array that
    broadcasts against every leaf), used for all leaves as in optax, or a
    pytree of booleans with the structure of ``tree_x`` (or a prefix of it:
    one boolean per subtree), which optax does not accept. Both work under
    ``jit``: nothing is decided in Python from a traced value.

    Args:
      condition: a boolean (array), or a pytree of them.
      tree_x: the values where the condition is True.
      tree_y: the values elsewhere, a pytree with the structure of ``tree_x``.

    Returns:
      A pytree like ``tree_x``.

    Raises:
      TreeMismatchError: ``tree_y`` (or a condition tree) does not match
        ``tree_x``'s structure.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> x = {"a": jnp.array([1.0]), "b": jnp.array([2.0])}
      >>> y = {"a": jnp.array([-1.0]), "b": jnp.array([-2.0])}
      >>> gradtx.tree.where(jnp.array(False), x, y)
      {'a': Array([-1.], dtype=float32), 'b': Array([-2.], dtype=float32)}
      >>> gradtx.tree.where({"a": True, "b": False}, x, y)
      {'a': Array([1.], dtype=float32), 'b': Array([-2.], dtype=float32)}
    """
    if jax.tree_util.all_leaves([condition]):
        return _pair(lambda x, y: jnp.where(condition, x, y), tree_x, tree_y, "where")
    full = broadcast_prefix(
        condition,
        tree_x,
        names=("condition", "tree_x"),
        hint="a condition tree must have the structure of tree_x, or a prefix of "
        "it (one boolean for a whole subtree).",
        who="where",
    )
    return map_trees(
        lambda x, c, y: jnp.where(c, x, y),
        tree_x,
        full,
        tree_y,
        names=("tree_x", "condition", "tree_y"),
        who="where",
    )


def conj(tree: Any) -> Any:
    """The complex conjugate of every leaf (real leaves unchanged).

    Args:
      tree: a pytree.

    Returns:
      A pytree like ``tree``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.conj({"a": jnp.array([1.0 + 2.0j])})
      {'a': Array([1.-2.j], dtype=complex64)}
    """
    return jax.tree.map(jnp.conj, tree)


def real(tree: Any) -> Any:
    """The real part of every leaf (real leaves unchanged).

    Args:
      tree: a pytree.

    Returns:
      A pytree like ``tree``, with real dtypes.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.real({"a": jnp.array([1.0 + 2.0j])})
      {'a': Array([1.], dtype=float32)}
    """
    return jax.tree.map(jnp.real, tree)
