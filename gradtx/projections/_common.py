"""Tree helpers shared by the projections: leaf checks, inner products, scaling."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["real_tree", "same_layout", "scaled", "tree_size", "vdot"]


def real_tree(fn: str, name: str, tree: Any) -> Any:
    """``tree`` with every leaf as a JAX array of a real floating dtype.

    Integer leaves would be projected and then truncated back to integers
    (a point off the set, silently); complex leaves have no order or simplex.

    Raises:
      TypeError: a leaf is not a real floating array; the message names its
        path, e.g. ``tree['w'] has dtype int32``.
    """
    paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    leaves = []
    for path, leaf in paths_leaves:
        where = f"{name}{jax.tree_util.keystr(path)}"
        x = validate.as_array(fn, where, leaf)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise validate.error(
                TypeError,
                fn,
                f"{where} has dtype {x.dtype}; projections need real floating "
                f"leaves, e.g. {where}.astype(jnp.float32).",
            )
        leaves.append(x)
    return jax.tree.unflatten(treedef, leaves)


def same_layout(fn: str, name: str, tree: Any, like: Any, like_name: str) -> None:
    """Raises ValueError unless ``tree`` has the structure and shapes of ``like``."""
    validate.tree_matches(
        fn, tree, like, got_name=name, expected_name=like_name, dtypes="ignore"
    )


def _acc(x: jax.Array) -> jax.Array:
    """``x`` in a dtype of at least float32, to accumulate sums in."""
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def vdot(a: Any, b: Any) -> jax.Array:
    """:math:`\\langle a, b \\rangle`, summed over the leaves of two like trees."""
    terms = [
        jnp.vdot(_acc(x), _acc(y))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    ]
    return sum(terms, start=jnp.zeros((), jnp.float32))


def tree_size(tree: Any) -> int:
    """The number of scalars in ``tree``."""
    return sum(int(x.size) for x in jax.tree.leaves(tree))


def scaled(factor: Any, tree: Any) -> Any:
    """``factor * leaf`` for every leaf, each kept in its own dtype."""
    return jax.tree.map(lambda x: (factor * x).astype(x.dtype), tree)
