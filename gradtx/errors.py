"""Exceptions raised by gradtx, and the trace-time tree checks that raise them.

Every check here runs in Python on static information (tree structure, shapes,
dtypes), so under ``jax.jit`` it runs once, at trace time, and costs nothing
per step.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["TreeMismatchError", "check_params", "check_tree_matches"]


class TreeMismatchError(ValueError):
    """Two pytrees that must match (updates, params, optimizer state) do not.

    The message names the first leaf path that differs, what was expected and
    what was found, e.g.
    ``updates['Dense_0']['bias']: expected float32[64], got float32[32]``.
    It subclasses :class:`ValueError`, so ``except ValueError`` catches it.
    """


def spec(x: Any) -> str:
    """Returns ``x``'s dtype and shape the way JAX prints them: ``float32[3,4]``."""
    if x is None:
        return "None"
    dtype = getattr(x, "dtype", None)
    shape = getattr(x, "shape", None)
    if dtype is None or shape is None:
        arr = np.asarray(x)
        dtype, shape = arr.dtype, arr.shape
    return f"{np.dtype(dtype).name}[{','.join(str(d) for d in shape)}]"


def _paths(tree: Any) -> list[tuple[Any, ...]]:
    return [p for p, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _leaves_meta(leaves: list[Any]) -> list[tuple[tuple[int, ...], Any]]:
    return [(tuple(np.shape(x)), jnp.result_type(x)) for x in leaves]


def _structure_message(
    got: Any, expected: Any, got_name: str, expected_name: str
) -> str:
    got_paths, exp_paths = _paths(got), _paths(expected)
    exp_set, got_set = set(exp_paths), set(got_paths)
    for p in exp_paths:
        if p not in got_set:
            return (
                f"{got_name}{jax.tree_util.keystr(p)} is missing: it is a leaf of "
                f"{expected_name} but not of {got_name}."
            )
    for p in got_paths:
        if p not in exp_set:
            return (
                f"{got_name}{jax.tree_util.keystr(p)} is unexpected: it is a leaf "
                f"of {got_name} but not of {expected_name}."
            )
    return (
        f"{got_name} has the same leaf paths as {expected_name} but another "
        f"container structure:\n  {got_name}: {jax.tree.structure(got)}\n"
        f"  {expected_name}: {jax.tree.structure(expected)}"
    )


def check_tree_matches(
    got: Any,
    expected: Any,
    *,
    got_name: str,
    expected_name: str,
    dtypes: str = "exact",
    hint: str = "",
) -> None:
    """Raises :class:`TreeMismatchError` unless ``got`` matches ``expected``.

    Args:
      got: the tree the user passed (e.g. the updates).
      expected: the tree it must match (e.g. the params, or a state moment).
      got_name: how to name ``got`` in the message (``"updates"``).
      expected_name: how to name ``expected`` in the message.
      dtypes: ``"exact"`` (dtypes equal), ``"real"`` (``expected`` holds the
        real dtype of ``got``, as second moments of complex leaves do),
        ``"kind"`` (both floating, or both complex) or ``"ignore"``.
      hint: a sentence appended to the message, saying how to fix it.
    """
    got_leaves, got_def = jax.tree.flatten(got)
    exp_leaves, exp_def = jax.tree.flatten(expected)
    if got_def != exp_def:  # type: ignore[operator]
        msg = _structure_message(got, expected, got_name, expected_name)
        raise TreeMismatchError(f"{msg} {hint}".strip())
    got_meta, exp_meta = _leaves_meta(got_leaves), _leaves_meta(exp_leaves)
    if dtypes == "exact" and got_meta == exp_meta:
        return
    for i, ((gs, gd), (es, ed)) in enumerate(zip(got_meta, exp_meta, strict=True)):
        ok_dtype = {
            "exact": gd == ed,
            "real": _real(gd) == ed,
            "kind": _kind(gd) == _kind(ed),
            "ignore": True,
        }[dtypes]
        if gs != es or not ok_dtype:
            path = jax.tree_util.keystr(_paths(got)[i])
            want = spec(exp_leaves[i])
            raise TreeMismatchError(
                f"{got_name}{path}: expected {want} (as in {expected_name}), got "
                f"{spec(got_leaves[i])}. {hint}".strip()
            )


def _real(dtype: Any) -> Any:
    return (
        jnp.finfo(dtype).dtype if jnp.issubdtype(dtype, jnp.complexfloating) else dtype
    )


def _kind(dtype: Any) -> str:
    if jnp.issubdtype(dtype, jnp.complexfloating):
        return "complex"
    if jnp.issubdtype(dtype, jnp.floating):
        return "float"
    return np.dtype(dtype).name


_INT_PARAM_HINT = (
    "Optimizers only update floating-point (or complex) leaves. Remove the leaf "
    "from the tree you optimize, or leave it untouched with "
    "gradtx.masked(tx, mask) where mask is False for that leaf."
)


def check_params(params: Any, *, name: str = "params") -> None:
    """Raises TypeError if a leaf of ``params`` is not floating point or complex.

    Integer and boolean leaves (step counters, masks, token ids) cannot take a
    gradient step; optax silently adds float updates to them. ``None`` leaves
    are empty subtrees and are kept as they are.
    """
    leaves = jax.tree.leaves(params)
    if all(jnp.issubdtype(jnp.result_type(x), jnp.inexact) for x in leaves):
        return
    for path, x in jax.tree_util.tree_flatten_with_path(params)[0]:
        if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
            raise TypeError(
                f"{name}{jax.tree_util.keystr(path)} has dtype "
                f"{jnp.result_type(x)} ({spec(x)}): {_INT_PARAM_HINT}"
            )
