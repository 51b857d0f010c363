"""Resampling augmentations: rotation and random affine maps, one interpolation each.

Every function here is "pull" resampling: the output pixel at ``o = (row,
col)`` takes the input's value at

.. math::
   s = A\\,(o - c) + c + t, \\qquad
   c = \\left(\\tfrac{H-1}{2}, \\tfrac{W-1}{2}\\right)

interpolated bilinearly (``order=1``) or from the nearest pixel (``order=0``).
A function's random draws are separate from its resampling
(:data:`AFFINE_STAGES` maps each function to its ``(A, t)`` builder), which
lets :func:`gradtx.augment.chain` compose consecutive stages into one
resampling: ``A = A_1 A_2``, ``t = A_1 t_2 + t_1``.

Angles, ranges and ``cval`` must be finite. A NaN or infinite concrete value
raises ``ValueError``; under ``jit`` a non-finite traced value (or a map that
overflows, e.g. a huge translation) gives an all-NaN image (all zeros for
``uint8``, which cannot hold NaN), never the all-``cval`` image that a NaN
angle would otherwise produce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.augment import _common

__all__ = ["AFFINE_STAGES", "random_affine", "random_rotation", "resample", "rotate"]

_MODES = ("constant", "nearest", "reflect", "wrap")
Affine = tuple[jax.Array, jax.Array]


def _check_resampling(fn: str, order: Any, mode: Any, cval: Any) -> None:
    """The resampling arguments of rotate, random_rotation and random_affine."""
    if order not in (0, 1) or isinstance(order, bool):
        raise validate.error(
            ValueError, fn, f"order must be 0 (nearest) or 1 (bilinear), got {order!r}."
        )
    if mode not in _MODES:
        raise validate.error(
            ValueError, fn, f"mode must be one of {list(_MODES)}, got {mode!r}."
        )
    validate.finite(fn, "cval", cval, low=0.0, high=1.0)


def _fold(index: jax.Array, size: int, mode: str) -> jax.Array:
    """Maps integer indices onto [0, size) for the non-constant modes."""
    if mode == "wrap":
        return jnp.mod(index, size)
    if mode == "reflect":  # half-sample symmetric: d c b a | a b c d | d c b a
        period = 2 * size
        index = jnp.mod(index, period)
        return jnp.where(index >= size, period - 1 - index, index)
    return jnp.clip(index, 0, size - 1)


def resample(
    image: jax.Array, affine: Affine, *, order: int, mode: str, cval: Any
) -> jax.Array:
    """Pulls ``image`` through ``(A, t)`` (see the module docstring); no checks.

    In ``"constant"`` mode a sample whose position lies outside the image
    (beyond the outermost pixel centres for bilinear, by more than 1e-3
    pixel; beyond the outermost pixels for nearest) is ``cval``, as in dm-pix.
    A non-finite ``A`` or ``t`` (or a traced non-finite ``cval``) gives an
    all-NaN image (all zeros for ``uint8``).
    """
    a, t = affine
    height, width, _ = image.shape
    x = _common.to_float(image)
    dtype = x.dtype
    center = jnp.asarray([(height - 1) / 2, (width - 1) / 2], dtype)
    rows = jnp.arange(height, dtype=dtype)[:, None] - center[0]
    cols = jnp.arange(width, dtype=dtype)[None, :] - center[1]
    a, t = a.astype(dtype), t.astype(dtype)
    src_r = a[0, 0] * rows + a[0, 1] * cols + (center[0] + t[0])
    src_c = a[1, 0] * rows + a[1, 1] * cols + (center[1] + t[1])
    fill = jnp.asarray(cval, dtype)

    def gather(r: jax.Array, c: jax.Array) -> jax.Array:
        return x[_fold(r, height, mode), _fold(c, width, mode)]

    if order == 0:
        # Ties round away from zero, as jax.scipy.ndimage.map_coordinates.
        r = (jnp.sign(src_r) * jnp.floor(jnp.abs(src_r) + 0.5)).astype(jnp.int32)
        c = (jnp.sign(src_c) * jnp.floor(jnp.abs(src_c) + 0.5)).astype(jnp.int32)
        out = gather(r, c)
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
    else:
        r0f, c0f = jnp.floor(src_r), jnp.floor(src_c)
        wr, wc = (src_r - r0f)[..., None], (src_c - c0f)[..., None]
        r0, c0 = r0f.astype(jnp.int32), c0f.astype(jnp.int32)
        top = gather(r0, c0) * (1 - wc) + gather(r0, c0 + 1) * wc
        bottom = gather(r0 + 1, c0) * (1 - wc) + gather(r0 + 1, c0 + 1) * wc
        out = top * (1 - wr) + bottom * wr
        # Positions within 1e-3 pixel of the border count as on it: rounding in
        # cos/sin must not turn a border pixel into fill (e.g. a quarter turn).
        tol = 1e-3
        inside = (src_r >= -tol) & (src_r <= height - 1 + tol)
        inside = inside & (src_c >= -tol) & (src_c <= width - 1 + tol)
    if mode == "constant":
        out = jnp.where(inside[..., None], out, fill)
    # A NaN map would read as "outside" everywhere: an all-cval image that
    # looks like data. A non-finite map has no image; say so with NaN.
    finite = jnp.all(jnp.isfinite(a)) & jnp.all(jnp.isfinite(t))
    out = _common.invalid_where(_common.from_float(out, image.dtype), finite)
    return _common.nan_unless_finite(out, cval)


def _rotation(angle: jax.Array) -> jax.Array:
    """The pull matrix of a counter-clockwise rotation by ``angle`` (rows down)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.stack([jnp.stack([c, s]), jnp.stack([-s, c])])


