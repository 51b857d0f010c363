"""The dtypes of a tree: ``dtype``, ``cast``, ``cast_like`` (optax's, stricter
about complex values)."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from gradtx.tree._common import map_trees, validate

__all__ = ["cast", "cast_like", "dtype"]

_HANDLERS = (None, "promote", "highest", "lowest")


def _astype(who: str, path: tuple[Any, ...], x: Any, dtype: Any) -> Any:
    """``x.astype(dtype)``; refuses to drop an imaginary part silently."""
    if jnp.iscomplexobj(x) and not jnp.issubdtype(dtype, jnp.complexfloating):
        raise validate.error(
            TypeError,
            who,
            f"tree{jax.tree_util.keystr(path)} is {jnp.result_type(x)}; casting it "
            f"to {jnp.dtype(dtype)} would drop its imaginary part. Cast "
            "gradtx.tree.real(tree) (or the magnitudes) instead.",
        )
    return x.astype(dtype) if hasattr(x, "astype") else jnp.asarray(x, dtype)


def cast(tree: Any, dtype: Any) -> Any:
    """Every leaf cast to ``dtype``; ``dtype=None`` returns ``tree`` unchanged.

    Unlike optax (and JAX's deprecated complex-to-real ``astype``), a complex
    leaf cast to a real dtype raises instead of losing its imaginary part.

    Args:
      tree: a pytree of arrays (or numbers).
      dtype: the dtype to cast to, or ``None``.

    Returns:
      A pytree like ``tree``.

    Raises:
      TypeError: a complex leaf would be cast to a real dtype.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.cast({"w": jnp.array([1.5, 2.5])}, jnp.bfloat16)
      {'w': Array([1.5, 2.5], dtype=bfloat16)}
    """
    if dtype is None:
        return tree
    return jax.tree_util.tree_map_with_path(
        lambda p, x: _astype("cast", p, x, dtype), tree
    )


def cast_like(tree: Any, other_tree: Any) -> Any:
    """Every leaf cast to the dtype of the matching leaf of ``other_tree``.

    Leaves of ``other_tree`` without a dtype (Python numbers) leave the
    matching leaf unchanged, as in optax. A complex leaf cast to a real dtype
    raises (see :func:`cast`).

    Args:
      tree: the pytree to cast.
      other_tree: a pytree with the structure of ``tree``.

    Returns:
      A pytree like ``tree``.

    Raises:
      TreeMismatchError: ``other_tree`` lacks ``tree``'s structure.
      TypeError: a complex leaf would be cast to a real dtype.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.cast_like({"w": jnp.array(1.0)},
      ...                       {"w": jnp.array(0, jnp.bfloat16)})
      {'w': Array(1, dtype=bfloat16)}
    """
    return map_trees(
        lambda p, t, o: (
            _astype("cast_like", p, t, o.dtype) if hasattr(o, "dtype") else t
        ),
        tree,
        other_tree,
        names=("tree", "other_tree"),
        with_path=True,
        who="cast_like",
    )


def _ordered(a: Any, b: Any, *, higher: bool) -> Any:
    """The higher (or lower) of two dtypes, when one promotes to the other."""
    joined = jnp.promote_types(a, b)
    if joined not in (a, b):
        raise validate.error(
            ValueError,
            "dtype",
            f"{a} and {b} cannot be ordered: neither promotes to the other (they "
            f"promote to {joined}). Use mixed_dtype_handler='promote'.",
        )
    low, high = (a, b) if joined == b else (b, a)
    return high if higher else low


def dtype(tree: Any, mixed_dtype_handler: str | None = None) -> Any:
    """The dtype of the leaves of ``tree``.

    An empty tree has JAX's default float dtype (float32; float64 with
    ``jax_enable_x64``), as in optax.

    Args:
      tree: a pytree.
      mixed_dtype_handler: what to do when leaves differ in dtype:
        ``None`` raises; ``"promote"`` returns their promoted dtype
        (``jnp.promote_types``); ``"highest"``/``"lowest"`` return the one the
        others promote to / the one that promotes to the others, and raise
        when two dtypes are not ordered that way (float16 and bfloat16).

    Returns:
      A ``numpy.dtype``.

    Raises:
      ValueError: mixed dtypes with ``mixed_dtype_handler=None`` (the message
        names a leaf of each), dtypes that cannot be ordered, or an unknown
        handler.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> tree = {"a": jnp.ones(2, jnp.bfloat16), "b": jnp.ones(2)}
      >>> gradtx.tree.dtype(tree, "highest"), gradtx.tree.dtype(tree, "lowest")
      (dtype('float32'), dtype(bfloat16))
    """
    if mixed_dtype_handler not in _HANDLERS:
        raise validate.error(
            ValueError,
            "dtype",
            f"mixed_dtype_handler must be one of {_HANDLERS}, got "
            f"{mixed_dtype_handler!r}.",
        )
    pairs = jax.tree_util.tree_flatten_with_path(tree)[0]
    if not pairs:
        return jnp.asarray([]).dtype
    dtypes = [jnp.asarray(x).dtype for _, x in pairs]
    if mixed_dtype_handler is None:
        for (path, _), d in zip(pairs, dtypes, strict=True):
            if d != dtypes[0]:
                first = jax.tree_util.keystr(pairs[0][0])
                raise validate.error(
                    ValueError,
                    "dtype",
                    f"tree{jax.tree_util.keystr(path)} is {d} but tree{first} is "
                    f"{dtypes[0]}; pass mixed_dtype_handler='promote', 'highest' or "
                    "'lowest' to get one dtype for a tree of mixed dtypes.",
                )
        return dtypes[0]
    if mixed_dtype_handler == "promote":
        return functools.reduce(jnp.promote_types, dtypes)
    higher = mixed_dtype_handler == "highest"
    return functools.reduce(functools.partial(_ordered, higher=higher), dtypes)
