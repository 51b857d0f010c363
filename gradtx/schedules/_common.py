"""Types and helpers shared by the schedules (private)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx._internal import validate

Schedule: TypeAlias = Callable[[ArrayLike], ArrayLike]
ScalarOrSchedule: TypeAlias = float | jax.Array | Schedule

_CONSTANT_HINT = "(optax returns a constant schedule here; use constant_schedule.)"
# The length of a transition: > 0 (optax returns a constant schedule for 0).
_LENGTH: dict[str, Any] = {"low": 0.0, "low_open": True, "hint": _CONSTANT_HINT}
_FINITE_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True, "high_open": True}


def _finite(fn: str, **values: Any) -> None:
    """Checks that each of ``values`` (by argument name) is a finite number."""
    for name, value in values.items():
        validate.number(fn, name, value)


def _dtype(*values: Any) -> Any:
    """float32, promoted only by values that are float64 arrays."""
    return jnp.result_type(jnp.float32, *(v for v in values if v is not None))


def _progress(
    count: Any, steps: Any, dtype: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(done, left, early)``: ``t / T`` and ``1 - t / T``, and which is small.

    Each fraction is computed from exact ints, ``tau / T`` and ``(T - tau) / T``,
    so each is exact at its 0 and accurate relative to its size near it, even
    where XLA turns ``x / T`` into ``x * (1 / T)``; ``early`` (``t / T <= 1/2``)
    says which one to build the value from. Rounding ``1 - t / T`` instead
    would lose ``t / T`` below ``2^-24``: 37 steps into a warmup of 1e9 steps
    from 0, the value would be off by 60%; an ulp at the end would give a
    warmup from 0 a negative start, magnified to ~1e-4 by ``power=0.5``.
    """
    count = jnp.asarray(count)
    if (
        isinstance(steps, int)
        and jnp.issubdtype(count.dtype, jnp.integer)
        and steps > jnp.iinfo(count.dtype).max
    ):  # more steps than the count can reach (optax's 1e10-step schedules)
        tau = jnp.maximum(count, 0)
        left = jnp.asarray(steps, dtype) - tau.astype(dtype)
    else:
        tau = jnp.clip(count, 0, steps)
        left = (steps - tau).astype(dtype)  # subtracted while still exact ints
    steps = jnp.asarray(steps, dtype)
    steps = jnp.where(steps > 0, steps, 1)
    done = tau.astype(dtype) / steps
    return done, left / steps, done <= 0.5


def _lerp(start: Any, end: Any, w: jax.Array, cw: jax.Array, dtype: Any) -> Any:
    """``start * w + end * cw``, with ``cw = 1 - w`` computed accurately apart."""
    return jnp.asarray(start, dtype) * w + jnp.asarray(end, dtype) * cw


def _pow_pair(
    base: jax.Array, small: jax.Array, early: jax.Array, p: Any
) -> tuple[jax.Array, jax.Array]:
    """``(base**p, 1 - base**p)`` for ``base = 1 - small`` in ``[0, 1]``.

    Where ``early`` (``small`` is the accurate one), through ``log1p`` and
    ``expm1``, so ``1 - base**p`` keeps its relative precision as it goes to 0;
    elsewhere ``base**p`` directly. Unused branches see harmless inputs, so no
    NaN reaches a gradient.
    """
    log_base = p * jnp.log1p(-jnp.where(early, small, 0))
    late = jnp.where(early, 1, base) ** p
    return (
        jnp.where(early, jnp.exp(log_base), late),
        jnp.where(early, -jnp.expm1(log_base), 1 - late),
    )


def _polynomial(init: Any, end: Any, power: Any, steps: Any, begin: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, power)
        done, left, early = _progress(jnp.asarray(count) - begin, steps, dtype)
        if isinstance(power, int) and power == 1:  # linear: no rounding at all
            w, cw = jnp.where(early, 1 - done, left), jnp.where(early, done, 1 - left)
        else:
            p = power if isinstance(power, int) else jnp.asarray(power, dtype)
            w, cw = _pow_pair(left, done, early, p)
        return _lerp(init, end, w, cw, dtype)

    return schedule


def _cosine(init: Any, end: Any, steps: Any, exponent: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, exponent)
        done, left, early = _progress(count, steps, dtype)
        # (1 + cos(pi t / T)) / 2 = cos(pi d / 2)^2 = sin(pi r / 2)^2, with
        # d = t / T and r = 1 - d; 1 minus it is sin(pi d / 2)^2 = cos(pi r / 2)^2.
        angle = jnp.pi / 2 * jnp.where(early, done, left)
        sin2, cos2 = jnp.sin(angle) ** 2, jnp.cos(angle) ** 2
        half_cos = jnp.where(early, cos2, sin2)
        rest = jnp.where(early, sin2, cos2)
        if validate.concrete_float(exponent) == 1.0:
            return _lerp(init, end, half_cos, rest, dtype)
        w, cw = _pow_pair(half_cos, rest, early, jnp.asarray(exponent, dtype))
        return _lerp(init, end, w, cw, dtype)

    return schedule


def _join(schedules: Sequence[Schedule], boundaries: Sequence[Any]) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        c = jnp.asarray(count)
        value = jnp.asarray(schedules[0](c))
        for b, s in zip(boundaries, schedules[1:], strict=True):
            value = jnp.where(c < b, value, s(c - b))
        return value

    return schedule
