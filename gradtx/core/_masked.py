"""Composition through a mask: ``masked`` applies a transformation to a subset
of the leaves (the mask helpers are :mod:`gradtx.tree`'s)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from gradtx._internal import validate
from gradtx.core._kit import as_transformation, with_extra_args_support
from gradtx.core._types import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    OptState,
    Params,
    Updates,
)
from gradtx.tree import Mask, apply_mask, check_mask, resolve_mask

__all__ = ["MaskedState", "masked"]


class MaskedState(NamedTuple):
    """State of :func:`masked`."""

    inner_state: Any  # the inner transformation's state, over masked-in leaves


def masked(
    inner: GradientTransformation,
    mask: Mask,
    *,
    mask_compatible_extra_args: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Applies ``inner`` only to the leaves where ``mask`` is True.

    Leaves where the mask is False pass through unchanged, and ``inner`` keeps
    no state for them (so integer leaves, such as step counters, can live in a
    params tree that an optimizer sees, as long as they are masked out).
    ``inner`` sees a :class:`~gradtx.MaskedNode` (a node with no leaves) where
    a masked-out leaf was.

    ``mask`` is either a pytree of Python bools with the structure of the
    params (or a prefix of it: one bool for a whole subtree), or a function
    ``params -> such a tree``. A callable that is itself a pytree (a Flax NNX
    or equinox module, say) is read as a mask tree, never called: only plain
    functions (pytree leaves) are called.

    Args:
      inner: the transformation to apply to the masked-in leaves.
      mask: the mask tree, or a function returning it.
      mask_compatible_extra_args: also mask each extra keyword argument of
        ``update`` whose tree structure is the updates' (per-parameter tags,
        say), as optax's keyword does; other extra arguments pass as they are.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`MaskedState`.

    Raises:
      TypeError: a mask leaf is not a bool.
      TreeMismatchError: the mask's structure is not a prefix of the params'
        (a ``ValueError``; the message names the first path that differs).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"w": jnp.ones(2), "b": jnp.ones(2)}
      >>> tx = gradtx.masked(gradtx.scale(0.0), {"w": True, "b": False})
      >>> updates, _ = tx.update(params, tx.init(params))
      >>> updates["w"], updates["b"]
      (Array([0., 0.], dtype=float32), Array([1., 1.], dtype=float32))
    """
    with validate.named("masked") as fn:  # the mask's errors name the caller
        inner = with_extra_args_support(
            as_transformation(inner, "masked's inner transformation")
        )
        check_mask(mask)

    def init(params: Params) -> MaskedState:
        with validate.named(fn):
            kept = apply_mask(params, resolve_mask(mask, params))
        return MaskedState(inner_state=inner.init(kept))

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
        with validate.named(fn):
            tree = resolve_mask(mask, params if params is not None else updates)
            sub_updates = apply_mask(updates, tree)
            sub_params = None if params is None else apply_mask(params, tree)
            if mask_compatible_extra_args:
                structure: Any = jax.tree.structure(updates)
                extra_args = {
                    k: apply_mask(v, tree) if jax.tree.structure(v) == structure else v
                    for k, v in extra_args.items()
                }
        new_sub, inner_state = inner.update(
            sub_updates, state.inner_state, sub_params, **extra_args
        )
        merged = jax.tree.map(
            lambda m, new, old: new if m else old, tree, new_sub, updates
        )
        return merged, MaskedState(inner_state=inner_state)

    return GradientTransformationExtraArgs(init, update)
