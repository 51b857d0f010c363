"""Trace-time checks of pytrees: updates against params and state, param dtypes.

Every check here runs in Python on static information (tree structure, shapes,
dtypes), so under ``jax.jit`` it runs once, at trace time, and costs nothing
per step. A mismatch names the first leaf path that differs, e.g.
``adam: updates['Dense_0']['bias']: expected float32[64] (as in params), got
float32[32].``
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._caller import error
from gradtx.errors import TreeMismatchError

__all__ = ["mask_tree", "params", "spec", "tree_matches", "updates"]

_GRADS_HINT = (
    "The gradients must have the structure and shapes of the params (compute "
    "them with jax.grad of a function of those params)."
)
_STATE_HINT = (
    "The updates must have the structure, shapes and dtypes of the params given "
    "to init(); if the model changed, call init() again."
)
_INT_PARAM_HINT = (
    "Optimizers only update floating-point (or complex) leaves. Remove the leaf "
    "from the tree you optimize, or leave it untouched with "
    "gradtx.masked(tx, mask) where mask is False for that leaf."
)


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


def tree_matches(
    fn: str,
    got: Any,
    expected: Any,
    *,
    got_name: str,
    expected_name: str,
    dtypes: str = "exact",
    hint: str = "",
) -> None:
    """Raises :class:`~gradtx.TreeMismatchError` unless ``got`` matches ``expected``.

    Args:
      fn: the public function's name.
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
        raise error(TreeMismatchError, fn, f"{msg} {hint}".strip())
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
            text = (
                f"{got_name}{path}: expected {spec(exp_leaves[i])} (as in "
                f"{expected_name}), got {spec(got_leaves[i])}. {hint}"
            )
            raise error(TreeMismatchError, fn, text.strip())


def mask_tree(fn: str, tree: Any) -> None:
    """Raises TypeError unless every leaf of the mask ``tree`` is a Python bool.

    A mask decides which leaves a transformation keeps state for, so it must
    be known when the step is traced: NumPy bools (``numpy.bool_``, a 0-d
    ``numpy`` bool array) are accepted, JAX arrays (which may be traced) are
    not. A function found where a bool should be gets a hint to call it first.
    """
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if not _static_bool(leaf):
            hint = (
                " Call a mask function first: resolve_mask(mask, params)."
                if callable(leaf)
                else ""
            )
            raise error(
                TypeError,
                fn,
                f"mask{jax.tree_util.keystr(path)} is {leaf!r}; mask leaves must be "
                "Python bools (True: transform this leaf), known when the step is "
                f"traced (NumPy bools too), not JAX arrays.{hint}",
            )


def _static_bool(x: Any) -> bool:
    """Whether ``x`` is a bool known without tracing: Python's or NumPy's
    (``numpy.bool_``, or a 0-d ``numpy`` array of dtype bool)."""
    if isinstance(x, bool | np.bool_):
        return True
    return isinstance(x, np.ndarray) and x.shape == () and x.dtype == np.bool_


def params(fn: str, tree: Any, *, name: str = "params") -> None:
    """Raises TypeError if a leaf of ``tree`` is not floating point or complex.

    Integer and boolean leaves (step counters, masks, token ids) cannot take a
    gradient step; optax silently adds float updates to them. ``None`` leaves
    are empty subtrees and are kept as they are.
    """
    leaves = jax.tree.leaves(tree)
    if all(jnp.issubdtype(jnp.result_type(x), jnp.inexact) for x in leaves):
        return
    for path, x in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if not jnp.issubdtype(jnp.result_type(x), jnp.inexact):
            raise error(
                TypeError,
                fn,
                f"{name}{jax.tree_util.keystr(path)} has dtype "
                f"{jnp.result_type(x)} ({spec(x)}): {_INT_PARAM_HINT}",
            )


def updates(
    fn: str,
    tree: Any,
    params_tree: Any = None,
    state_tree: Any = None,
    *,
    name: str = "state",
    dtypes: str = "exact",
    needs_params: str = "",
) -> None:
    """Checks ``update``'s inputs: the updates against the state and the params.

    Args:
      fn: the public function's name.
      tree: the incoming updates.
      params_tree: the params passed to ``update`` (None: not checked).
      state_tree: a per-parameter tree of the state built by ``init`` (e.g.
        ``state.mu``) that the updates must match (None: not checked).
      name: how to name ``state_tree`` (``"scale_by_adam state.nu"``).
      dtypes: how the dtypes of the updates and ``state_tree`` must agree
        (see :func:`tree_matches`); against the params, only their kind.
      needs_params: for an ``update`` that cannot work without the params,
        the end of the message ``"params is None, but {needs_params}"``: why
        it needs them, and how to pass them.

    Raises:
      ValueError: ``params_tree`` is None and ``needs_params`` is given.
      TreeMismatchError: the trees differ; the message names the first leaf
        path, what was expected there and what was found.
      TypeError: a leaf of the params is not floating point or complex.
    """
    if needs_params and params_tree is None:
        raise error(ValueError, fn, f"params is None, but {needs_params}")
    if state_tree is not None:
        tree_matches(
            fn,
            tree,
            state_tree,
            got_name="updates",
            expected_name=name,
            dtypes=dtypes,
            hint=_STATE_HINT,
        )
    if params_tree is not None:
        tree_matches(
            fn,
            tree,
            params_tree,
            got_name="updates",
            expected_name="params",
            dtypes="kind",
            hint=_GRADS_HINT,
        )
        params(fn, params_tree)


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
