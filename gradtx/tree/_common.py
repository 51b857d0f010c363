"""What the ``gradtx.tree`` modules share (private): mapping several trees with
an error that names the first path where they differ, and the dtype rules of
the reductions and moments.

Only this module imports gradtx's private numerics helpers (from the floor,
``gradtx._internal``), so moving them changes one import. Messages are made
with ``validate.error``: they start with the name of the function the user
called (the outermost ``validate.named`` caller, e.g. ``masked``, else the
``gradtx.tree`` function itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import (
    abs_sq,
    bias_correction,
    real_dtype,
    reduce_leaves,
)
from gradtx.errors import TreeMismatchError

__all__ = [
    "abs_sq",
    "accumulation_dtype",
    "bias_correction",
    "broadcast_prefix",
    "is_none",
    "map_trees",
    "real_dtype",
    "reduce_leaves",
    "up",
    "validate",
]

KeyPath = tuple[Any, ...]
IsLeaf = Callable[[Any], bool] | None


def is_none(x: Any) -> bool:
    """``is_leaf`` for maps that keep ``None`` leaves as ``None`` (optax's)."""
    return x is None


def accumulation_dtype(dtype: Any) -> Any:
    """The dtype gradtx sums ``dtype`` values in: at least float32 when inexact.

    float16/bfloat16 become float32 (complex stays complex, float64 stays);
    integer and bool dtypes are returned unchanged (summed exactly).
    """
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.promote_types(dtype, jnp.float32)
    return dtype


def up(x: Any) -> jax.Array:
    """``x`` as an array in at least float32 (integers become float32 too)."""
    return numerics.up(jnp.asarray(x))


def map_trees(
    fn: Callable[..., Any],
    tree: Any,
    *rest: Any,
    names: Sequence[str],
    is_leaf: IsLeaf = None,
    with_path: bool = False,
    prefix: bool = False,
    who: str,
    hint: str | None = None,
) -> Any:
    """``jax.tree.map(fn, tree, *rest, is_leaf=is_leaf)``, with a clear error.

    Each tree of ``rest`` must have ``tree``'s structure: a leaf wherever
    ``tree`` has one, except where ``is_leaf`` holds for ``tree``'s leaf (a
    ``None`` of ``tree`` with :func:`is_none` faces anything). With
    ``prefix``, as in ``jax.tree.map``, a leaf of ``tree`` may also face a
    subtree. Otherwise a :class:`~gradtx.TreeMismatchError` names the first
    path where they differ, using ``names`` (one per tree) and ``hint``
    (default: "<name> must have the structure of <first name>."), said by
    ``who``. With ``with_path``, ``fn`` gets the leaf's key path first.
    """
    if with_path:
        pairs, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
        first = [leaf for _, leaf in pairs]
    else:
        first, treedef = jax.tree.flatten(tree, is_leaf=is_leaf)
    columns: list[list[Any]] = [first]
    for name, other in zip(names[1:], rest, strict=True):
        cause: Exception | None = None
        try:
            column = treedef.flatten_up_to(other)  # type: ignore[attr-defined]
        except (ValueError, TypeError) as e:
            cause = e
        # Without ``prefix``, a leaf must also face a leaf, not a subtree.
        if cause is not None or not (
            prefix
            or jax.tree_util.all_leaves(column)
            or all(
                _is_leaf_node(o) or (is_leaf is not None and is_leaf(f))
                for f, o in zip(first, column, strict=True)
            )
        ):
            raise mismatch_error(
                tree,
                other,
                names[0],
                name,
                is_leaf=is_leaf,
                exact=not prefix,
                hint=hint or f"{name} must have the structure of {names[0]}.",
                who=who,
            ) from cause
        columns.append(column)
    if with_path:
        paths = [p for p, _ in pairs]
        results = [
            fn(p, *xs) for p, xs in zip(paths, zip(*columns, strict=True), strict=True)
        ]
    else:
        results = [fn(*xs) for xs in zip(*columns, strict=True)]
    return jax.tree.unflatten(treedef, results)


def broadcast_prefix(
    prefix: Any,
    tree: Any,
    *,
    names: Sequence[str],
    hint: str,
    who: str,
    is_leaf: IsLeaf = None,
) -> Any:
    """``prefix`` with each leaf repeated over the subtree of ``tree`` it covers.

    The result has ``tree``'s structure. Raises :class:`~gradtx.TreeMismatchError`
    (with ``hint``) when ``prefix``'s structure is not a prefix of ``tree``'s.
    """
    leaves, treedef = jax.tree.flatten(prefix, is_leaf=is_leaf)
    try:
        subtrees = treedef.flatten_up_to(tree)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as e:
        raise mismatch_error(
            prefix, tree, names[0], names[1], is_leaf=is_leaf, hint=hint, who=who
        ) from e
    expanded = [
        jax.tree.map(lambda _, p=p: p, sub)
        for p, sub in zip(leaves, subtrees, strict=True)
    ]
    return jax.tree.unflatten(treedef, expanded)


# --- Messages -----------------------------------------------------------------


def _is_leaf_node(x: Any, is_leaf: IsLeaf = None) -> bool:
    """Whether ``x`` is a leaf (not ``None``, not an empty container)."""
    if is_leaf is not None and is_leaf(x):
        return True
    return jax.tree_util.all_leaves([x])


def _children(node: Any) -> list[tuple[Any, Any]]:
    """``(key, child)`` one level below a pytree node (``None`` children too)."""
    pairs = jax.tree_util.tree_flatten_with_path(node, is_leaf=lambda y: y is not node)
    return [(path[0], child) for path, child in pairs[0]]


def describe(x: Any) -> str:
    """``float32[3]`` for an array, ``dict(['a'], ['b'])`` for a node."""
    if x is None:
        return "None"
    if _is_leaf_node(x):
        shape = getattr(x, "shape", None)
        dtype = getattr(x, "dtype", None)
        if shape is None or dtype is None:
            if callable(x):
                return f"the function {getattr(x, '__name__', repr(x))}"
            return f"{type(x).__name__} {x!r}"
        return f"{np.dtype(dtype).name}[{','.join(str(d) for d in shape)}]"
    keys = ", ".join(jax.tree_util.keystr((k,)) for k, _ in _children(x))
    return f"{type(x).__name__}({keys})"


def _first_difference(
    prefix: Any, full: Any, path: KeyPath, is_leaf: IsLeaf, exact: bool
) -> KeyPath | None:
    """The first path where ``full`` lacks the structure ``prefix`` has there
    (with ``exact``, a leaf of ``prefix`` must face a leaf)."""
    if is_leaf is not None and is_leaf(prefix):
        return None  # faces anything
    if _is_leaf_node(prefix):
        return path if exact and not _is_leaf_node(full) else None
    if prefix is None:
        return None if full is None else path
    if full is None or _is_leaf_node(full) or type(prefix) is not type(full):
        return path
    mine, theirs = _children(prefix), _children(full)
    if [k for k, _ in mine] != [k for k, _ in theirs]:
        return path
    for (k, a), (_, b) in zip(mine, theirs, strict=True):
        found = _first_difference(a, b, (*path, k), is_leaf, exact)
        if found is not None:
            return found
    return None


def _at(tree: Any, path: KeyPath) -> Any:
    for key in path:
        tree = dict(_children(tree))[key]
    return tree


def mismatch_error(
    prefix: Any,
    full: Any,
    prefix_name: str,
    full_name: str,
    *,
    is_leaf: IsLeaf = None,
    exact: bool = False,
    hint: str,
    who: str,
) -> TreeMismatchError:
    """A :class:`~gradtx.TreeMismatchError` naming the first differing path,
    said by ``who`` (see ``validate.error``)."""
    path = _first_difference(prefix, full, (), is_leaf, exact)
    if path is None:  # e.g. nodes of one type whose metadata differ
        return validate.error(
            TreeMismatchError,
            who,
            f"{full_name} does not have the structure of {prefix_name}: {hint}\n"
            f"  {prefix_name}: {jax.tree.structure(prefix, is_leaf=is_leaf)}\n"
            f"  {full_name}: {jax.tree.structure(full)}",
        )
    where = jax.tree_util.keystr(path)
    return validate.error(
        TreeMismatchError,
        who,
        f"{prefix_name}{where} is {describe(_at(prefix, path))} but "
        f"{full_name}{where} is {describe(_at(full, path))}: {hint}",
    )
