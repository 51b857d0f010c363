"""Read and replace optimizer-state entries by name: ``tree_get`` / ``tree_set``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx.errors import check_tree_matches

__all__ = ["tree_get", "tree_set"]

_MISSING = object()


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _children(node: Any) -> Iterator[tuple[str, Any, Any]]:
    """Yields ``(name, path_suffix, child)`` for the containers state uses."""
    if _is_namedtuple(node):
        for f in node._fields:
            yield f, f".{f}", getattr(node, f)
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k), f"[{k!r}]", v
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            yield str(i), f"[{i}]", v


def _matches(root: Any, name: str, path: str = "") -> list[tuple[str, Any]]:
    """All ``(path, value)`` named ``name`` below ``root`` (not inside a match)."""
    found = []
    for child_name, suffix, child in _children(root):
        child_path = path + suffix
        type_name = type(child).__name__ if _is_namedtuple(child) else None
        if child_name == name or type_name == name:
            found.append((child_path, child))
        else:
            found.extend(_matches(child, name, child_path))
    return found


def _names(root: Any) -> set[str]:
    out = set()
    for child_name, _, child in _children(root):
        if not child_name.isdigit():
            out.add(child_name)
        if _is_namedtuple(child):
            out.add(type(child).__name__)
        out |= _names(child)
    return out


def _find(state: Any, name: str) -> list[tuple[str, Any]]:
    roots: list[tuple[str, Any]] = [("state", state)]
    for part in name.split("/"):
        roots = [(p + sub, v) for p, r in roots for sub, v in _matches(r, part)]
    return roots


def tree_get(state: Any, name: str, default: Any = _MISSING) -> Any:
    """Returns the entry called ``name`` anywhere in a (nested) optimizer state.

    ``name`` is a NamedTuple field (``"count"``, ``"mu"``), a dict key (a
    :func:`~gradtx.named_chain` entry), or a state class name
    (``"ScaleByAdamState"``). Join names with ``/`` to look inside a match:
    ``"adam/count"``.

    Args:
      state: an optimizer state.
      name: what to look for.
      default: returned when nothing matches (without it, a KeyError).

    Returns:
      The matching entry (an array or a subtree).

    Raises:
      KeyError: nothing matches and no default was given (the message lists the
        names that exist), or several entries match (the message lists their
        paths).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.named_chain(("clip", gradtx.clip_by_global_norm(1.0)),
      ...                         ("adam", gradtx.adam(1e-3)))
      >>> state = tx.init({"w": jnp.zeros(3)})
      >>> gradtx.tree_get(state, "adam/mu")["w"]
      Array([0., 0., 0.], dtype=float32)
    """
    found = _find(state, name)
    if len(found) == 1:
        return found[0][1]
    if not found:
        if default is not _MISSING:
            return default
        raise KeyError(
            f"no entry {name!r} in the state; names present: {sorted(_names(state))}."
        )
    paths = ", ".join(p for p, _ in found)
    raise KeyError(
        f"{name!r} matches {len(found)} entries: {paths}. Narrow it with a path "
        "such as 'ScaleByAdamState/count', or name the parts with named_chain."
    )


def _replacement(path: str, old: Any, new: Any) -> Any:
    old_leaves = jax.tree.leaves(old)
    if jax.tree_util.treedef_is_leaf(jax.tree.structure(old)) and old_leaves:
        arr = jnp.asarray(new, dtype=jnp.result_type(old))
        if arr.shape != np.shape(old):
            raise ValueError(
                f"{path}: the new value has shape {arr.shape}, the old one "
                f"{np.shape(old)}; keep the shape so the step does not recompile."
            )
        if getattr(old, "committed", False):
            # On the old value's device(s) and committed like it: a jitted step
            # sees the same input and does not recompile.
            arr = jax.device_put(arr, old.sharding)
        return arr
    check_tree_matches(
        new, old, got_name=f"new {path}", expected_name=path, dtypes="exact"
    )
    return new


def _set(node: Any, targets: dict[str, Any], path: str) -> Any:
    if path in targets:
        return _replacement(path, node, targets[path])
    items = [(s, c) for _, s, c in _children(node)]
    if not items:
        return node
    new = [_set(c, targets, path + s) for s, c in items]
    if _is_namedtuple(node):
        return type(node)(*new)
    if isinstance(node, dict):
        return type(node)(zip(node.keys(), new, strict=True))
    return type(node)(new)


def tree_set(state: Any, **values: Any) -> Any:
    """Returns a copy of ``state`` with the named entries replaced.

    Every entry that :func:`tree_get` would find under each name is replaced
    (so ``count=0`` resets every counter). An array keeps its dtype and its
    sharding (devices) and must keep its shape; a subtree must keep its
    structure, shapes and dtypes, so the training step does not recompile.
    The input is not modified.

    Args:
      state: an optimizer state.
      **values: ``name=new_value``; use ``**{"adam/count": 0}`` for paths.

    Returns:
      The new state.

    Raises:
      KeyError: a name matches nothing (the message lists the names present).
      ValueError: a new value has another shape or structure than the old one.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adam(1e-3)
      >>> state = gradtx.tree_set(tx.init(jnp.zeros(2)), count=10)
      >>> gradtx.tree_get(state, "count")
      Array(10, dtype=int32)
    """
    targets: dict[str, Any] = {}
    for name, value in values.items():
        found = _find(state, name)
        if not found:
            raise KeyError(
                f"no entry {name!r} in the state; names present: "
                f"{sorted(_names(state))}."
            )
        targets.update({p: value for p, _ in found})
    return _set(state, targets, "state")
