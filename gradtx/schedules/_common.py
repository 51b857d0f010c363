"""Types and helpers shared by the schedules (private)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._checks import check_number

Schedule: TypeAlias = Callable[[ArrayLike], ArrayLike]
ScalarOrSchedule: TypeAlias = float | jax.Array | Schedule

_CONSTANT_HINT = "(optax returns a constant schedule here; use constant_schedule.)"
_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True}
_FINITE_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True, "high_open": True}


def _check(name: str, value: Any, *, hint: str = "", **bounds: Any) -> None:
    """Like ``check_number``, with ``hint`` appended to the ValueError."""
    try:
        check_number(name, value, **bounds)
    except ValueError as err:
        raise ValueError(f"{err} {hint}".rstrip()) from None


def _check_finite(**values: Any) -> None:
    for name, value in values.items():
        check_number(name, value, low=-math.inf, low_open=True, high_open=True)


def _check_boundaries(
    name: str, boundaries: Iterable[Any], increasing: bool = True
) -> list[Any]:
    """Checks that step boundaries are non-negative, strictly increasing ints."""
    bounds = list(boundaries)
    shown = "[" + ", ".join(str(b) for b in bounds) + "]"
    ints = [b for b in bounds if not isinstance(b, jax.core.Tracer)]
    for b in ints:
        if np.shape(b) != () or not np.issubdtype(np.asarray(b).dtype, np.integer):
            raise TypeError(f"{name} must be integer step counts, got {b!r}.")
    if any(int(b) < 0 for b in ints):
        raise ValueError(f"{name} must be non-negative, got {shown}.")
    if increasing and any(int(a) >= int(b) for a, b in itertools.pairwise(ints)):
        raise ValueError(f"{name} must be strictly increasing, got {shown}.")
    return bounds


def _dtype(*values: Any) -> Any:
    """float32, promoted only by values that are float64 arrays."""
    return jnp.result_type(jnp.float32, *(v for v in values if v is not None))


def _remaining(count: Any, steps: Any, dtype: Any) -> jax.Array:
    """The fraction of ``steps`` still ahead of ``count``: exactly 1, then 0.

    Both ends are exact even where XLA turns ``x / T`` into ``x * (1 / T)``:
    ``1 - t / T`` is exact at ``t = 0`` and ``(T - t) / T`` at ``t = T`` (an ulp
    off would give a warmup from 0 a negative start, and ``power=0.5`` would
    magnify it to ~1e-4 at the end), so each is used on its half.
    """
    tau = jnp.clip(jnp.asarray(count), 0, steps)
    left = (steps - tau).astype(dtype)  # subtracted while still exact ints
    steps = jnp.asarray(steps, dtype)
    steps = jnp.where(steps > 0, steps, 1)
    done = tau.astype(dtype) / steps
    return jnp.where(done <= 0.5, 1 - done, left / steps)


def _lerp(start: Any, end: Any, weight: jax.Array, dtype: Any) -> jax.Array:
    """``start`` at weight 1 and ``end`` at weight 0, both exactly."""
    return jnp.asarray(start, dtype) * weight + jnp.asarray(end, dtype) * (1 - weight)


def _polynomial(init: Any, end: Any, power: Any, steps: Any, begin: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, power)
        frac = _remaining(jnp.asarray(count) - begin, steps, dtype)
        p = power if isinstance(power, int) else jnp.asarray(power, dtype)
        return _lerp(init, end, frac**p, dtype)

    return schedule


def _cosine(init: Any, end: Any, steps: Any, exponent: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, exponent)
        # (1 + cos(pi t / T)) / 2 = sin(pi r / 2)^2 with r = 1 - t / T.
        half_cos = jnp.sin(jnp.pi / 2 * _remaining(count, steps, dtype)) ** 2
        return _lerp(init, end, half_cos ** jnp.asarray(exponent, dtype), dtype)

    return schedule


def _join(schedules: Sequence[Schedule], boundaries: Sequence[Any]) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        c = jnp.asarray(count)
        value = jnp.asarray(schedules[0](c))
        for b, s in zip(boundaries, schedules[1:], strict=True):
            value = jnp.where(c < b, value, s(c - b))
        return value

    return schedule
