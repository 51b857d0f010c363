"""Weight decay (coupled L2 or decoupled) and the loss-side L2 penalty."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import leafwise, safe_increment, zero_count
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    masked,
)
from gradtx.schedules import ScalarOrSchedule
from gradtx.tree import Mask, apply_mask, norm, resolve_mask

__all__ = ["AddDecayedWeightsState", "add_decayed_weights", "l2_penalty"]

_NEEDS_PARAMS = (
    "add_decayed_weights needs the params: call tx.update(grads, state, params)."
)


class AddDecayedWeightsState(NamedTuple):
    """State of :func:`add_decayed_weights` with a scheduled weight decay."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)


def add_decayed_weights(
    weight_decay: ScalarOrSchedule = 0.0, mask: Mask | None = None
) -> GradientTransformation:
    r"""Adds the params, scaled by the weight decay, to the updates.

    .. math:: u_t \leftarrow u_t + \lambda_t\, \theta_{t-1}

    Where it stands in a chain decides what it means:

    - **before** an adaptive scaling (e.g. ``chain(add_decayed_weights(λ),
      scale_by_adam(), scale_by_learning_rate(η))``) it is *coupled* L2
      regularization: :math:`\lambda\theta` is the gradient of
      :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`, so this equals training on
      ``loss + λ * l2_penalty(params)`` and the decay is rescaled by Adam's
      denominator;
    - **after** it and before the learning rate (as in :func:`gradtx.adamw`) it
      is *decoupled* weight decay (Loshchilov & Hutter 2019): every weight
      shrinks by :math:`\eta_t\lambda` per step, whatever its gradient history.

    Args:
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: where to decay (see :func:`gradtx.masked`): a pytree of bools like
        the params, or a function ``params -> such a tree``. ``None``: all.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: ``weight_decay`` is negative or not finite (a schedule's
        value: when the step count is concrete), a schedule returns a
        non-scalar (at trace time), or ``update`` gets no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.add_decayed_weights(0.1)
      >>> params = jnp.array([1.0, -2.0])
      >>> tx.update(jnp.zeros(2), tx.init(params), params)[0]
      Array([ 0.1, -0.2], dtype=float32)

    References:
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
      https://arxiv.org/abs/1711.05101
    """
    fn = validate.who("add_decayed_weights")
    validate.number(fn, "weight_decay", weight_decay, low=0.0, allow_schedule=True)
    scheduled = callable(weight_decay)

    def init(params: Params) -> AddDecayedWeightsState | EmptyState:
        validate.params(fn, params)
        return AddDecayedWeightsState(count=zero_count()) if scheduled else EmptyState()

    def update(
        updates: Updates,
        state: AddDecayedWeightsState | EmptyState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, AddDecayedWeightsState | EmptyState]:
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        wd: Any
        if isinstance(state, AddDecayedWeightsState):
            wd = validate.scheduled_value(
                fn, "weight_decay", weight_decay, state.count, low=0.0
            )
            state = AddDecayedWeightsState(count=safe_increment(state.count))
        else:
            wd = weight_decay
        updates = leafwise(_decay_leaf, updates, params, scalars=(wd,))
        return updates, state

    tx = GradientTransformation(init, update)
    if mask is None:
        return tx
    with validate.named(fn):  # the mask's errors name the function called
        return masked(tx, mask)


def _decay_leaf(g: jax.Array, p: jax.Array, wd: Any) -> jax.Array:
    return (g + jnp.asarray(wd, p.dtype) * p).astype(g.dtype)


def l2_penalty(params: Params, mask: Mask | None = None) -> jax.Array:
    r"""The L2 penalty :math:`\tfrac12 \sum_i \lVert\theta_i\rVert^2` for a loss.

    Add ``weight_decay * l2_penalty(params)`` to a loss to regularize it: its
    gradient is ``weight_decay * params``, which is exactly what
    :func:`add_decayed_weights` adds to the gradient (coupled L2). The
    :math:`\tfrac12` is there so that the two agree; the sum of squares is
    accumulated in at least float32.

    Args:
      params: the params.
      mask: which leaves to include (see :func:`gradtx.masked`); ``None``: all.

    Returns:
      A scalar.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> float(gradtx.l2_penalty({"w": jnp.array([3.0, 4.0]), "b": jnp.ones(1)},
      ...                         mask={"w": True, "b": False}))
      12.5
    """
    if mask is not None:
        with validate.named("l2_penalty"):  # the mask's errors name l2_penalty
            params = apply_mask(params, resolve_mask(mask, params))
    return 0.5 * norm(params, squared=True)
