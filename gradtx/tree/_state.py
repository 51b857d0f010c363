"""Reading and replacing optimizer-state entries by name: ``tree_get`` and
``tree_set``, which are ``gradtx.tree.get`` and ``gradtx.tree.set``.

They differ from ``optax.tree.get`` / ``optax.tree.set``:

- a name may be a path, ``"adam/count"``, to look inside a match (a
  :func:`~gradtx.named_chain` entry, a state class name, a field), where
  optax takes one key and an optional ``filtering(path, value)`` function;
- ``get`` raises a KeyError listing the names present when nothing matches
  and no ``default`` is given (optax returns ``default=None``), and one
  listing the matching paths when several match (optax: a KeyError too);
- ``set`` keeps each entry's dtype, shape and sharding and checks the new
  values (a step counter must be a whole number in range, floats finite), so
  a jitted step does not recompile and no wrong hyperparameter slips in;
  optax stores the new value as given (``count=2.0`` becomes a float).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx.tree._common import validate

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


def _is_tracer(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_value(path: str, old: Any, new: Any) -> None:
    """Refuses a concrete ``new`` that ``old``'s dtype would silently change.

    Integer entries of optimizer states are step counters: a new one must be a
    whole number in ``[0, max of the dtype]`` (``2.7`` would be truncated, a
    negative count restarts bias corrections from the wrong end). Floating
    entries must be finite (a NaN or inf moment makes every later update NaN)
    and real for real entries (the imaginary part would be dropped). Values
    that are tracers (inside ``jit``/``vmap``) cannot be checked.
    """
    if _is_tracer(new):
        return
    dtype = jnp.result_type(old)
    if isinstance(new, str) or new is None:
        raise TypeError(f"tree_set: {path} must be a number or an array, got {new!r}.")
    try:
        arr = new if isinstance(new, jax.Array) else np.asarray(new)
    except Exception:
        raise TypeError(
            f"tree_set: {path} must be a number or an array, got {new!r}."
        ) from None
    kind = np.dtype(arr.dtype).kind
    if kind not in "biufc":
        raise TypeError(f"tree_set: {path} must be a number or an array, got {new!r}.")
    shown = f"{new!r}" if np.size(arr) == 1 else f"an array of {arr.dtype}"
    if dtype == jnp.bool_:
        if kind != "b":
            raise TypeError(f"tree_set: {path} is a bool entry; got {shown}.")
        return
    if kind == "b":
        raise TypeError(f"tree_set: {path} holds {dtype} values; got the bool {shown}.")
    if kind == "c" and not jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(
            f"tree_set: {path} holds real {dtype} values; got {shown}, whose "
            "imaginary part would be dropped."
        )
    if np.size(arr) == 0:
        return
    with jax.ensure_compile_time_eval():  # concrete, also inside a jit trace
        _check_range(path, dtype, arr, shown)


def _check_range(path: str, dtype: Any, arr: Any, shown: str) -> None:
    if not bool(jnp.all(jnp.isfinite(arr))):
        raise ValueError(
            f"tree_set: {path} must be finite, got {shown}: a NaN or inf in the "
            "state makes every later update NaN."
        )
    if jnp.issubdtype(dtype, jnp.integer):
        top = jnp.iinfo(dtype).max
        whole = bool(jnp.all(jnp.round(arr) == arr))
        low, high = jnp.min(arr), jnp.max(arr)
        if not whole or low < 0 or high > top:
            raise ValueError(
                f"tree_set: {path} is a step counter ({dtype}); it must be a whole "
                f"number in [0, {top}], got {shown}."
            )


def _replacement(path: str, old: Any, new: Any) -> Any:
    old_leaves = jax.tree.leaves(old)
    if jax.tree_util.treedef_is_leaf(jax.tree.structure(old)) and old_leaves:
        _check_value(path, old, new)
        arr = jnp.asarray(new, dtype=jnp.result_type(old))
        if arr.shape != np.shape(old):
            raise validate.error(
                ValueError,
                "tree_set",
                f"{path}: the new value has shape {arr.shape}, the old one "
                f"{np.shape(old)}; keep the shape so the step does not recompile.",
            )
        if (
            isinstance(old, jax.Array)
            and not _is_tracer(old)
            and not _is_tracer(arr)
            and old.committed
        ):
            # On the old value's device(s) and committed like it: a jitted step
            # sees the same input and does not recompile.
            arr = jax.device_put(arr, old.sharding)
        return arr
    validate.tree_matches(
        "tree_set", new, old, got_name=f"new {path}", expected_name=path
    )
    flat_new = jax.tree_util.tree_flatten_with_path(new)[0]
    for (keys, n), o in zip(flat_new, jax.tree.leaves(old), strict=True):
        _check_value(path + jax.tree_util.keystr(keys), o, n)
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
        replace = getattr(node, "checked_replace", None)
        if replace is not None:  # a dict that checks its entries (hyperparams)
            changed, given = {}, {}
            for v, (k, s, _) in zip(new, _children(node), strict=True):
                if path + s in targets:
                    changed[k], given[k] = v, targets[path + s]
            return replace(changed, given) if changed else node
        return type(node)(zip(node.keys(), new, strict=True))
    return type(node)(new)


def tree_set(state: Any, **values: Any) -> Any:
    """Returns a copy of ``state`` with the named entries replaced.

    Every entry that :func:`tree_get` would find under each name is replaced
    (so ``count=0`` resets every counter). An array keeps its dtype and its
    sharding (devices) and must keep its shape; a subtree must keep its
    structure, shapes and dtypes, so the training step does not recompile.
    The input is not modified. It works eagerly, inside ``jax.jit`` and under
    ``jax.vmap`` (e.g. one learning rate per vmapped run).

    New values are checked as the constructor checks its arguments, for every
    value that is concrete (a Python number or a concrete array, also inside
    ``jit``):

    * a hyperparameter of :func:`~gradtx.inject_hyperparams` must be one its
      factory accepts (``b1=1.5`` or ``learning_rate=-1`` raise the factory's
      own ValueError), and one that is a schedule cannot be set (the next step
      would overwrite it; the message says how to change a schedule);
    * a step counter must be a whole number in ``[0, max]`` of its dtype;
    * floating entries must be finite, and real entries real.

    A value that is a tracer (computed inside ``jit`` or ``vmap``) cannot be
    checked without a host round trip and is stored as it is: check it before
    it enters the trace.

    Args:
      state: an optimizer state.
      **values: ``name=new_value``; use ``**{"adam/count": 0}`` for paths.

    Returns:
      The new state.

    Raises:
      KeyError: a name matches nothing (the message lists the names present).
      ValueError: a new value has another shape or structure than the old one,
        is out of its range, or sets a scheduled hyperparameter.
      TypeError: a new value is not a number or array of a fitting kind.

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
