"""Validation of hyperparameters, applied when a transformation is built.

Every check accepts what a user may legitimately pass for a scalar
hyperparameter: a Python number, a NumPy or JAX scalar, a tracer (inside
``jit``/``vmap``/``grad``) or, where allowed, a schedule (a callable). Values
that are concrete are checked at once; tracers and schedules cannot be checked
without forcing a host round trip, so they are let through.
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
    if arr.shape != () or not np.issubdtype(arr.dtype, np.number):
        return None
    if np.iscomplexobj(arr):
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
      ValueError: ``value`` is a number outside the interval, or NaN.
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
    if not (lo_ok and hi_ok) or math.isnan(x):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(
            f"{name} must be in {lo}{_fmt(low)}, {_fmt(high)}{hi}, got {value!r}."
        )


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
