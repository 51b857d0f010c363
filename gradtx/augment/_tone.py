"""Photometric augmentations that act on intensities: every channel alike.

Brightness, contrast, gamma, pixel noise and per-channel normalization. The
hue and saturation operations, which need RGB, live in :mod:`._color`.
Parameters are on the [0, 1] scale for every image dtype: a ``delta`` of 0.1
adds 25.5 to a ``uint8`` image before rounding.

Every parameter must be finite: a NaN or infinite concrete value raises
``ValueError`` (``delta=inf`` would silently give a white image, ``std=inf``
a binary one); a traced one makes the output all NaN (all zeros for
``uint8``), see :mod:`._common`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.augment._common import (
    draw_delta,
    draw_factor,
    from_float,
    nan_unless_finite,
    to_float,
)

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "gaussian_noise",
    "normalize",
    "random_brightness",
    "random_contrast",
    "random_gamma",
]


def adjust_brightness(image: jax.Array, delta: ArrayLike) -> jax.Array:
    r"""Adds ``delta`` to every pixel and channel, then clips.

    .. math:: y = \mathrm{clip}(x + \delta, 0, 1)

    ``delta`` is on the [0, 1] scale for every dtype: for a ``uint8`` image,
    ``delta=0.1`` adds :math:`0.1 \cdot 255 = 25.5` before rounding.

    Args:
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      delta: the shift, a finite number or a traced scalar (a traced NaN or
        infinite ``delta`` gives an all-NaN image, all zeros for ``uint8``).

    Returns:
      The shifted image, with the input's shape, dtype and range.

    Raises:
      TypeError: not an image of a supported dtype, or ``delta`` not a number.
      ValueError: an image of rank other than 3, or a NaN or infinite ``delta``.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.adjust_brightness(jnp.full((1, 2, 1), 0.5), 0.25).ravel().tolist()
      [0.75, 0.75]
    """
    validate.image("adjust_brightness", image)
    validate.finite("adjust_brightness", "delta", delta)
    x = to_float(image)
    y = from_float(x + jnp.asarray(delta, x.dtype), image.dtype)
    return nan_unless_finite(y, delta)


def random_brightness(
    key: jax.Array, image: jax.Array, max_delta: ArrayLike
) -> jax.Array:
    r""":func:`adjust_brightness` by a random :math:`\delta`.

    .. math:: \delta \sim \mathcal{U}[-\Delta, \Delta]

    Args:
      key: a PRNG key (``jax.random.key``).
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      max_delta: :math:`\Delta \ge 0`, on the [0, 1] scale.

    Returns:
      The shifted image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, or ``max_delta`` negative, NaN or
        infinite.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> grey = jnp.full((2, 2, 3), 0.5)
      >>> y = augment.random_brightness(jax.random.key(0), grey, 0.2)
      >>> bool(jnp.all(jnp.abs(y - 0.5) <= 0.2))
      True
    """
    delta = draw_delta("random_brightness", key, image, max_delta)
    return adjust_brightness(image, delta)


def adjust_contrast(image: jax.Array, factor: ArrayLike) -> jax.Array:
    r"""Scales each channel's deviation from its mean, as TF and dm-pix do.

    .. math:: y_{hwc} = \mathrm{clip}\big((x_{hwc} - \mu_c)\, f + \mu_c, 0, 1\big),
       \qquad \mu_c = \frac{1}{HW} \sum_{h, w} x_{hwc}

    ``factor=0`` gives a flat image of channel means; ``factor=1`` the input.
    The mean is per channel, so this is not the same as PIL's contrast (which
    blends with the mean of the grayscale image).

    Args:
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      factor: :math:`f \ge 0`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: not an image of a supported dtype, or ``factor`` not a number.
      ValueError: a rank other than 3, or ``factor`` negative, NaN or infinite.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.array([0.25, 0.75]).reshape(1, 2, 1)
      >>> augment.adjust_contrast(x, 0.5).ravel().tolist()  # the mean 0.5 stays put
      [0.375, 0.625]
    """
    validate.image("adjust_contrast", image)
    validate.finite("adjust_contrast", "factor", factor, low=0.0)
    x = to_float(image)
    mean = jnp.mean(x, axis=(0, 1), keepdims=True)
    y = from_float((x - mean) * jnp.asarray(factor, x.dtype) + mean, image.dtype)
    return nan_unless_finite(y, factor)


def random_contrast(
    key: jax.Array, image: jax.Array, lower: ArrayLike, upper: ArrayLike
) -> jax.Array:
    r""":func:`adjust_contrast` by a random factor :math:`f \sim \mathcal{U}[l, u]`.

    Args:
      key: a PRNG key.
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      lower: :math:`l \ge 0`.
      upper: :math:`u \ge l`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, ``lower < 0``, ``lower > upper``, or a
        NaN or infinite bound.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.linspace(0.0, 1.0, 12).reshape(2, 2, 3)
      >>> augment.random_contrast(jax.random.key(0), x, 0.5, 1.5).shape
      (2, 2, 3)
    """
    names = ("lower", "upper")
    factor = draw_factor("random_contrast", key, image, names, lower, upper, low=0.0)
    return adjust_contrast(image, factor)


def adjust_gamma(
    image: jax.Array, gamma: ArrayLike, gain: ArrayLike = 1.0
) -> jax.Array:
    r"""Gamma correction: a power law on intensities.

    .. math:: y = \mathrm{clip}(g \, x^{\gamma}, 0, 1)

    :math:`\gamma < 1` brightens dark regions, :math:`\gamma > 1` darkens
    them. Float inputs are clipped to [0, 1] first, so a value slightly below
    0 gives 0 rather than NaN.

    Args:
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      gamma: :math:`\gamma > 0`.
      gain: :math:`g \ge 0`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: not an image of a supported dtype, or a parameter not a number.
      ValueError: a rank other than 3, ``gamma <= 0``, ``gain < 0``, or a NaN
        or infinite parameter.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.adjust_gamma(jnp.full((1, 1, 1), 0.25), 0.5).ravel().tolist()
      [0.5]
    """
    validate.image("adjust_gamma", image)
    validate.finite("adjust_gamma", "gamma", gamma, low=0.0, low_open=True)
    validate.finite("adjust_gamma", "gain", gain, low=0.0)
    x = jnp.clip(to_float(image), 0.0, 1.0)
    y = jnp.asarray(gain, x.dtype) * x ** jnp.asarray(gamma, x.dtype)
    return nan_unless_finite(from_float(y, image.dtype), gamma, gain)


def random_gamma(
    key: jax.Array,
    image: jax.Array,
    min_gamma: ArrayLike,
    max_gamma: ArrayLike,
    gain: ArrayLike = 1.0,
) -> jax.Array:
    r""":func:`adjust_gamma` with a random exponent.

    .. math:: \gamma \sim \mathcal{U}[\gamma_{min}, \gamma_{max}]

    Args:
      key: a PRNG key.
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      min_gamma: :math:`\gamma_{min} > 0`.
      max_gamma: :math:`\gamma_{max} \ge \gamma_{min}`.
      gain: :math:`g \ge 0`, fixed.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, ``min_gamma <= 0``, ``min_gamma >
        max_gamma``, ``gain < 0``, or a NaN or infinite parameter.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> grey = jnp.full((1, 1, 1), 0.5)
      >>> y = augment.random_gamma(jax.random.key(0), grey, 0.8, 1.25)
      >>> 0.5**1.25 <= y.item() <= 0.5**0.8
      True
    """
    names = ("min_gamma", "max_gamma")
    gamma = draw_factor(
        "random_gamma", key, image, names, min_gamma, max_gamma, low=0.0, low_open=True
    )
    return adjust_gamma(image, gamma, gain)


def gaussian_noise(key: jax.Array, image: jax.Array, std: ArrayLike) -> jax.Array:
    r"""Adds independent Gaussian noise to every pixel and channel, then clips.

    .. math:: y = \mathrm{clip}(x + \sigma \varepsilon, 0, 1),
       \qquad \varepsilon_{hwc} \sim \mathcal{N}(0, 1)

    ``std`` is on the [0, 1] scale for every dtype (``std=0.02`` is about 5
    grey levels of a ``uint8`` image). Clipping makes the noise biased
    towards the middle near 0 and 1.

    Args:
      key: a PRNG key.
      image: one ``HWC`` image, float in [0, 1] or ``uint8``.
      std: :math:`\sigma \ge 0`.

    Returns:
      The noisy image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, or ``std`` negative, NaN or infinite.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> grey = jnp.full((64, 64, 3), 0.5)
      >>> y = augment.gaussian_noise(jax.random.key(0), grey, 0.01)
      >>> round(float(jnp.std(y)), 2)
      0.01
    """
    validate.key("gaussian_noise", "key", key)
    validate.image("gaussian_noise", image)
    validate.finite("gaussian_noise", "std", std, low=0.0)
    x = to_float(image)
    noise = jax.random.normal(key, x.shape, x.dtype)
    y = from_float(x + jnp.asarray(std, x.dtype) * noise, image.dtype)
    return nan_unless_finite(y, std)


def normalize(
    image: jax.Array,
    mean: ArrayLike | Sequence[float],
    std: ArrayLike | Sequence[float],
) -> jax.Array:
    r"""Standardizes each channel: subtracts a mean and divides by a std.

    .. math:: y_{hwc} = \frac{x_{hwc} - m_c}{s_c}

    This is the last step of a pipeline: the result is no longer in [0, 1]
    and is not clipped. It takes float images only, because the usual
    statistics (e.g. ImageNet's ``mean=(0.485, 0.456, 0.406)``,
    ``std=(0.229, 0.224, 0.225)``) are on the [0, 1] scale; a ``uint8`` image
    raises rather than being silently rescaled.

    Args:
      image: one ``HWC`` float image in [0, 1].
      mean: :math:`m`, a finite scalar or one value per channel.
      std: :math:`s > 0`, finite, a scalar or one value per channel. (An
        infinite ``std`` would give a zero image; traced non-finite ``mean``
        or ``std`` gives an all-NaN one.)

    Returns:
      The standardized image, with the input's shape and (float) dtype.

    Raises:
      TypeError: a ``uint8`` (or other non-float) image.
      ValueError: a rank other than 3, ``mean`` or ``std`` neither a scalar nor
        of length ``channels``, a NaN or infinite value, or a ``std`` that is
        not > 0.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.full((1, 1, 2), 0.5)
      >>> augment.normalize(x, mean=(0.5, 0.25), std=(0.5, 0.25)).ravel().tolist()
      [0.0, 1.0]
    """
    validate.image("normalize", image, floats=True)
    x = to_float(image)
    m = _per_channel("mean", mean, x)
    s = _per_channel("std", std, x)
    expected = f"finite in the image's dtype {x.dtype}, one value or one per channel"
    for name, raw in (("mean", mean), ("std", std)):
        # Checked in the image's dtype: a std of 1e39 is inf in float32.
        validate.finite("normalize", name, raw, expected=expected, dtype=x.dtype)
    if not isinstance(s, jax.core.Tracer):
        values = np.asarray(s)
        if not np.all(values > 0):
            raise validate.error(
                ValueError, "normalize", f"std must be > 0, got {std!r}."
            )
    # An infinite std would give a zero image; a traced one gives NaN instead.
    return nan_unless_finite(from_float((x - m) / s, image.dtype, clip=False), m, s)


def _per_channel(name: str, value: Any, x: jax.Array) -> jax.Array:
    """``value`` as a scalar or a (1, 1, C) array in ``x``'s dtype."""
    channels = x.shape[-1]
    try:
        arr = jnp.asarray(value, x.dtype)
    except (TypeError, ValueError) as e:
        raise validate.error(
            TypeError,
            "normalize",
            f"{name} must be a number or {channels} numbers (one per channel), got "
            f"{value!r}.",
        ) from e
    if arr.ndim == 0:
        return arr
    if arr.shape != (channels,):
        raise validate.error(
            ValueError,
            "normalize",
            f"{name} must be a scalar or have one value per channel (shape "
            f"({channels},)), got shape {arr.shape} for an image of shape {x.shape}.",
        )
    return arr[None, None, :]