def _float(value: Any) -> jax.Array:
    return jnp.asarray(value, jnp.float32)


def _rotate_affine(_key: Any, _shape: Any, angle: Any = 0.0) -> Affine:
    return _rotation(_float(angle)), jnp.zeros(2, jnp.float32)


def _symmetric(key: jax.Array, bound: Any) -> jax.Array:
    """One float32 draw from Uniform[-bound, bound)."""
    b = _float(bound)
    return jax.random.uniform(key, (), jnp.float32, -b, b)


def _random_rotation_affine(
    key: jax.Array, _shape: Any, max_angle: Any = 0.0
) -> Affine:
    return _rotate_affine(None, None, _symmetric(key, max_angle))


def _pair(fn: str, name: str, value: Any, meaning: str) -> tuple[Any, Any]:
    """``value`` as a pair: a number ``v`` is ``(v, v)``."""
    pair = tuple(value) if isinstance(value, tuple | list) else (value, value)
    if len(pair) != 2:
        raise ValueError(
            f"{fn}: {name} must be a number or a pair {meaning}, got {value!r}."
        )
    return pair


def _random_affine_affine(
    key: jax.Array,
    shape: tuple[int, ...],
    max_angle: Any = 0.0,
    scale: Any = (1.0, 1.0),
    max_shear: Any = 0.0,
    max_translate: Any = 0.0,
) -> Affine:
    lo_s, hi_s = _pair("random_affine", "scale", scale, "(low, high)")
    k_angle, k_scale, k_shear, k_t = jax.random.split(key, 4)
    angle = _symmetric(k_angle, max_angle)
    zoom = jax.random.uniform(k_scale, (), jnp.float32, _float(lo_s), _float(hi_s))
    shear = _symmetric(k_shear, max_shear)
    rows, cols = _pair("random_affine", "max_translate", max_translate, "(rows, cols)")
    tb = jnp.asarray([rows, cols], jnp.float32)
    size = jnp.asarray(shape[:2], jnp.float32)
    shift = jax.random.uniform(k_t, (2,), jnp.float32, -1.0, 1.0) * tb * size
    # Forward map (input -> output, about the centre): rotate . shear . zoom.
    # Its pull inverse: zoom^-1 . shear^-1 . rotate^-1, and t = -A @ shift.
    unshear = jnp.stack(
        [
            jnp.stack([_float(1.0), _float(0.0)]),
            jnp.stack([-jnp.tan(shear), _float(1.0)]),
        ]
    )
    a = (unshear @ _rotation(angle)) / zoom
    # An infinite zoom gives the finite A = 0 (a flat image): mark it, and any
    # other non-finite draw, so that resample returns NaN.
    draws = jnp.stack([angle, zoom, shear, shift[0], shift[1]])
    a = jnp.where(jnp.all(jnp.isfinite(draws)), a, jnp.nan)
    return a, -(a @ shift)


