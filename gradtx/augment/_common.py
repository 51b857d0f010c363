"""What every augmentation shares: input checks and the dtype/range convention.

Images are one ``HWC`` array (height, width, channels). Float images hold
values in [0, 1]; ``uint8`` images hold 0..255. Operations compute in float
(at least float32) and return the input's dtype and range: ``uint8`` results
are rounded and saturated to 0..255, float results clipped to [0, 1] where the
operation can leave the range (brightness, contrast, noise, ...).

Real-valued parameters (angles, ranges, factors, fill values) must be finite.
A concrete value (a Python or NumPy number, a JAX array outside ``jit``) is
checked at once: NaN or infinity raises ``ValueError``, since it would give a
plausible-looking but wrong image (all fill, all white, flat). A traced value
cannot be checked without a host round trip, so a non-finite one makes the
whole output NaN instead, which the loss shows at once. ``uint8`` images cannot
hold NaN: there the output is all zeros. To catch a bad traced value in a
``uint8`` pipeline, test it with ``jnp.isfinite`` yourself, or augment float
images (``image.astype(jnp.float32) / 255``).
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx import _checks
from gradtx._numerics import compute_dtype

__all__ = [
    "check_finite",
    "check_image",
    "check_interval",
    "check_key",
    "check_probability",
    "check_size",
    "float_dtype",
    "from_float",
    "invalid_where",
    "is_integer_image",
    "nan_unless_finite",
    "non_finite_message",
    "to_float",
    "uniform",
]


def check_image(
    fn: str, image: Any, *, rgb: bool = False, floats: bool = False
) -> None:
    """Raises unless ``image`` is one HWC image (rank 3) of a supported dtype.

    Args:
      fn: the public function's name, for the message.
      image: what the user passed.
      rgb: require exactly 3 channels.
      floats: require a floating-point dtype (for float-only operations).

    Raises:
      TypeError: not an array, or a dtype that is neither float nor uint8 (or
        not float when ``floats``).
      ValueError: a rank other than 3, or not 3 channels when ``rgb``.
    """
    if not hasattr(image, "shape") or not hasattr(image, "dtype"):
        raise TypeError(
            f"{fn}: image must be an array of shape (height, width, channels), got "
            f"{type(image).__name__}."
        )
    if jnp.ndim(image) != 3:
        raise ValueError(
            f"{fn}: image must be one image of shape (height, width, channels), got "
            f"shape {tuple(image.shape)}. For a batch, use "
            f"gradtx.augment.batch({fn}) (jax.vmap over split keys); add a channel "
            "axis to a grayscale image with image[..., None]."
        )
    dtype = jnp.dtype(image.dtype)
    is_float = jnp.issubdtype(dtype, jnp.floating)
    if floats and not is_float:
        raise TypeError(
            f"{fn}: image has dtype {dtype}, but this operation needs a float image "
            "in [0, 1]; convert with image.astype(jnp.float32) / 255."
        )
    if not (is_float or dtype == jnp.uint8):
        raise TypeError(
            f"{fn}: image has dtype {dtype}; expected a float image in [0, 1] or a "
            "uint8 image in 0..255."
        )
    if rgb and image.shape[-1] != 3:
        raise ValueError(
            f"{fn}: image must be RGB (3 channels last), got shape "
            f"{tuple(image.shape)}."
        )


def check_key(fn: str, key: Any) -> None:
    """Raises TypeError unless ``key`` looks like a PRNG key."""
    if not isinstance(key, jax.Array):
        raise TypeError(
            f"{fn}: key must be a PRNG key (jax.random.key(seed)), got "
            f"{type(key).__name__}. The signature is {fn}(key, image, ...)."
        )


_NON_FINITE = (
    "{fn}: {name} is {value!r}, but it must be {expected}. A NaN or infinite "
    "{name} does not fail on its own: the output would be a plausible-looking but "
    "wrong image. Pass a finite value; if it is computed (a schedule, a ratio), "
    "check it with np.isfinite first. (Under jit, where values cannot be "
    "checked, a non-finite {name} makes the whole output NaN; all zeros for uint8.)"
)


def non_finite_message(fn: str, name: str, value: Any, expected: str) -> str:
    """The message for a NaN or infinite ``value``; ``expected`` says what is valid."""
    return _NON_FINITE.format(fn=fn, name=name, value=value, expected=expected)


def _expected(
    low: float, high: float, low_open: bool = False, high_open: bool = False
) -> str:
    """``bounds`` in words: 'a finite number >= 0', 'a number in [0, 1]', ..."""
    if math.isinf(low) and math.isinf(high):
        return "a finite number"
    if math.isinf(high):
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    return f"a number in {lo}{low:g}, {high:g}{hi}"


def check_finite(
    fn: str,
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raises unless a concrete ``value`` is a finite real scalar within the bounds.

    Traced values are let through (see :func:`nan_unless_finite`).

    Args:
      fn: the public function's name, for the message.
      name: the argument's name.
      value: what the user passed.
      low: lower bound of the valid interval.
      high: upper bound of the valid interval.
      low_open: whether ``low`` itself is excluded.
      high_open: whether ``high`` itself is excluded.

    Raises:
      TypeError: not a real number.
      ValueError: NaN, infinite, not a scalar, or outside the bounds.
    """
    if not isinstance(value, jax.core.Tracer):
        x = _checks.concrete_float(value)
        if x is not None and not math.isfinite(x):
            expected = _expected(low, high, low_open, high_open)
            raise ValueError(non_finite_message(fn, name, value, expected))
    _checks.check_number(
        f"{fn}: {name}",
        value,
        low=low,
        high=high,
        low_open=low_open,
        high_open=high_open,
    )


