"""Validation of hyperparameters, applied when a transformation is built.

Every check accepts what a user may legitimately pass for a scalar
hyperparameter: a Python number, a NumPy or JAX scalar, a tracer (inside
``jit``/``vmap``/``grad``) or, where allowed, a schedule (a callable). Values
that are concrete are checked at once; tracers cannot be checked without
forcing a host round trip, so they are let through. A schedule's value is
checked each time it is evaluated (:func:`scheduled_value`): its shape and
dtype at trace time, its value too when the step count is concrete.

Infinite values are refused everywhere (a learning rate, a decay or an ``eps``
of ``inf`` gives inf or NaN params, not a training run), and the intervals in
the messages are the ones actually enforced: an infinite bound is shown open.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np


def concrete_float(value: Any) -> float | None:
    """Returns ``value`` as a Python float, or None when it is not concrete.

    Tracers, callables and non-scalar arrays give None.
    """
    if callable(value) or isinstance(value, jax.core.Tracer):
        return None
    try:
        arr = np.asarray(value)
    except Exception:
        return None
    # jnp.issubdtype also knows ml_dtypes' floats (bfloat16, float8...).
    if arr.shape != () or not jax.numpy.issubdtype(arr.dtype, jax.numpy.number):
        return None
    if jax.numpy.issubdtype(arr.dtype, jax.numpy.complexfloating):
        return None
    return float(arr)


def check_number(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    allow_schedule: bool = False,
) -> None:
    """Raises ValueError/TypeError unless ``value`` lies in the given interval.

    The value must also be finite, whatever the bounds: ``inf`` and NaN are
    always refused.

    Args:
      name: the argument's name, used in the message.
      value: what the user passed.
      low: lower bound of the valid interval.
      high: upper bound of the valid interval.
      low_open: whether ``low`` itself is excluded.
      high_open: whether ``high`` itself is excluded.
      allow_schedule: whether a callable ``step -> value`` is accepted.

    Raises:
      TypeError: ``value`` is not a number (or a schedule, when allowed).
      ValueError: ``value`` is a number outside the interval, or not finite.
    """
    if callable(value):
        if allow_schedule:
            return
        raise TypeError(
            f"{name} must be a number, got the callable {value!r}. Only learning "
            "rates and weight decays accept schedules."
        )
    if isinstance(value, bool | str) or value is None:
        raise TypeError(f"{name} must be a number, got {value!r}.")
    if isinstance(value, jax.core.Tracer):
        return
    if hasattr(value, "shape") and tuple(value.shape) != ():
        raise ValueError(
            f"{name} must be a scalar, got an array of shape {tuple(value.shape)}."
        )
    x = concrete_float(value)
    if x is None:
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    lo_ok = x > low if low_open else x >= low
    hi_ok = x < high if high_open else x <= high
    if not (lo_ok and hi_ok and math.isfinite(x)):
        raise ValueError(
            f"{name} must be in {interval(low, high, low_open, high_open)}, "
            f"got {value!r}."
        )


def interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``-style text of the finite values between ``low`` and ``high``."""
    lo = "(" if low_open or math.isinf(low) else "["
    hi = ")" if high_open or math.isinf(high) else "]"
    return f"{lo}{_fmt(low)}, {_fmt(high)}{hi}"


def is_concrete(x: Any) -> bool:
    """Whether ``x`` holds a value now (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def scheduled_value(name: str, schedule: Any, count: Any, **bounds: Any) -> jax.Array:
    """Evaluates ``schedule(count)`` and checks what it returned.

    The shape and dtype are static, so they are checked at trace time under
    ``jit``: a schedule must return one real number per step (an array would
    silently become a per-element hyperparameter). When ``count`` is concrete
    (eager mode), the value is checked too: it must be finite and within
    ``bounds`` (those of :func:`check_number`). Under ``jit`` it cannot be
    without a host round trip, so a floating value outside ``bounds`` is
    replaced by NaN: the
    updates become NaN, which shows in the loss (and which
    :func:`gradtx.apply_if_finite` skips), instead of a silently wrong step
    such as an ascent on a negative learning rate.

    Args:
      name: the hyperparameter's name, for the message.
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
        value = jax.numpy.asarray(raw)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: the schedule {schedule!r} returned {raw!r}, not a number. "
            "A schedule maps the step count to one real number."
        ) from None
    kind = value.dtype.kind
    if kind not in "fiu" or value.dtype == np.bool_:
        raise TypeError(
            f"{name}: the schedule {schedule!r} returned a {value.dtype} value; a "
            "schedule must return a real number (float or int)."
        )
    if value.shape != ():
        raise ValueError(
            f"{name}: the schedule {schedule!r} returned an array of shape "
            f"{value.shape}; a schedule must return a scalar, one value per step. "
            "For other values on other parameters, give each group its own "
            "optimizer with gradtx.partition."
        )
    if is_concrete(value) and is_concrete(count):
        where = f"{name} (the schedule's value at step {np.asarray(count)!s})"
        check_number(where, value.item(), **bounds)
    elif bounds and value.dtype.kind == "f":  # traced: out of bounds becomes NaN
        low, high = bounds.get("low", -math.inf), bounds.get("high", math.inf)
        ok = jax.numpy.isfinite(value)
        ok &= value > low if bounds.get("low_open") else value >= low
        ok &= value < high if bounds.get("high_open") else value <= high
        value = jax.numpy.where(ok, value, jax.numpy.nan)
    return value


def check_optional_number(name: str, value: Any, **kwargs: Any) -> None:
    """Like :func:`check_number`, but ``None`` is accepted."""
    if value is not None:
        check_number(name, value, **kwargs)


def check_int(name: str, value: Any, *, low: int, meaning: str) -> None:
    """Raises ValueError unless ``value`` is an int (not a bool) >= ``low``.

    ``meaning`` says what the number is, for the message.
    """
    if (
        not isinstance(value, int | np.integer)
        or isinstance(value, bool | np.bool_)
        or value < low
    ):
        raise ValueError(f"{name} is {value!r}; expected an int >= {low} ({meaning}).")


def check_bool(name: str, value: Any) -> None:
    """Raises TypeError unless ``value`` is a Python bool."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