def rotate(
    image: jax.Array,
    angle: Any,
    *,
    order: int = 1,
    mode: str = "constant",
    cval: Any = 0.0,
) -> jax.Array:
    """Rotates the image about its centre by ``angle`` radians, counter-clockwise.

    Pull resampling with :math:`A = \\begin{pmatrix}\\cos\\theta & \\sin\\theta
    \\\\ -\\sin\\theta & \\cos\\theta\\end{pmatrix}` on (row, column) about the
    centre :math:`c` (see the module docstring); the same convention and
    output as ``dm_pix.rotate`` (whose default mode is ``"nearest"``).

    Args:
      image: one image, ``(H, W, channels)``, float in [0, 1] or uint8.
      angle: radians, counter-clockwise as displayed; a finite number, or
        traced (a traced NaN or infinite angle gives an all-NaN image, all
        zeros for ``uint8``).
      order: 1 for bilinear, 0 for nearest-pixel interpolation.
      mode: outside the image: ``"constant"`` (``cval``), ``"nearest"``
        (edge pixels), ``"reflect"`` or ``"wrap"``.
      cval: the fill value on the [0, 1] scale.

    Returns:
      The rotated image, same shape and dtype.

    Raises:
      ValueError: a NaN or infinite ``angle``, a bad ``order``, ``mode`` or
        ``cval``, or not one HWC image.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.array([[0.0, 1.0], [0.0, 0.0]])[..., None]
      >>> augment.rotate(x, jnp.pi / 2)[..., 0].round(4)  # the corner moves left
      Array([[1., 0.],
             [0., 0.]], dtype=float32)
    """
    validate.image("rotate", image)
    validate.finite("rotate", "angle", angle)
    _check_resampling("rotate", order, mode, cval)
    affine = _rotate_affine(None, image.shape, angle)
    return resample(image, affine, order=order, mode=mode, cval=cval)


def random_rotation(
    key: jax.Array,
    image: jax.Array,
    max_angle: Any,
    *,
    order: int = 1,
    mode: str = "constant",
    cval: Any = 0.0,
) -> jax.Array:
    """Rotates by an angle drawn uniformly from ``[-max_angle, max_angle]`` radians.

    Args:
      key: a PRNG key.
      image: one image, ``(H, W, channels)``.
      max_angle: the largest rotation in radians, finite and >= 0 (traced: a
        non-finite one gives an all-NaN image, as in :func:`rotate`).
      order: 1 (bilinear) or 0 (nearest); see :func:`rotate`.
      mode: the fill mode; see :func:`rotate`.
      cval: the fill value on the [0, 1] scale.

    Returns:
      The rotated image, same shape and dtype.

    Raises:
      ValueError: a negative, NaN or infinite ``max_angle``, bad resampling
        arguments, or not one HWC image.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.ones((5, 5, 1))
      >>> y = augment.random_rotation(jax.random.key(0), x, 0.2)
      >>> float(y[2, 2, 0])  # the centre stays
      1.0
    """
    validate.key("random_rotation", "key", key)
    validate.image("random_rotation", image)
    validate.finite("random_rotation", "max_angle", max_angle, low=0.0)
    _check_resampling("random_rotation", order, mode, cval)
    affine = _random_rotation_affine(key, image.shape, max_angle)
    return resample(image, affine, order=order, mode=mode, cval=cval)


