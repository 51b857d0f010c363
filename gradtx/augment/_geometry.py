"""Exact geometric augmentations: flips, quarter turns, crops and padding.

None of these interpolates: every output pixel is an input pixel (or the
padding value), so they are exact for any dtype. The flip probability ``p``
and the padding value ``cval`` follow :mod:`._common`'s rule: a NaN or
infinite concrete value raises, a traced one makes the output NaN (all zeros
for ``uint8``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.augment import _common

__all__ = [
    "center_crop",
    "flip_left_right",
    "flip_up_down",
    "pad_to_size",
    "random_crop",
    "random_flip_left_right",
    "random_flip_up_down",
    "rot90",
]

_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


def flip_left_right(image: jax.Array) -> jax.Array:
    """Mirrors an HWC image horizontally (reverses the width axis).

    Args:
      image: one image, ``(height, width, channels)``.

    Returns:
      The mirrored image; flipping twice gives ``image`` back.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.flip_left_right(jnp.arange(3.0).reshape(1, 3, 1))[0, :, 0]
      Array([2., 1., 0.], dtype=float32)
    """
    validate.image("flip_left_right", image)
    return image[:, ::-1, :]


def flip_up_down(image: jax.Array) -> jax.Array:
    """Mirrors an HWC image vertically (reverses the height axis).

    Args:
      image: one image, ``(height, width, channels)``.

    Returns:
      The mirrored image.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.flip_up_down(jnp.arange(3.0).reshape(3, 1, 1))[:, 0, 0]
      Array([2., 1., 0.], dtype=float32)
    """
    validate.image("flip_up_down", image)
    return image[::-1, :, :]


def _random_flip(
    fn: str, key: jax.Array, image: jax.Array, p: Any, axis: int
) -> jax.Array:
    validate.key(fn, "key", key)
    validate.image(fn, image)
    validate.finite(fn, "p", p, low=0.0, high=1.0)
    flip = jax.random.bernoulli(key, p)
    out = jnp.where(flip, jnp.flip(image, axis=axis), image)
    return _common.nan_unless_finite(out, p)  # a traced NaN p never flips


def random_flip_left_right(key: jax.Array, image: jax.Array, p: Any = 0.5) -> jax.Array:
    """Mirrors the image horizontally with probability ``p``.

    Under ``jax.vmap`` over split keys (or :func:`gradtx.augment.batch`) every
    image draws its own coin. The draw is ``jax.random.bernoulli(key, p)``, as
    in dm-pix, so the same key flips the same images.

    Args:
      key: a PRNG key.
      image: one image, ``(height, width, channels)``.
      p: the probability of flipping, in [0, 1].

    Returns:
      The image, flipped or not.

    Raises:
      ValueError: ``p`` outside [0, 1] or NaN, or not one HWC image. A traced
        NaN ``p`` gives an all-NaN image (all zeros for ``uint8``).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.arange(2.0).reshape(1, 2, 1)
      >>> augment.random_flip_left_right(jax.random.key(0), x, p=1.0)[0, :, 0]
      Array([1., 0.], dtype=float32)
    """
    return _random_flip("random_flip_left_right", key, image, p, axis=1)


def random_flip_up_down(key: jax.Array, image: jax.Array, p: Any = 0.5) -> jax.Array:
    """Mirrors the image vertically with probability ``p``.

    Args:
      key: a PRNG key.
      image: one image, ``(height, width, channels)``.
      p: the probability of flipping, in [0, 1].

    Returns:
      The image, flipped or not.

    Raises:
      ValueError: ``p`` outside [0, 1] or NaN, or not one HWC image (a traced
        NaN ``p``: see :func:`random_flip_left_right`).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.arange(2.0).reshape(2, 1, 1)
      >>> augment.random_flip_up_down(jax.random.key(0), x, p=0.0)[:, 0, 0]
      Array([0., 1.], dtype=float32)
    """
    return _random_flip("random_flip_up_down", key, image, p, axis=0)


def rot90(image: jax.Array, k: int = 1) -> jax.Array:
    """Rotates the image by ``k`` quarter turns counter-clockwise (as displayed).

    Args:
      image: one image, ``(height, width, channels)``.
      k: the number of quarter turns (negative: clockwise).

    Returns:
      The rotated image; height and width swap for odd ``k``.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.rot90(jnp.array([[1.0, 2.0], [3.0, 4.0]])[..., None])[..., 0]
      Array([[2., 4.],
             [1., 3.]], dtype=float32)
    """
    validate.image("rot90", image)
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"rot90: k must be a Python int, got {k!r}.")
    return jnp.rot90(image, k, axes=(0, 1))


def center_crop(image: jax.Array, height: int, width: int) -> jax.Array:
    """Crops the central ``height x width`` window.

    The window starts at row ``H // 2 - height // 2`` and column
    ``W // 2 - width // 2`` (as dm-pix and TensorFlow).

    Args:
      image: one image, ``(H, W, channels)``.
      height: the crop's height, a Python int in [1, H].
      width: the crop's width, a Python int in [1, W].

    Returns:
      The ``(height, width, channels)`` window.

    Raises:
      ValueError: a size that is not a positive int, or larger than the image.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.center_crop(jnp.arange(16.0).reshape(4, 4, 1), 2, 2)[..., 0]
      Array([[ 5.,  6.],
             [ 9., 10.]], dtype=float32)
    """
    validate.image("center_crop", image)
    h, w = validate.image_size("center_crop", "(height, width)", (height, width))
    big_h, big_w = image.shape[0], image.shape[1]
    if h > big_h or w > big_w:
        raise ValueError(
            f"center_crop: the crop ({h}, {w}) is larger than the image "
            f"({big_h}, {big_w}); use pad_to_size first."
        )
    top, left = big_h // 2 - h // 2, big_w // 2 - w // 2
    return image[top : top + h, left : left + w, :]


def _pad(
    fn: str, image: jax.Array, widths: tuple[tuple[int, int], ...], mode: str, cval: Any
) -> jax.Array:
    if mode not in _PAD_MODES:
        raise ValueError(
            f"{fn}: pad_mode must be one of {sorted(_PAD_MODES)}, got {mode!r}."
        )
    if mode == "reflect" and any(
        max(widths[i]) >= image.shape[i] for i in range(2) if max(widths[i])
    ):
        raise ValueError(
            f"{fn}: reflect padding of {widths[:2]} needs an image larger than the "
            f"padding; the image is {image.shape[:2]}. Use pad_mode='edge'."
        )
    if mode != "constant":
        return jnp.pad(image, widths, mode=_PAD_MODES[mode])
    validate.finite(fn, "cval", cval, low=0.0, high=1.0)  # a value on the [0, 1] scale
    fill = jnp.asarray(cval, jnp.float32)
    if _common.is_integer_image(image):
        fill = jnp.round(fill * 255.0)
    out = jnp.pad(image, widths, constant_values=fill.astype(image.dtype))
    return _common.nan_unless_finite(out, cval)


def pad_to_size(
    image: jax.Array,
    height: int,
    width: int,
    *,
    pad_mode: str = "constant",
    cval: Any = 0.0,
) -> jax.Array:
    """Pads the image to ``height x width``, the extra split evenly (top/left less).

    Args:
      image: one image, ``(H, W, channels)``.
      height: the target height, a Python int >= H.
      width: the target width, a Python int >= W.
      pad_mode: ``"constant"`` (``cval``), ``"reflect"`` (mirror without
        repeating the edge) or ``"edge"`` (repeat the edge pixel).
      cval: the padding value on the [0, 1] scale (255 * cval for uint8). A
        traced NaN or infinite ``cval`` gives an all-NaN image (all zeros for
        ``uint8``).

    Returns:
      The ``(height, width, channels)`` image.

    Raises:
      ValueError: a target smaller than the image, an unknown ``pad_mode``, or
        a ``cval`` outside [0, 1] or NaN.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> augment.pad_to_size(jnp.ones((1, 1, 1)), 3, 2)[..., 0]
      Array([[0., 0.],
             [1., 0.],
             [0., 0.]], dtype=float32)
    """
    validate.image("pad_to_size", image)
    h, w = validate.image_size("pad_to_size", "(height, width)", (height, width))
    dh, dw = h - image.shape[0], w - image.shape[1]
    if dh < 0 or dw < 0:
        raise ValueError(
            f"pad_to_size: the target ({h}, {w}) is smaller than the image "
            f"{image.shape[:2]}; use center_crop to shrink."
        )
    widths = ((dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2), (0, 0))
    return _pad("pad_to_size", image, widths, pad_mode, cval)


def random_crop(
    key: jax.Array,
    image: jax.Array,
    size: int | tuple[int, int],
    *,
    padding: int | tuple[int, int] = 0,
    pad_mode: str = "constant",
    cval: Any = 0.0,
) -> jax.Array:
    """Pads each side by ``padding``, then crops a uniformly placed window.

    The classic CIFAR recipe is ``random_crop(key, x, 32, padding=4)``: every
    one of the :math:`(H + 2p - h + 1)(W + 2p - w + 1)` windows is equally
    likely. The offsets are drawn as dm-pix draws them (one key per axis from
    ``jax.random.split(key, 3)``), so without padding the same key gives the
    same crop as ``dm_pix.random_crop``.

    Args:
      key: a PRNG key.
      image: one image, ``(H, W, channels)``.
      size: the crop, an int (square) or ``(height, width)``: Python ints.
      padding: pixels added to each side first: an int or ``(rows, cols)``.
      pad_mode: ``"constant"``, ``"reflect"`` or ``"edge"`` (see
        :func:`pad_to_size`).
      cval: the constant padding value on the [0, 1] scale (a traced
        non-finite one: see :func:`pad_to_size`).

    Returns:
      The ``(height, width, channels)`` crop.

    Raises:
      ValueError: a crop larger than the padded image, a negative padding, an
        unknown ``pad_mode``, a ``cval`` outside [0, 1] or NaN, or not one HWC
        image.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.ones((4, 4, 3))
      >>> augment.random_crop(jax.random.key(0), x, 4, padding=2).shape
      (4, 4, 3)
    """
    validate.key("random_crop", "key", key)
    validate.image("random_crop", image)
    h, w = validate.image_size("random_crop", "size", size)
    pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if len(pad) != 2 or not all(
        isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in pad
    ):
        raise ValueError(
            f"random_crop: padding must be an int >= 0 or a pair of them, got "
            f"{padding!r}."
        )
    if pad_mode not in _PAD_MODES:
        raise ValueError(
            f"random_crop: pad_mode must be one of {sorted(_PAD_MODES)}, got "
            f"{pad_mode!r}."
        )
    if any(pad):
        widths = ((pad[0], pad[0]), (pad[1], pad[1]), (0, 0))
        image = _pad("random_crop", image, widths, pad_mode, cval)
    big_h, big_w = image.shape[0], image.shape[1]
    if h > big_h or w > big_w:
        raise ValueError(
            f"random_crop: size ({h}, {w}) is larger than the padded image "
            f"({big_h}, {big_w}) (padding {pad}); crop smaller or pad more."
        )
    k_h, k_w, _ = jax.random.split(key, 3)
    top = jax.random.randint(k_h, (), 0, big_h - h + 1)
    left = jax.random.randint(k_w, (), 0, big_w - w + 1)
    zero = jnp.zeros((), top.dtype)
    return jax.lax.dynamic_slice(image, (top, left, zero), (h, w, image.shape[2]))
