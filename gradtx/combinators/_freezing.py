"""Frozen parameters: zero updates, and no optimizer state for them."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    GradientTransformationExtraArgs,
    MaskedState,
    Params,
    Updates,
    as_transformation,
    init_empty_state,
    masked,
)
from gradtx.tree import Mask, check_mask, is_mask_fn, resolve_mask

__all__ = ["freeze", "selective_transform", "set_to_zero"]


def set_to_zero() -> GradientTransformation:
    r"""Replaces every update with zeros: :math:`u \leftarrow 0`; no state.

    The zeros keep each update's shape and dtype. Chained last (or inside
    :func:`~gradtx.masked`), it keeps parameters where they are.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.set_to_zero()
      >>> tx.update(jnp.array([1.0, -2.0]), tx.init(jnp.zeros(2)))[0]
      Array([0., 0.], dtype=float32)
    """
    fn = validate.who("set_to_zero")

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        return jax.tree.map(jnp.zeros_like, updates), state

    return GradientTransformation(init_empty_state, update)


def _negate(mask: Mask) -> Mask:
    """The mask that is True where ``mask`` is False (tree or function)."""

    def flip(tree: Any) -> Any:
        return jax.tree.map(lambda m: not m, tree)

    if is_mask_fn(mask):
        return lambda params: flip(resolve_mask(mask, params))
    check_mask(mask)
    return flip(mask)


def freeze(mask: Mask) -> GradientTransformationExtraArgs:
    """Zeroes the updates of the leaves where ``mask`` is True (they are frozen).

    The same as ``masked(set_to_zero(), mask)``: stateless, and as ``optax.freeze``
    it only zeroes updates, so an optimizer chained *before* it still keeps
    state for the frozen leaves. To keep no state for them, wrap the optimizer
    instead: :func:`selective_transform`.

    Args:
      mask: a pytree of Python bools (True: frozen) with the structure of the
        params or a prefix of it, or a function ``params -> such a tree``, as
        in :func:`~gradtx.masked`.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      ``MaskedState(EmptyState())``.

    Raises:
      TypeError: a mask leaf is not a bool.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"a": jnp.ones(2), "b": jnp.ones(2)}
      >>> tx = gradtx.freeze({"a": True, "b": False})
      >>> updates, _ = tx.update(params, tx.init(params))
      >>> updates["a"], updates["b"]
      (Array([0., 0.], dtype=float32), Array([1., 1.], dtype=float32))
    """
    with validate.named("freeze"):
        return masked(set_to_zero(), mask)


def selective_transform(
    optimizer: GradientTransformation, *, freeze_mask: Mask
) -> GradientTransformationExtraArgs:
    """Runs ``optimizer`` on the unfrozen leaves only; frozen ones get zeros.

    The optimizer keeps no state for leaves where ``freeze_mask`` is True (a
    frozen backbone costs no optimizer memory), and their updates are zero.
    The same as ``optax.selective_transform``.

    Args:
      optimizer: the transformation for the trainable leaves.
      freeze_mask: True for frozen leaves; a pytree of Python bools (or a
        prefix of the params), or a function ``params -> such a tree``.

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` whose state is a
      :class:`~gradtx.MaskedState` holding ``optimizer``'s state over the
      unfrozen leaves.

    Raises:
      TypeError: ``optimizer`` is not a transformation, or a mask leaf is not a
        bool.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> params = {"backbone": jnp.ones(3), "head": jnp.ones(2)}
      >>> tx = gradtx.selective_transform(
      ...     gradtx.adam(0.1), freeze_mask={"backbone": True, "head": False}
      ... )
      >>> state = tx.init(params)
      >>> gradtx.tree_get(state, "mu")  # no moments for the frozen backbone
      {'backbone': MaskedNode(), 'head': Array([0., 0.], dtype=float32)}
      >>> updates, _ = tx.update(params, state)
      >>> updates["backbone"]
      Array([0., 0., 0.], dtype=float32)
    """
    optimizer = as_transformation(optimizer, "selective_transform's optimizer")
    with validate.named("selective_transform"):
        inner = masked(optimizer, _negate(freeze_mask))
        zero = freeze(freeze_mask)

    def update(
        updates: Updates, state: Any, params: Params | None = None, **extra: Any
    ) -> tuple[Updates, Any]:
        updates, state = inner.update(updates, state, params, **extra)
        zeroed, _ = zero.update(updates, MaskedState(EmptyState()), params)
        return zeroed, state

    return GradientTransformationExtraArgs(inner.init, update)
