"""Checks of scalar arguments: numbers in an interval, ints, bools.

Every check accepts what a user may legitimately pass for a scalar
hyperparameter: a Python number, a NumPy or JAX scalar, a tracer (inside
``jit``/``vmap``/``grad``) or, where allowed, a schedule (a callable). Values
that are concrete are checked at once; tracers cannot be checked without
forcing a host round trip, so they are let through.

Settings read on the host (a config file, a registry entry) are never traced:
:func:`plain_number` takes plain Python or NumPy numbers only.

Infinite values are refused everywhere (a learning rate, a decay or an ``eps``
of ``inf`` gives inf or NaN params, not a training run), and the intervals in
the messages are the ones actually enforced: an infinite bound is shown open.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._caller import error

__all__ = [
    "boolean",
    "concrete_float",
    "finite",
    "integer",
    "interval",
    "is_concrete",
    "number",
    "optional_number",
    "plain_number",
    "sample_range",
]


def concrete_float(value: Any) -> float | None:
    """Returns ``value`` as a Python float, or None when it is not concrete.

    Tracers, callables, complex and non-scalar arrays give None.
    """
    if callable(value) or isinstance(value, jax.core.Tracer):
        return None
    try:
        arr = np.asarray(value)
    except Exception:
        return None
    # jnp.issubdtype also knows ml_dtypes' floats (bfloat16, float8...).
    if arr.shape != () or not jnp.issubdtype(arr.dtype, jnp.number):
        return None
    if jnp.issubdtype(arr.dtype, jnp.complexfloating):
        return None
    return float(arr)


def is_concrete(x: Any) -> bool:
    """Whether ``x`` holds a value now (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``[0, 1)``-style text of the finite values between ``low`` and ``high``."""
    lo = "(" if low_open or math.isinf(low) else "["
    hi = ")" if high_open or math.isinf(high) else "]"
    return f"{lo}{_fmt(low)}, {_fmt(high)}{hi}"


def number(
    fn: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    allow_schedule: bool = False,
    hint: str = "",
) -> None:
    """Raises unless ``value`` is a finite real number in the given interval.

    ``inf`` and NaN are always refused, whatever the bounds.

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed.
      low: lower bound of the valid interval.
      high: upper bound of the valid interval.
      low_open: whether ``low`` itself is excluded.
      high_open: whether ``high`` itself is excluded.
      allow_schedule: whether a callable ``step -> value`` is accepted (its
        values are checked by :func:`scheduled_value` when it is evaluated).
      hint: a sentence appended to the ValueError's message.

    Raises:
      TypeError: ``value`` is not a number (or a schedule, when allowed).
      ValueError: ``value`` is a number outside the interval, or not finite.
    """
    if callable(value):
        if allow_schedule:
            return
        raise error(
            TypeError,
            fn,
            f"{name} must be a number, got the callable {value!r}. Only learning "
            "rates and weight decays accept schedules.",
        )
    if isinstance(value, bool | str) or value is None:
        raise error(TypeError, fn, f"{name} must be a number, got {value!r}.")
    if isinstance(value, jax.core.Tracer):
        return
    if hasattr(value, "shape") and tuple(value.shape) != ():
        raise error(
            ValueError,
            fn,
            f"{name} must be a scalar, got an array of shape {tuple(value.shape)}.",
        )
    x = concrete_float(value)
    if x is None:
        raise error(TypeError, fn, f"{name} must be a real number, got {value!r}.")
    if not (_within(x, low, high, low_open, high_open) and math.isfinite(x)):
        text = (
            f"{name} must be in {interval(low, high, low_open, high_open)}, "
            f"got {value!r}. {hint}"
        )
        raise error(ValueError, fn, text.rstrip())


def optional_number(fn: str, name: str, value: Any, **bounds: Any) -> None:
    """Like :func:`number`, but ``None`` is accepted."""
    if value is not None:
        number(fn, name, value, **bounds)


_NON_FINITE = (
    "{name} is {value!r}, but it must be {expected}. A NaN or infinite {name} "
    "does not fail on its own: the output would be plausible-looking but wrong. "
    "Pass a finite value; if it is computed (a schedule, a ratio), check it "
    "with np.isfinite first. (Under jit, where values cannot be checked, a "
    "non-finite {name} makes the whole output NaN, or zeros for integer dtypes "
    "such as uint8.)"
)


def finite(
    fn: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    expected: str = "",
    dtype: Any = None,
) -> None:
    """Like :func:`number`, for values whose NaN would fail silently.

    A NaN or infinite concrete value gets a message that says what it would
    have done (a plausible-looking wrong output); a traced one is let through,
    and the caller makes its output NaN instead (``gradtx.augment`` does).

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed (a scalar; for arrays, give ``expected``).
      low: lower bound of the valid interval.
      high: upper bound of the valid interval.
      low_open: whether ``low`` itself is excluded.
      high_open: whether ``high`` itself is excluded.
      expected: what is valid, in words; by default the interval's. With it,
        ``value`` may be an array: only its finiteness is checked.
      dtype: with ``expected``, the dtype ``value`` is judged in (``1e39`` is
        infinite in float32).

    Raises:
      TypeError: not a real number.
      ValueError: NaN, infinite, not a scalar, or outside the bounds.
    """
    if isinstance(value, jax.core.Tracer):
        return
    if expected:
        arr = jnp.asarray(value, dtype)
        if isinstance(arr, jax.core.Tracer):
            return
        bad = not np.isfinite(np.asarray(arr)).all()
    else:
        x = concrete_float(value)
        bad = x is not None and not math.isfinite(x)
    if bad:
        words = expected or _rule(low, high, low_open, high_open)
        text = _NON_FINITE.format(name=name, value=value, expected=words)
        raise error(ValueError, fn, text)
    if not expected:
        number(
            fn,
            name,
            value,
            low=low,
            high=high,
            low_open=low_open,
            high_open=high_open,
        )


def sample_range(
    fn: str,
    names: tuple[str, str],
    lower: Any,
    upper: Any,
    *,
    drawn: str = "the value",
    **bounds: Any,
) -> None:
    """Checks the ends of a range a random value is drawn from.

    Each end as :func:`finite` with ``bounds``; then ``lower <= upper`` when
    both are concrete (traced ends are let through).

    Args:
      fn: the public function's name.
      names: the names of the two ends, e.g. ``("lower", "upper")``.
      lower: the lower end.
      upper: the upper end.
      drawn: what is drawn, for the message.
      **bounds: ``low``, ``high``, ``low_open``, ``high_open`` of each end.

    Raises:
      TypeError: an end is not a real number.
      ValueError: an end is out of bounds or not finite, or ``lower > upper``.
    """
    a, b = names
    finite(fn, a, lower, **bounds)
    finite(fn, b, upper, **bounds)
    lo, hi = concrete_float(lower), concrete_float(upper)
    if lo is not None and hi is not None and lo > hi:
        raise error(
            ValueError,
            fn,
            f"{a} must be <= {b}, got {a}={lower!r} > {b}={upper!r}; {drawn} is "
            f"drawn from Uniform[{a}, {b}].",
        )


def plain_number(
    fn: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    rule: str = "",
    shown: str = "",
) -> None:
    """Raises unless ``value`` is a plain real number (an int with ``integer``)
    in the given interval, and finite.

    For settings read on the host (a config file, a command line, a registry
    entry), never traced: a Python or NumPy number, not a bool, an array or a
    schedule. Convert it with ``float(value)`` (or ``int``) once checked.

    Args:
      fn: the public function's name.
      name: the argument's name.
      value: what the user passed.
      low: lower bound of the valid interval.
      high: upper bound of the valid interval.
      low_open: whether ``low`` itself is excluded.
      high_open: whether ``high`` itself is excluded.
      integer: whether only integers are valid.
      rule: what a valid value is, in words, for the message (by default the
        interval's: ``"a finite number > 0"``, ``"an int >= 1"``).
      shown: how to show the value in the message (default: its repr).

    Raises:
      TypeError: not a real number (an integer, with ``integer``); a bool.
      ValueError: NaN, infinite (a Python int beyond float range included), or
        outside the interval. Both say ``"{name} must be {rule}, got ..."``.
    """
    kind = numbers.Integral if integer else numbers.Real
    rule = rule or _rule(low, high, low_open, high_open, integer)
    text = f"{name} must be {rule}, got {shown or reprlib.repr(value)}."
    if isinstance(value, bool | np.bool_) or not isinstance(value, kind):
        raise error(TypeError, fn, text)
    plain: Any = value  # a number: int() and float() take it
    x: float | int
    if integer:
        x = int(plain)  # compared exactly, whatever its size
    else:
        try:
            x = float(plain)
        except OverflowError:  # an int beyond float range
            x = math.inf
    in_bounds = _within(x, low, high, low_open, high_open)
    if not (in_bounds and (integer or math.isfinite(x))):
        raise error(ValueError, fn, text)


def integer(fn: str, name: str, value: Any, *, low: int, meaning: str) -> None:
    """Raises ValueError unless ``value`` is an int (not a bool) >= ``low``.

    ``meaning`` says what the number is, for the message.
    """
    if (
        not isinstance(value, int | np.integer)
        or isinstance(value, bool | np.bool_)
        or value < low
    ):
        raise error(
            ValueError,
            fn,
            f"{name} is {value!r}; expected an int >= {low} ({meaning}).",
        )


def boolean(fn: str, name: str, value: Any) -> None:
    """Raises TypeError unless ``value`` is a Python (or NumPy) bool."""
    if not isinstance(value, bool | np.bool_):
        raise error(TypeError, fn, f"{name} must be True or False, got {value!r}.")


def _within(x: float, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    """Whether ``x`` lies between the bounds (each one closed unless open)."""
    lo_ok = x > low if low_open else x >= low
    hi_ok = x < high if high_open else x <= high
    return lo_ok and hi_ok


def _rule(
    low: float, high: float, low_open: bool, high_open: bool, integer: bool = False
) -> str:
    """The bounds in words: ``"a finite number >= 0"``, ``"a number in [0, 1)"``...

    With ``integer``, an int's: ``"an int >= 1"``, ``"an int in [1, 8]"``.
    """
    noun = "an int" if integer else "a finite number"

    def show(v: float) -> str:
        return str(int(v)) if integer else f"{v:g}"

    if math.isinf(low) and math.isinf(high):
        return noun
    if math.isinf(high):
        return f"{noun} {'>' if low_open else '>='} {show(low)}"
    if math.isinf(low):
        return f"{noun} {'<' if high_open else '<='} {show(high)}"
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    return f"{'an int' if integer else 'a number'} in {lo}{show(low)}, {show(high)}{hi}"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"
