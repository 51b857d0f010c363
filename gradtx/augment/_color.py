"""Photometric augmentations in HSV space: hue and saturation (RGB only).

Both convert each pixel to hue, saturation and value (HSV, the hexcone model
of Smith 1978), change one coordinate and convert back, with the semantics
of ``tf.image`` and ``dm_pix``. The intensity operations (brightness,
contrast, gamma, noise, normalization) live in :mod:`._tone`. Parameters must
be finite: a NaN or infinite concrete one raises ``ValueError``, a traced one
makes the output all NaN (all zeros for ``uint8``), see :mod:`._common`.

References:
  Smith, *Color Gamut Transform Pairs*, SIGGRAPH 1978,
  https://doi.org/10.1145/800248.807361
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
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
    "adjust_hue",
    "adjust_saturation",
    "random_hue",
    "random_saturation",
]


def _rgb_to_hsv(rgb: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Hue, saturation and value planes (each in [0, 1]) of an ``...3`` image.

    Hue is the fraction of a full turn from red; grey pixels (no chroma) get
    hue 0, black ones saturation 0, as in :mod:`colorsys`. Divisions use safe
    denominators, so gradients stay finite on grey and black pixels.
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = jnp.maximum(jnp.maximum(r, g), b)
    chroma = value - jnp.minimum(jnp.minimum(r, g), b)
    has_value, has_chroma = value > 0, chroma > 0
    saturation = jnp.where(has_value, chroma / jnp.where(has_value, value, 1), 0)
    c = jnp.where(has_chroma, chroma, 1)
    # The sector (of six) holding the hue follows from which channel is the
    # largest; ties go to red, then green, as in colorsys.
    sector = jnp.where(
        value == r,
        jnp.mod((g - b) / c, 6),
        jnp.where(value == g, (b - r) / c + 2, (r - g) / c + 4),
    )
    hue = jnp.where(has_chroma, sector / 6, 0)
    return hue, saturation, value


def _hsv_to_rgb(hue: jax.Array, saturation: jax.Array, value: jax.Array) -> jax.Array:
    """The ``...3`` RGB image of hue (wrapping modulo 1), saturation, value planes.

    Each channel is ``v - v s clip(min(k, 4 - k), 0, 1)`` with
    ``k = (n + 6 h) mod 6`` and ``n = 5, 3, 1`` for red, green, blue: the
    piecewise-linear hexcone written without a branch per sector.
    """
    turns = 6 * jnp.mod(hue, 1)

    def channel(n: int) -> jax.Array:
        k = jnp.mod(n + turns, 6)
        return value - value * saturation * jnp.clip(jnp.minimum(k, 4 - k), 0, 1)

    return jnp.stack([channel(5), channel(3), channel(1)], axis=-1)


def adjust_saturation(image: jax.Array, factor: ArrayLike) -> jax.Array:
    r"""Scales each pixel's HSV saturation by ``factor``.

    .. math:: (h, s, v) = \mathrm{hsv}(x), \qquad
       y = \mathrm{rgb}\big(h, \mathrm{clip}(f s, 0, 1), v\big)

    ``factor=0`` gives grey (each pixel's value, i.e. its largest channel:
    not a luma-weighted grayscale), ``factor=1`` the input, larger factors
    more vivid colours. Matches ``dm_pix.adjust_saturation`` and
    ``tf.image.adjust_saturation``.

    Args:
      image: one ``HWC`` RGB image, float in [0, 1] or ``uint8``.
      factor: :math:`f \ge 0`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: not an image of a supported dtype, or ``factor`` not a number.
      ValueError: a rank other than 3, not 3 channels, or ``factor``
        negative, NaN or infinite.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> red = jnp.array([1.0, 0.5, 0.5]).reshape(1, 1, 3)  # saturation 0.5
      >>> augment.adjust_saturation(red, 2.0).ravel().tolist()
      [1.0, 0.0, 0.0]
    """
    validate.image("adjust_saturation", image, rgb=True)
    validate.finite("adjust_saturation", "factor", factor, low=0.0)
    hue, saturation, value = _rgb_to_hsv(to_float(image))
    saturation = jnp.clip(saturation * jnp.asarray(factor, saturation.dtype), 0, 1)
    y = from_float(_hsv_to_rgb(hue, saturation, value), image.dtype)
    return nan_unless_finite(y, factor)


def random_saturation(
    key: jax.Array, image: jax.Array, lower: ArrayLike, upper: ArrayLike
) -> jax.Array:
    r""":func:`adjust_saturation` by a random factor :math:`f \sim \mathcal{U}[l, u]`.

    Args:
      key: a PRNG key.
      image: one ``HWC`` RGB image, float in [0, 1] or ``uint8``.
      lower: :math:`l \ge 0`.
      upper: :math:`u \ge l`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, not 3 channels, ``lower < 0``,
        ``lower > upper``, or a NaN or infinite bound.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> grey = jnp.full((2, 2, 3), 0.5)  # no colour to scale
      >>> y = augment.random_saturation(jax.random.key(0), grey, 0.5, 1.5)
      >>> y.ravel().tolist()[:3]
      [0.5, 0.5, 0.5]
    """
    names = ("lower", "upper")
    factor = draw_factor(
        "random_saturation", key, image, names, lower, upper, rgb=True, low=0.0
    )
    return adjust_saturation(image, factor)


def adjust_hue(image: jax.Array, delta: ArrayLike) -> jax.Array:
    r"""Rotates each pixel's hue by ``delta`` turns of the colour wheel.

    .. math:: (h, s, v) = \mathrm{hsv}(x), \qquad
       y = \mathrm{rgb}\big((h + \delta) \bmod 1, s, v\big)

    ``delta`` is a fraction of a full turn, not degrees: ``1/3`` sends red to
    green and green to blue; ``±0.5`` gives the complementary colours. Grey
    pixels do not change. Matches ``dm_pix.adjust_hue`` and
    ``tf.image.adjust_hue``.

    Args:
      image: one ``HWC`` RGB image, float in [0, 1] or ``uint8``.
      delta: :math:`\delta \in [-0.5, 0.5]`.

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: not an image of a supported dtype, or ``delta`` not a number.
      ValueError: a rank other than 3, not 3 channels, or ``delta`` outside
        [-0.5, 0.5] or NaN.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> red = jnp.array([1.0, 0.0, 0.0]).reshape(1, 1, 3)
      >>> augment.adjust_hue(red, 1 / 3).ravel().round(6).tolist()  # red -> green
      [0.0, 1.0, 0.0]
    """
    validate.image("adjust_hue", image, rgb=True)
    validate.finite("adjust_hue", "delta", delta, low=-0.5, high=0.5)
    hue, saturation, value = _rgb_to_hsv(to_float(image))
    hue = hue + jnp.asarray(delta, hue.dtype)
    y = from_float(_hsv_to_rgb(hue, saturation, value), image.dtype)
    return nan_unless_finite(y, delta)


def random_hue(key: jax.Array, image: jax.Array, max_delta: ArrayLike) -> jax.Array:
    r""":func:`adjust_hue` by a random :math:`\delta \sim \mathcal{U}[-\Delta, \Delta]`.

    Args:
      key: a PRNG key.
      image: one ``HWC`` RGB image, float in [0, 1] or ``uint8``.
      max_delta: :math:`\Delta \in [0, 0.5]`, in turns (0.5 reaches every hue).

    Returns:
      The adjusted image, with the input's shape, dtype and range.

    Raises:
      TypeError: ``key`` not a key, or not an image of a supported dtype.
      ValueError: a rank other than 3, not 3 channels, or ``max_delta``
        outside [0, 0.5] or NaN.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.linspace(0.0, 1.0, 12).reshape(2, 2, 3)
      >>> augment.random_hue(jax.random.key(0), x, 0.1).dtype
      dtype('float32')
    """
    delta = draw_delta("random_hue", key, image, max_delta, rgb=True, high=0.5)
    return adjust_hue(image, delta)
