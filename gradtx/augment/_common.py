"""What every augmentation shares: input checks and the dtype/range convention.

Images are one ``HWC`` array (height, width, channels). Float images hold
values in [0, 1]; ``uint8`` images hold 0..255. Operations compute in float
(at least float32) and return the input's dtype and range: ``uint8`` results
are rounded and saturated to 0..255, float results clipped to [0, 1] where the
operation can leave the range (brightness, contrast, noise, ...).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx import _checks
from gradtx._numerics import compute_dtype

__all__ = [
    "check_image",
    "check_interval",
    "check_key",
    "check_probability",
    "check_size",
    "float_dtype",
    "from_float",
    "is_integer_image",
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


def check_probability(name: str, p: Any) -> None:
    """Raises ValueError unless ``p`` is a probability in [0, 1] (or traced)."""
    _checks.check_number(name, p, low=0.0, high=1.0)


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

    ``bounds`` (``low=``, ``low_open=``, ...) go to ``check_number`` for each
    end; traced ends are let through.
    """
    _checks.check_number(f"{fn}: {names[0]}", lower, **bounds)
    _checks.check_number(f"{fn}: {names[1]}", upper, **bounds)
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
