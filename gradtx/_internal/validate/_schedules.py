"""Checks of schedules' values and of step boundaries.

A schedule's value is checked each time it is evaluated
(:func:`scheduled_value`): its shape and dtype at trace time, its value too
when the step count is concrete.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._caller import error
from gradtx._internal.validate._numbers import is_concrete, number

__all__ = ["scheduled_value", "step_boundaries"]


def scheduled_value(
    fn: str, name: str, schedule: Any, count: Any, **bounds: Any
) -> jax.Array:
    """Evaluates ``schedule(count)`` and checks what it returned.

    The shape and dtype are static, so they are checked at trace time under
    ``jit``: a schedule must return one real number per step (an array would
    silently become a per-element hyperparameter). When ``count`` is concrete
    (eager mode), the value is checked too: it must be finite and within
    ``bounds`` (those of :func:`number`). Under ``jit`` it cannot be without a
    host round trip, so a floating value outside ``bounds`` is replaced by
    NaN: the updates become NaN, which shows in the loss (and which
    :func:`gradtx.apply_if_finite` skips), instead of a silently wrong step
    such as an ascent on a negative learning rate.

    Args:
      fn: the public function's name.
      name: the hyperparameter's name.
      schedule: the callable ``count -> value``.
      count: the step count it is evaluated at.
      **bounds: ``low``, ``high``, ``low_open``, ``high_open``.

    Returns:
      The value, as a scalar array.

    Raises:
      ValueError: the value is not a scalar, or (when concrete) out of bounds.
      TypeError: the value is not a real number.
    """
    raw = schedule(count)
    try:
        value = jnp.asarray(raw)
    except (TypeError, ValueError):
        raise error(
            TypeError,
            fn,
            f"{name}: the schedule {schedule!r} returned {raw!r}, not a number. "
            "A schedule maps the step count to one real number.",
        ) from None
    if value.dtype.kind not in "fiu" or value.dtype == np.bool_:
        raise error(
            TypeError,
            fn,
            f"{name}: the schedule {schedule!r} returned a {value.dtype} value; a "
            "schedule must return a real number (float or int).",
        )
    if value.shape != ():
        raise error(
            ValueError,
            fn,
            f"{name}: the schedule {schedule!r} returned an array of shape "
            f"{value.shape}; a schedule must return a scalar, one value per step. "
            "For other values on other parameters, give each group its own "
            "optimizer with gradtx.partition.",
        )
    if is_concrete(value) and is_concrete(count):
        where = f"{name} (the schedule's value at step {np.asarray(count)!s})"
        number(fn, where, value.item(), **bounds)
    elif bounds and value.dtype.kind == "f":  # traced: out of bounds becomes NaN
        low, high = bounds.get("low", -math.inf), bounds.get("high", math.inf)
        ok = jnp.isfinite(value)
        ok &= value > low if bounds.get("low_open") else value >= low
        ok &= value < high if bounds.get("high_open") else value <= high
        value = jnp.where(ok, value, jnp.nan)
    return value


def step_boundaries(
    fn: str, name: str, boundaries: Iterable[Any], *, increasing: bool = True
) -> list[Any]:
    """``boundaries`` as a list, checked: non-negative (increasing) int steps.

    Traced boundaries are let through.

    Raises:
      TypeError: a boundary is not an integer step count.
      ValueError: a negative boundary, or (with ``increasing``) boundaries
        that are not strictly increasing.
    """
    bounds = list(boundaries)
    shown = "[" + ", ".join(str(b) for b in bounds) + "]"
    ints = [b for b in bounds if not isinstance(b, jax.core.Tracer)]
    for b in ints:
        if np.shape(b) != () or not np.issubdtype(np.asarray(b).dtype, np.integer):
            raise error(
                TypeError, fn, f"{name} must be integer step counts, got {b!r}."
            )
    if any(int(b) < 0 for b in ints):
        raise error(ValueError, fn, f"{name} must be non-negative, got {shown}.")
    if increasing and any(int(a) >= int(b) for a, b in itertools.pairwise(ints)):
        raise error(ValueError, fn, f"{name} must be strictly increasing, got {shown}.")
    return bounds
