"""Scaling by a constant, a learning rate or a schedule."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, zero_count
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    OptState,
    Params,
    Updates,
    identity,
    init_empty_state,
)
from gradtx.schedules import ScalarOrSchedule, Schedule

__all__ = [
    "ScaleByScheduleState",
    "scale",
    "scale_by_learning_rate",
    "scale_by_schedule",
]


def _mul(g: jax.Array, factor: Any) -> jax.Array:
    return jnp.asarray(factor, dtype=g.dtype) * g


def scale(step_size: Any) -> GradientTransformation:
    r"""Multiplies updates by a fixed scalar: :math:`u \leftarrow s\, u`.

    Args:
      step_size: the scalar :math:`s` (any sign).

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      TypeError: ``step_size`` is not a scalar number.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale(-2.0)
      >>> tx.update(jnp.ones(2), tx.init(jnp.zeros(2)))[0]
      Array([-2., -2.], dtype=float32)
    """
    fn = validate.who("scale")
    validate.number(fn, "step_size", step_size)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        return numerics.leafwise(_mul, updates, scalars=(step_size,)), state

    return GradientTransformation(init_empty_state, update)


class ScaleByScheduleState(NamedTuple):
    """State of :func:`scale_by_schedule`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    r"""Multiplies updates by a schedule of the step count, :math:`s(t)\, u_t`.

    The schedule is evaluated once per step (on the int32 counter ``t``, which
    starts at 0) and cast to each leaf's dtype.

    Args:
      step_size_fn: a schedule ``count -> scalar`` (see :mod:`gradtx.schedules`).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByScheduleState`.

    Raises:
      TypeError: ``step_size_fn`` is not callable, or returns no real number.
      ValueError: ``step_size_fn`` returns an array that is not a scalar
        (checked at trace time), or a non-finite value (checked when the count
        is concrete).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_schedule(lambda t: 1.0 / (t + 1))
      >>> state = tx.init(jnp.zeros(1))
      >>> u, state = tx.update(jnp.ones(1), state)
      >>> u, state = tx.update(jnp.ones(1), state)
      >>> u
      Array([0.5], dtype=float32)
    """
    fn = validate.who("scale_by_schedule")
    if not callable(step_size_fn):
        raise validate.error(
            TypeError,
            fn,
            "step_size_fn must be a schedule (a function of the step count), got "
            f"{step_size_fn!r}; for a constant use gradtx.scale.",
        )

    def init(params: Params) -> ScaleByScheduleState:
        validate.params(fn, params)
        return ScaleByScheduleState(count=zero_count())

    def update(
        updates: Updates,
        state: ScaleByScheduleState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, OptState]:
        validate.updates(fn, updates, params)
        step_size = validate.scheduled_value(
            fn, "step_size_fn", step_size_fn, state.count
        )
        updates = numerics.leafwise(_mul, updates, scalars=(step_size,))
        return updates, ScaleByScheduleState(count=safe_increment(state.count))

    return GradientTransformation(init, update)


def scale_by_learning_rate(
    learning_rate: ScalarOrSchedule | None = None, *, flip_sign: bool = True
) -> GradientTransformation:
    r"""Multiplies updates by :math:`-\eta_t` (a float or a schedule).

    This is the last step of a gradient-descent chain: it turns a descent
    direction into a step, :math:`u_t \leftarrow -\eta_t\, u_t`.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule ``count -> η``;
        ``None`` gives :func:`~gradtx.identity`.
      flip_sign: multiply by :math:`-\eta` (descent, the default) or by
        :math:`+\eta` (ascent).

    Returns:
      A :class:`~gradtx.GradientTransformation` (stateless for a scalar, with a
      step counter for a schedule).

    Raises:
      ValueError: ``learning_rate`` is negative, infinite or NaN (a negative
        learning rate ascends: use ``flip_sign=False`` for that); a schedule
        returns a non-scalar (checked at trace time) or a negative or
        non-finite value (checked when the step count is concrete, i.e.
        outside ``jit``).
      TypeError: ``learning_rate`` is not a number or a schedule.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_learning_rate(0.1)
      >>> tx.update(jnp.ones(2), tx.init(jnp.zeros(2)))[0]
      Array([-0.1, -0.1], dtype=float32)
    """
    if learning_rate is None:
        return identity()
    with validate.named("scale_by_learning_rate") as fn:
        validate.number(
            fn, "learning_rate", learning_rate, low=0.0, allow_schedule=True
        )
        validate.boolean(fn, "flip_sign", flip_sign)
        sign = -1 if flip_sign else 1
        if callable(learning_rate):
            lr_fn = learning_rate

            def signed(count: ArrayLike) -> jax.Array:
                value = validate.scheduled_value(
                    fn, "learning_rate", lr_fn, count, low=0.0
                )
                return sign * value

            return scale_by_schedule(signed)
        return scale(sign * learning_rate)
