"""Constant, polynomial (linear), exponential and piecewise-constant schedules."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.schedules._common import (
    _FINITE_POSITIVE,
    _LENGTH,
    Schedule,
    _dtype,
    _finite,
    _polynomial,
)


def constant_schedule(value: ArrayLike) -> Schedule:
    """Returns a schedule that holds ``value`` at every step: :math:`v(t) = V`.

    Args:
      value: the value to hold, a finite real scalar.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: ``value`` is not finite or not a scalar.
      TypeError: ``value`` is not a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.constant_schedule(0.5)
      >>> float(s(0)), float(s(10_000))
      (0.5, 0.5)
    """
    _finite("constant_schedule", value=value)
    return lambda count: jnp.full(jnp.shape(count), value, _dtype(value))


def polynomial_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    power: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> Schedule:
    r"""Returns a polynomial transition from ``init_value`` to ``end_value``.

    With :math:`I, E, P, T, B` the arguments in order:

    .. math::
      v(t) = (I - E) (1 - \tau / T)^{P} + E, \quad \tau = \min(\max(t - B, 0), T)

    Args:
      init_value: the value until step ``transition_begin``.
      end_value: the value from step ``transition_begin + transition_steps``.
      power: the power :math:`P > 0` (1 is linear).
      transition_steps: the length of the transition, > 0 (optax returns a
        constant schedule for a value <= 0; gradtx raises).
      transition_begin: the number of steps held at ``init_value``, >= 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 1000)]
      [1.0, 0.25, 0.0, 0.0]
    """
    fn = "polynomial_schedule"
    _finite(fn, init_value=init_value, end_value=end_value)
    validate.number(fn, "power", power, **_FINITE_POSITIVE)
    validate.number(fn, "transition_steps", transition_steps, **_LENGTH)
    validate.number(fn, "transition_begin", transition_begin, low=0)
    return _polynomial(init_value, end_value, power, transition_steps, transition_begin)


def linear_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> Schedule:
    r"""Returns a linear transition from ``init_value`` to ``end_value``.

    :func:`polynomial_schedule` with ``power=1``:

    .. math::
      v(t) = I + (E - I) \, \tau / T, \quad \tau = \min(\max(t - B, 0), T)

    Args:
      init_value: the value :math:`I` until step ``transition_begin``.
      end_value: the value :math:`E` from the end of the transition on.
      transition_steps: the length :math:`T` of the transition, > 0.
      transition_begin: the number :math:`B` of steps held at ``init_value``.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.linear_schedule(0.0, 1.0, transition_steps=10, transition_begin=5)
      >>> [float(s(t)) for t in (0, 5, 10, 15, 1000)]
      [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    with validate.named("linear_schedule"):
        return polynomial_schedule(
            init_value, end_value, 1, transition_steps, transition_begin
        )


def exponential_decay(
    init_value: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike = 0,
    staircase: bool = False,
    end_value: ArrayLike | None = None,
) -> Schedule:
    r"""Returns ``init_value`` times ``decay_rate`` per ``transition_steps`` steps.

    With :math:`I, T, r, B` the arguments and :math:`k = \max(t - B, 0) / T`
    (rounded down when ``staircase``), clipped at ``end_value`` from below when
    :math:`r < 1` and from above when :math:`r \ge 1`:

    .. math::
      v(t) = I \, r^{k}

    Args:
      init_value: the value until step ``transition_begin``.
      transition_steps: the length of one period, > 0.
      decay_rate: the factor per period, > 0. Above 1 the value grows, without
        bound if there is no ``end_value``. (For ``transition_steps <= 0`` or
        ``decay_rate == 0`` optax returns a constant schedule; gradtx raises.)
      transition_begin: the number of steps held at ``init_value``, >= 0.
      staircase: whether to decay once per period rather than smoothly.
      end_value: an optional bound, <= ``init_value`` when ``decay_rate < 1``
        and >= ``init_value`` otherwise (else it would replace ``init_value``).

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> import gradtx
      >>> s = gradtx.exponential_decay(1.0, transition_steps=10, decay_rate=0.5,
      ...     staircase=True, end_value=0.2)
      >>> [float(s(t)) for t in (0, 9, 10, 20, 1000)]
      [1.0, 1.0, 0.5, 0.25, 0.2]
    """
    fn = "exponential_decay"
    _finite(fn, init_value=init_value)
    validate.number(fn, "transition_steps", transition_steps, **_LENGTH)
    hint = "(To drop to 0 at a given step, use piecewise_constant_schedule.)"
    validate.number(fn, "decay_rate", decay_rate, hint=hint, **_FINITE_POSITIVE)
    validate.number(fn, "transition_begin", transition_begin, low=0)
    validate.boolean(fn, "staircase", staircase)
    if end_value is not None:
        _finite(fn, end_value=end_value)
        rate = validate.concrete_float(decay_rate)
        init, end = (
            validate.concrete_float(init_value),
            validate.concrete_float(end_value),
        )
        if rate is not None and init is not None and end is not None:
            side, kind = ("<=", "lower") if rate < 1 else (">=", "upper")
            if end != init and (end > init) == (rate < 1):
                raise validate.error(
                    ValueError,
                    fn,
                    f"end_value must be {side} init_value when decay_rate is "
                    f"{decay_rate!r} (it is a {kind} bound), got "
                    f"end_value={end_value!r}, init_value={init_value!r}.",
                )

    dtype = _dtype(init_value, decay_rate, end_value)
    rounding = _log_rounding_error(decay_rate, dtype)

    def schedule(count: ArrayLike) -> jax.Array:
        elapsed = jnp.maximum(jnp.asarray(count) - transition_begin, 0)
        if staircase:  # floor_divide is exact; floor(x * (1 / T)) can miss by 1
            k = jnp.floor_divide(elapsed, transition_steps).astype(dtype)
        else:
            k = elapsed.astype(dtype) / jnp.asarray(transition_steps, dtype)
        rate = jnp.asarray(decay_rate, dtype)
        value = jnp.asarray(init_value, dtype) * rate**k
        if rounding:  # rate**k with the exact rate: see _log_rounding_error
            value = value * jnp.exp(k * jnp.asarray(rounding, dtype))
        if end_value is None:
            return value
        end = jnp.asarray(end_value, dtype)
        return jnp.where(rate < 1, jnp.maximum(value, end), jnp.minimum(value, end))

    return schedule


def _log_rounding_error(rate: ArrayLike, dtype: Any) -> float:
    """``log(rate) - log(rate in dtype)``, in float64 on the host; 0 if unknown.

    A rate such as 0.99999 is not a float32 number: float32 holds it with a
    relative error of up to 3e-8, which ``rate**k`` raises to the power ``k``.
    At ``k = 1e6`` (a million steps with ``transition_steps=1``), that is a
    3% error in the value. Multiplying by ``exp(k * this)`` undoes it: the
    correction is small, so float32 computes it to a few ulps. It is 0 (and
    skipped) for rates that the dtype holds exactly, and for tracers.
    """
    exact = validate.concrete_float(rate)
    if exact is None or exact <= 0:
        return 0.0
    rounded = float(np.asarray(exact, np.dtype(dtype)))
    return math.log(exact) - math.log(rounded)


def piecewise_constant_schedule(
    init_value: ArrayLike, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    r"""Returns ``init_value`` multiplied by a scale from each given step on.

    With boundaries :math:`b_i` and scales :math:`s_i` (which compound:
    ``{100: 0.1, 200: 0.1}`` gives ``0.01 * init_value`` from step 200):

    .. math::
      v(t) = I \prod_{i \,:\, t \ge b_i} s_i

    Args:
      init_value: the value before the first boundary.
      boundaries_and_scales: ``{step: scale}``, steps non-negative ints, scales
        finite and >= 0 (a negative learning-rate scale flips the update).

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: a negative step or scale, or a value that is not finite.
      TypeError: ``boundaries_and_scales`` is not a mapping of ints to numbers.

    Example:
      >>> import gradtx
      >>> s = gradtx.piecewise_constant_schedule(1.0, {100: 0.5, 200: 0.5})
      >>> [float(s(t)) for t in (0, 99, 100, 200, 10_000)]
      [1.0, 1.0, 0.5, 0.25, 0.25]
    """
    fn = "piecewise_constant_schedule"
    _finite(fn, init_value=init_value)
    scales = {} if boundaries_and_scales is None else boundaries_and_scales
    if not isinstance(scales, Mapping):
        raise validate.error(
            TypeError, fn, f"boundaries_and_scales must be a dict, got {scales!r}."
        )
    name = "the steps (keys) of boundaries_and_scales"
    bounds = validate.step_boundaries(fn, name, scales, increasing=False)
    items = [(b, scales[b]) for b in sorted(bounds, key=int)]
    hint = "(A negative learning-rate scale flips the update.)"
    for b, s in items:
        where = f"boundaries_and_scales[{b}]"
        validate.number(fn, where, s, hint=hint, low=0, high_open=True)

    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init_value, *(s for _, s in items))
        c = jnp.asarray(count)
        value = jnp.full(c.shape, init_value, dtype)
        for b, s in items:
            value = jnp.where(c >= b, value * jnp.asarray(s, dtype), value)
        return value

    return schedule
