"""``masked``: apply a transformation to a subset of the parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

from gradtx._internal import validate
from gradtx.core import (
    GradientTransformation,
    OptState,
    Params,
    Updates,
    as_transformation,
    with_extra_args_support,
)

__all__ = ["MaskedNode", "MaskedState", "masked"]


class MaskedNode(NamedTuple):
    """Stands for a masked-out subtree: a pytree node with no leaves.

    The inner transformation of :func:`masked` sees a ``MaskedNode()`` where a
    masked-out leaf was, so it keeps no state for it.
    """


class MaskedState(NamedTuple):
    """State of :func:`masked`."""

    inner_state: Any  # the inner transformation's state, over masked-in leaves


Mask = Any | Callable[[Params], Any]


def _is_mask_fn(mask: Any) -> bool:
    # A function is a pytree leaf; a module or other registered pytree that
    # happens to be callable is not, so it is read as a mask tree.
    return callable(mask) and jax.tree_util.treedef_is_leaf(jax.tree.structure(mask))


def _resolve(fn: str, mask: Mask, params: Params) -> Any:
    """The mask tree (``mask`` called on ``params`` if it is a function), checked."""
    tree = mask(params) if _is_mask_fn(mask) else mask
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        if not isinstance(leaf, bool | np.bool_):
            raise validate.error(
                TypeError,
                fn,
                f"mask{jax.tree_util.keystr(path)} is {leaf!r}; mask leaves must be "
                "Python bools (True: transform this leaf), known when the step is "
                "traced, not arrays.",
            )
    return tree


def _select(fn: str, mask_tree: Any, tree: Any, keep: bool, what: str) -> Any:
    """``tree`` with every subtree whose mask is not ``keep`` made a MaskedNode."""

    def pick(m: bool, sub: Any) -> Any:
        if bool(m) == keep:
            return sub
        return jax.tree.map(lambda _: MaskedNode(), sub)

    try:
        return jax.tree.map(pick, mask_tree, tree)
    except ValueError as e:
        raise validate.error(
            ValueError,
            fn,
            f"mask must be a pytree of bools with the structure of the {what} (or "
            f"a prefix of it).\n  mask: {jax.tree.structure(mask_tree)}\n"
            f"  {what}: {jax.tree.structure(tree)}",
        ) from e


def masked(inner: GradientTransformation, mask: Mask) -> GradientTransformation:
    r"""Applies ``inner`` only to the leaves where ``mask`` is True.

    Leaves where the mask is False pass through unchanged, and ``inner`` keeps
    no state for them (so integer leaves, such as step counters, can live in a
    params tree that an optimizer sees, as long as they are masked out).

    ``mask`` is either a pytree of Python bools with the structure of the
    params (or a prefix of it: one bool for a whole subtree), or a function
    ``params -> such a tree``. A callable that is itself a pytree (a Flax NNX
    or equinox module, say) is read as a mask tree, never called: only plain
    functions (pytree leaves) are called.

    Args:
      inner: the transformation to apply to the masked-in leaves.
      mask: the mask tree, or a function returning it.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`MaskedState`.

    Raises:
      TypeError: a mask leaf is not a bool.
      ValueError: the mask's structure is not a prefix of the params'.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
      >>> tx = gradtx.masked(gradtx.scale(0.0), {"w": True, "b": False})
      >>> updates, _ = tx.update(params, tx.init(params))
      >>> updates["w"], updates["b"]
      (Array([0., 0.], dtype=float32), Array([1., 1.], dtype=float32))
    """
    fn = validate.who("masked")
    inner = with_extra_args_support(
        as_transformation(inner, "masked's inner transformation")
    )
    if not _is_mask_fn(mask):
        _resolve(fn, mask, None)

    def init(params: Params) -> MaskedState:
        tree = _resolve(fn, mask, params)
        return MaskedState(
            inner_state=inner.init(_select(fn, tree, params, True, "params"))
        )

    def update(
        updates: Updates,
        state: MaskedState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, OptState]:
        # The masked-off leaves never reach ``inner``: check them here (their
        # shapes; integer leaves may be masked out, so not validate.params).
        if params is not None:
            validate.tree_matches(
                fn,
                updates,
                params,
                got_name="updates",
                expected_name="params",
                dtypes="kind",
            )
        tree = _resolve(fn, mask, params if params is not None else updates)
        sub_updates = _select(fn, tree, updates, True, "updates")
        sub_params = (
            None if params is None else _select(fn, tree, params, True, "params")
        )
        new_sub, inner_state = inner.update(
            sub_updates, state.inner_state, sub_params, **extra_args
        )
        merged = jax.tree.map(
            lambda m, new, old: new if m else old, tree, new_sub, updates
        )
        return merged, MaskedState(inner_state=inner_state)

    return GradientTransformation(init, update)
