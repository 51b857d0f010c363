"""Checks of array arguments: images, sizes, masks, device groups."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from gradtx._internal.validate._caller import error

__all__ = [
    "axis_index_groups",
    "image",
    "image_size",
    "images",
    "mask",
    "per_channel",
]


def _array_of_rank(
    fn: str, name: str, value: Any, what: str, layout: str, advice: str
) -> None:
    """Raises unless ``value`` is an array with one axis per name in ``layout``.

    ``what`` says what the array is (``"one image"``) and ``advice`` ends the
    message of a wrong rank.
    """
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        raise error(
            TypeError,
            fn,
            f"{name} must be an array of shape {layout}, got {type(value).__name__}.",
        )
    if jnp.ndim(value) != len(layout.split(",")):
        raise error(
            ValueError,
            fn,
            f"{name} must be {what} of shape {layout}, got shape "
            f"{tuple(value.shape)}. {advice}",
        )


def image(fn: str, value: Any, *, rgb: bool = False, floats: bool = False) -> None:
    """Raises unless ``value`` is one HWC image (rank 3) of a supported dtype.

    Float images hold values in [0, 1], ``uint8`` images 0..255.

    Args:
      fn: the public function's name.
      value: what the user passed as ``image``.
      rgb: require exactly 3 channels.
      floats: require a floating-point dtype (for float-only operations).

    Raises:
      TypeError: not an array, or a dtype that is neither float nor uint8 (or
        not float when ``floats``).
      ValueError: a rank other than 3, or not 3 channels when ``rgb``.
    """
    _array_of_rank(
        fn,
        "image",
        value,
        "one image",
        "(height, width, channels)",
        f"For a batch, use gradtx.augment.batch({fn}) (jax.vmap over split keys); "
        "add a channel axis to a grayscale image with image[..., None].",
    )
    dt = jnp.dtype(value.dtype)
    is_float = jnp.issubdtype(dt, jnp.floating)
    if floats and not is_float:
        raise error(
            TypeError,
            fn,
            f"image has dtype {dt}, but this operation needs a float image in "
            "[0, 1]; convert with image.astype(jnp.float32) / 255.",
        )
    if not (is_float or dt == jnp.uint8):
        raise error(
            TypeError,
            fn,
            f"image has dtype {dt}; expected a float image in [0, 1] or a uint8 "
            "image in 0..255.",
        )
    if rgb and value.shape[-1] != 3:
        raise error(
            ValueError,
            fn,
            f"image must be RGB (3 channels last), got shape {tuple(value.shape)}.",
        )


def images(fn: str, value: Any) -> tuple[int, int, int]:
    """Raises unless ``value`` is a batch ``(N, H, W, C)``; returns N, H, W."""
    _array_of_rank(
        fn,
        "images",
        value,
        "a batch",
        "(batch, height, width, channels)",
        f"{fn} mixes each image with another image of the batch; add a batch axis "
        "with images[None] only if you really mean to mix an image with itself.",
    )
    dt = jnp.dtype(value.dtype)
    if not (jnp.issubdtype(dt, jnp.floating) or dt == jnp.uint8):
        raise error(
            TypeError,
            fn,
            f"images have dtype {dt}; expected float images in [0, 1] or uint8 "
            "images in 0..255.",
        )
    n, h, w, _ = (int(s) for s in value.shape)
    return n, h, w


def image_size(fn: str, name: str, value: Any) -> tuple[int, int]:
    """Returns ``value`` (an int or a pair of ints) as (height, width) >= 1.

    Raises:
      ValueError: not a positive int or a pair of positive ints (shapes are
        static: Python ints, not arrays).
    """
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in pair
    ):
        raise error(
            ValueError,
            fn,
            f"{name} must be a positive int or a pair (height, width) of positive "
            f"Python ints, got {value!r}.",
        )
    return pair[0], pair[1]


def mask(
    fn: str, name: str, value: Any, shape: tuple[int, ...], *, meaning: str
) -> None:
    """Raises unless ``value`` is None or a boolean array that broadcasts to shape.

    ``meaning`` says what True means, for the message.
    """
    if value is None:
        return
    dt = jnp.result_type(value)
    if dt != jnp.bool_:
        raise error(
            TypeError,
            fn,
            f"{name} has dtype {dt}; it must be boolean (True: {meaning}), e.g. "
            f"{name}=labels >= 0 or {name}.astype(bool).",
        )
    value_shape = tuple(jnp.shape(value))
    try:
        broadcast = np.broadcast_shapes(value_shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        example = shape[:1] + (1,) * (len(shape) - 1)
        raise error(
            ValueError,
            fn,
            f"{name} has shape {value_shape}, which does not broadcast to the "
            f"input's shape {shape}; give it the input's shape, or 1 along the "
            f"axes it does not vary on (e.g. {example} to mask whole examples).",
        )


def per_channel(fn: str, name: str, value: Any, shape: tuple[int, ...]) -> None:
    """Raises unless ``value`` is a scalar or one value per channel.

    The channels are the last axis of an input of ``shape``; a 1-D ``value``
    of one element counts as a scalar.
    """
    value_shape = np.shape(value)
    channels = shape[-1] if shape else None
    if len(value_shape) > 1 or (
        len(value_shape) == 1 and value_shape[0] not in (1, channels)
    ):
        raise error(
            ValueError,
            fn,
            f"{name} must be a scalar or a 1-D array of one value per channel "
            f"(the last axis of x, {channels} channels for x of shape {shape}); "
            f"got shape {value_shape}.",
        )


def axis_index_groups(
    fn: str, value: Sequence[Sequence[int]] | None, axis_name: str | None
) -> tuple[tuple[int, ...], ...] | None:
    """Checks ``axis_index_groups`` (as ``lax.psum``'s) and returns it as tuples."""
    if value is None:
        return None
    if axis_name is None:
        raise error(
            ValueError,
            fn,
            f"axis_index_groups={value!r} splits the devices of a mapped axis into "
            "groups, but axis_name is None; pass axis_name= (the pmap axis) too, "
            "or drop axis_index_groups.",
        )
    try:
        out = tuple(tuple(operator.index(i) for i in group) for group in value)
    except TypeError:
        out = ()
    flat = [i for group in out for i in group]
    sizes = {len(group) for group in out}
    if (
        not out
        or sizes == {0}
        or len(sizes) != 1
        or min(flat) < 0
        or len(set(flat)) != len(flat)
    ):
        raise error(
            ValueError,
            fn,
            f"axis_index_groups={value!r} must be groups of device indices of "
            "equal size, each index once, e.g. [[0, 1], [2, 3]] for 4 devices "
            "normalized in pairs (as lax.psum's axis_index_groups).",
        )
    return out
