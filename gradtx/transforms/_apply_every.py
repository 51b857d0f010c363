"""``apply_every``: sum the updates of ``k`` steps and emit them at the last."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import (
    COUNT_DTYPE,
    leafwise,
    safe_increment,
    zero_count,
    zeros_like,
)
from gradtx.core import GradientTransformation, Params, Updates

__all__ = ["ApplyEvery", "apply_every"]


class ApplyEvery(NamedTuple):
    """State of :func:`apply_every` (optax's name and field names)."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps into the period, in [0, k)
    grad_acc: Any  # a tree like the params: the sum of this period's updates


def _leaf(
    u: jax.Array, acc: jax.Array, first: jax.Array, emit: jax.Array
) -> tuple[jax.Array, jax.Array]:
    new = jnp.where(first, u, acc + u).astype(acc.dtype)
    return jnp.where(emit, new, jnp.zeros_like(new)).astype(u.dtype), new


def apply_every(k: int = 1) -> GradientTransformation:
    r"""Sums the updates of ``k`` steps; emits the sum every ``k``-th step, else 0.

    .. math::
       a_t = \sum_{s = k\lfloor (t-1)/k \rfloor + 1}^{t} u_s, \qquad
       u_t \leftarrow \begin{cases} a_t & t \equiv 0 \pmod k \\
       0 & \text{otherwise} \end{cases}

    with steps counted from :math:`t = 1`. Transformations before it in a
    chain still update their state every step, so this is not the same as a
    ``k`` times larger batch: for that, use :class:`~gradtx.MultiSteps`. A
    NaN or inf in one period does not leak into the zeros emitted in the
    next (optax multiplies by 0 and would emit NaN there).

    Args:
      k: the period, an int >= 1.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`ApplyEvery`.

    Raises:
      ValueError: ``k`` is not an int >= 1.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.apply_every(k=2)
      >>> state = tx.init(jnp.zeros(1))
      >>> u1, state = tx.update(jnp.array([1.0]), state)
      >>> u2, state = tx.update(jnp.array([2.0]), state)
      >>> u1, u2
      (Array([0.], dtype=float32), Array([3.], dtype=float32))
    """
    fn = validate.who("apply_every")
    validate.integer(fn, "k", k, low=1, meaning="the number of steps to sum")

    def init(params: Params) -> ApplyEvery:
        validate.params(fn, params)
        return ApplyEvery(count=zero_count(), grad_acc=zeros_like(params))

    def update(
        updates: Updates, state: ApplyEvery, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ApplyEvery]:
        validate.updates(
            fn, updates, params, state.grad_acc, name="apply_every state.grad_acc"
        )
        first = state.count == 0
        emit = state.count == k - 1

        out, acc = leafwise(
            _leaf, updates, state.grad_acc, scalars=(first, emit), outputs=2
        )
        count = (safe_increment(state.count) % k).astype(COUNT_DTYPE)
        return out, ApplyEvery(count=count, grad_acc=acc)

    return GradientTransformation(init, update)