def check_probability(fn: str, name: str, p: Any) -> None:
    """Raises ValueError unless ``p`` is a probability in [0, 1] (or traced)."""
    check_finite(fn, name, p, low=0.0, high=1.0)


def invalid_where(x: jax.Array, valid: jax.Array | None) -> jax.Array:
    """``x`` where ``valid`` holds, else NaN (0 for integer arrays, which have no NaN).

    ``valid`` broadcasts against ``x`` (a scalar poisons the whole array); None
    returns ``x`` itself. For ``valid`` True the result is ``x``, bit for bit.
    """
    if valid is None:
        return x
    fill = jnp.nan if jnp.issubdtype(x.dtype, jnp.inexact) else 0
    return jnp.where(valid, x, jnp.asarray(fill, x.dtype))


def nan_unless_finite(x: jax.Array, *params: Any) -> jax.Array:
    """``x``, or all NaN (all 0 for ``uint8``) if a traced parameter is not finite.

    Concrete parameters were checked by :func:`check_finite` and add nothing
    to the computation; each traced one adds a scalar test and one select, so
    a NaN or infinite angle under ``jit`` shows up as NaN rather than as a
    black image. Nothing depends on the values at trace time: no recompiles.
    """
    traced = [p for p in params if isinstance(p, jax.core.Tracer)]
    if not traced:
        return x
    finite = functools.reduce(operator.and_, (jnp.all(jnp.isfinite(p)) for p in traced))
    return invalid_where(x, finite)


def check_size(fn: str, name: str, size: Any) -> tuple[int, int]:
    """Returns ``size`` (an int or a pair of ints) as (height, width) >= 1.

    Raises:
      ValueError: not a positive int or a pair of positive ints (shapes are
        static: Python ints, not arrays).
    """
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in pair
    ):
        raise ValueError(
            f"{fn}: {name} must be a positive int or a pair (height, width) of "
            f"positive Python ints, got {size!r}."
        )
    return pair[0], pair[1]


def is_integer_image(image: jax.Array) -> bool:
    """True for a uint8 image (values 0..255)."""
    return jnp.dtype(image.dtype) == jnp.uint8


def to_float(image: jax.Array) -> jax.Array:
    """The image as floats in [0, 1]: uint8 divided by 255, at least float32."""
    if is_integer_image(image):
        return image.astype(jnp.float32) / 255.0
    return image.astype(compute_dtype(image.dtype))


def from_float(x: jax.Array, dtype: Any, *, clip: bool = True) -> jax.Array:
    """Back to ``dtype``: uint8 rounded and saturated, floats clipped to [0, 1].

    Args:
      x: float values on the [0, 1] scale.
      dtype: the input image's dtype.
      clip: clip float results to [0, 1] (uint8 results are always saturated).
    """
    if jnp.dtype(dtype) == jnp.uint8:
        return jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0).astype(jnp.uint8)
    if clip:
        x = jnp.clip(x, 0.0, 1.0)
    return x.astype(dtype)


def float_dtype(image: jax.Array) -> Any:
    """The dtype :func:`to_float` computes ``image`` in (float32 for uint8)."""
    return (
        jnp.dtype(jnp.float32)
        if is_integer_image(image)
        else compute_dtype(image.dtype)
    )


def check_interval(
    fn: str, lower: ArrayLike, upper: ArrayLike, names: tuple[str, str], **bounds: Any
) -> None:
    """Checks both ends of a sampling interval, and ``lower <= upper``.

    ``bounds`` (``low=``, ``low_open=``, ...) go to :func:`check_finite` for
    each end; traced ends are let through.
    """
    check_finite(fn, names[0], lower, **bounds)
    check_finite(fn, names[1], upper, **bounds)
    lo, hi = _checks.concrete_float(lower), _checks.concrete_float(upper)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(
            f"{fn}: {names[0]} must be <= {names[1]}, got {names[0]}={lower!r} and "
            f"{names[1]}={upper!r}; the value is drawn from "
            f"Uniform[{names[0]}, {names[1]}]."
        )


def uniform(
    key: jax.Array, image: jax.Array, lo: ArrayLike, hi: ArrayLike
) -> jax.Array:
    """One draw from Uniform[lo, hi) in the image's compute dtype (jit-safe)."""
    dtype = float_dtype(image)
    return jax.random.uniform(
        key, (), dtype, jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)
    )