def random_affine(
    key: jax.Array,
    image: jax.Array,
    *,
    max_angle: Any = 0.0,
    scale: Any = (1.0, 1.0),
    max_shear: Any = 0.0,
    max_translate: Any = 0.0,
    order: int = 1,
    mode: str = "constant",
    cval: Any = 0.0,
) -> jax.Array:
    """A random rotation, zoom, shear and translation in one resampling.

    The forward map about the image centre is :math:`T \\circ R_\\theta
    \\circ S_\\phi \\circ Z_s` with :math:`\\theta \\sim U[-\\theta_{max},
    \\theta_{max}]`, zoom :math:`s \\sim U[s_{lo}, s_{hi}]`, horizontal shear
    angle :math:`\\phi \\sim U[-\\phi_{max}, \\phi_{max}]` and a shift of
    :math:`u \\cdot` ``max_translate`` :math:`\\cdot (H, W)` pixels with
    :math:`u \\sim U[-1, 1]^2`. One interpolation for all of them, instead of
    one per transform (sharper, and less work).

    Every number must be finite. Traced ones cannot be checked; a non-finite
    one gives an all-NaN image (all zeros for ``uint8``), as in :func:`rotate`.

    Args:
      key: a PRNG key.
      image: one image, ``(H, W, channels)``.
      max_angle: the largest rotation in radians, >= 0.
      scale: the zoom range ``(low, high)`` (``0 < low <= high``; above 1
        enlarges), or one number.
      max_shear: the largest shear angle in radians, in [0, 1.5].
      max_translate: the largest shift as a fraction of the size, >= 0: a
        number or ``(rows, cols)``.
      order: 1 (bilinear) or 0 (nearest).
      mode: the fill mode; see :func:`rotate`.
      cval: the fill value on the [0, 1] scale.

    Returns:
      The transformed image, same shape and dtype.

    Raises:
      ValueError: a negative, NaN or infinite bound, a zoom <= 0, a ``scale``
        with ``low > high``, bad resampling arguments, or not one HWC image.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> x = jnp.ones((8, 8, 3))
      >>> augment.random_affine(jax.random.key(0), x, max_angle=0.3,
      ...                       scale=(0.9, 1.1), max_translate=0.1).shape
      (8, 8, 3)
    """
    validate.key("random_affine", "key", key)
    validate.image("random_affine", image)
    fn = "random_affine"
    validate.finite(fn, "max_angle", max_angle, low=0.0)
    validate.finite(fn, "max_shear", max_shear, low=0.0, high=1.5)
    lo_s, hi_s = _pair(fn, "scale", scale, "(low, high)")
    if isinstance(scale, tuple | list):
        names = ("scale[0]", "scale[1]")
        validate.sample_range(fn, names, lo_s, hi_s, low=0.0, low_open=True)
    else:
        validate.finite(fn, "scale", scale, low=0.0, low_open=True)
    shifts = _pair(fn, "max_translate", max_translate, "(rows, cols)")
    for i, bound in enumerate(shifts):
        name = f"max_translate[{i}]" if isinstance(max_translate, tuple | list) else ""
        validate.finite(fn, name or "max_translate", bound, low=0.0)
    _check_resampling(fn, order, mode, cval)
    affine = _random_affine_affine(
        key, image.shape, max_angle, scale, max_shear, max_translate
    )
    return resample(image, affine, order=order, mode=mode, cval=cval)


# Each resampling function -> (whether it takes a key, its (A, t) builder
# (key, shape, **its random/geometric keyword arguments)). chain() uses it to
# compose consecutive stages into one resampling.
AFFINE_STAGES: dict[Callable[..., jax.Array], tuple[bool, Callable[..., Affine]]] = {
    rotate: (False, _rotate_affine),
    random_rotation: (True, _random_rotation_affine),
    random_affine: (True, _random_affine_affine),
}
