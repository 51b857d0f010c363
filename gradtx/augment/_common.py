"""What every augmentation shares: the dtype/range convention, NaN for bad tracers.

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

from gradtx._internal import validate
from gradtx._internal.numerics import compute_dtype

__all__ = [
    "draw_delta",
    "draw_factor",
    "float_dtype",
    "from_float",
    "invalid_where",
    "is_integer_image",
    "nan_unless_finite",
    "to_float",
    "uniform",
]


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

    Concrete parameters were checked by ``validate.finite`` and add nothing
    to the computation; each traced one adds a scalar test and one select, so
    a NaN or infinite angle under ``jit`` shows up as NaN rather than as a
    black image. Nothing depends on the values at trace time: no recompiles.
    """
    traced = [p for p in params if isinstance(p, jax.core.Tracer)]
    if not traced:
        return x
    finite = functools.reduce(operator.and_, (jnp.all(jnp.isfinite(p)) for p in traced))
    return invalid_where(x, finite)


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


def uniform(
    key: jax.Array, image: jax.Array, lo: ArrayLike, hi: ArrayLike
) -> jax.Array:
    """One draw from Uniform[lo, hi) in the image's compute dtype (jit-safe)."""
    dtype = float_dtype(image)
    return jax.random.uniform(
        key, (), dtype, jnp.asarray(lo, dtype), jnp.asarray(hi, dtype)
    )


def draw_factor(
    fn: str,
    key: jax.Array,
    image: jax.Array,
    names: tuple[str, str],
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    rgb: bool = False,
    **bounds: Any,
) -> jax.Array:
    """The factor of a random adjustment, from Uniform[lower, upper).

    Checks ``key``, ``image`` (RGB with ``rgb``) and the range (its ends
    named ``names``, each within ``bounds``) first, in that order.
    """
    _key_and_image(fn, key, image, rgb)
    validate.sample_range(fn, names, lower, upper, **bounds)
    return uniform(key, image, lower, upper)


def draw_delta(
    fn: str,
    key: jax.Array,
    image: jax.Array,
    max_delta: ArrayLike,
    *,
    rgb: bool = False,
    high: float = math.inf,
) -> jax.Array:
    """The shift of a random adjustment, from Uniform[-max_delta, max_delta).

    Checks ``key``, ``image`` (RGB with ``rgb``) and ``max_delta`` (in
    ``[0, high]``) first, in that order.
    """
    _key_and_image(fn, key, image, rgb)
    validate.finite(fn, "max_delta", max_delta, low=0.0, high=high)
    return uniform(key, image, -jnp.asarray(max_delta), max_delta)


def _key_and_image(fn: str, key: jax.Array, image: jax.Array, rgb: bool) -> None:
    validate.key(fn, "key", key)
    validate.image(fn, image, rgb=rgb)
