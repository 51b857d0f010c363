"""Optimistic gradients: the current update extrapolated along its last change.

The update rules are written once, on :func:`gradtx.optimistic_gradient_descent`
and :func:`gradtx.optimistic_adam_v2`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import zeros_like
from gradtx.core import GradientTransformation, Params, Updates, map_leaves

__all__ = ["ScaleByOptimisticGradientState", "scale_by_optimistic_gradient"]

# optax's signature says "ScalarOrSchedule", but its update adds the two
# coefficients as numbers: a schedule fails there too.
_NO_SCHEDULE = (
    "{name} must be a number: the block keeps no step count to evaluate a "
    "schedule at (optax's fails on one too). Schedule the learning rate of the "
    "chain instead, e.g. optimistic_gradient_descent(schedule, alpha, beta)."
)


class ScaleByOptimisticGradientState(NamedTuple):
    """State of :func:`scale_by_optimistic_gradient` (optax's field names)."""

    is_initial_step: jax.Array  # bool[], True until the first update
    previous_gradient: Any  # like params (their dtypes): the last incoming updates


def _optimistic(
    g: jax.Array, prev: jax.Array, first: jax.Array, alpha: Any, beta: Any
) -> jax.Array:
    # Before the first update there is no previous gradient: take g_0 = g_1,
    # the convention z_0 = z_1 of the analyses (optax's too, its issue #1082).
    prev = jnp.where(first, g, prev)
    return (alpha + beta) * g - beta * prev


def scale_by_optimistic_gradient(
    alpha: Any = 1.0, beta: Any = 1.0
) -> GradientTransformation:
    r"""Extrapolates the updates along their last change (no learning rate).

    Produces :math:`(\alpha + \beta)\, u_t - \beta\, u_{t-1} = \alpha u_t +
    \beta (u_t - u_{t-1})`, with :math:`u_0 = u_1` (the first output is
    :math:`\alpha u_1`). Placed after a gradient it is optimistic gradient
    descent (:func:`gradtx.optimistic_gradient_descent`); after Adam's
    scaling, Optimistic Adam (:func:`gradtx.optimistic_adam_v2`), where the
    rules and references are.

    Args:
      alpha: :math:`\alpha \ge 0`, the weight of the current update.
      beta: :math:`\beta \ge 0`, the optimism: the weight of the last change
        (0 gives :math:`\alpha u_t`).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByOptimisticGradientState`.

    Raises:
      ValueError: ``alpha`` or ``beta`` is negative or not finite.
      TypeError: ``alpha`` or ``beta`` is not a number (a schedule included).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_optimistic_gradient(alpha=1.0, beta=1.0)
      >>> state = tx.init(jnp.zeros(1))
      >>> u1, state = tx.update(jnp.array([1.0]), state)
      >>> u2, state = tx.update(jnp.array([3.0]), state)
      >>> u1, u2  # u_1, then 2 u_2 - u_1
      (Array([1.], dtype=float32), Array([5.], dtype=float32))
    """
    fn = validate.who("scale_by_optimistic_gradient")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if callable(value):
            raise validate.error(TypeError, fn, _NO_SCHEDULE.format(name=name))
        validate.number(fn, name, value, low=0.0)

    def init(params: Params) -> ScaleByOptimisticGradientState:
        validate.params(fn, params)
        return ScaleByOptimisticGradientState(
            is_initial_step=jnp.asarray(True),
            previous_gradient=zeros_like(params),
        )

    def update(
        updates: Updates,
        state: ScaleByOptimisticGradientState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByOptimisticGradientState]:
        validate.updates(
            fn,
            updates,
            params,
            state.previous_gradient,
            name="scale_by_optimistic_gradient state.previous_gradient",
        )
        out = map_leaves(
            _optimistic,
            updates,
            state.previous_gradient,
            scalars=(state.is_initial_step, alpha, beta),
        )
        return out, ScaleByOptimisticGradientState(
            is_initial_step=jnp.zeros_like(state.is_initial_step),
            previous_gradient=updates,
        )

    return GradientTransformation(init, update)
