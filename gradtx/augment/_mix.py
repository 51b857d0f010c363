"""Occlusion and mixing: cutout on one image; mixup and cutmix on a batch.

``cutout`` erases a patch of one ``HWC`` image. ``mixup`` and ``cutmix`` need
a partner for every example, so they take a batch ``(N, H, W, C)`` and its
labels, pair each example with a random permutation of the batch, and return
mixed images and mixed (soft) labels. Random box positions and sizes are
traced values, turned into pixel masks with coordinate grids: every function
here is traced once per input shape under ``jit`` and works under ``vmap``.

No bad value passes silently. ``cval`` and ``alpha`` must be finite, and
integer labels must lie in ``[0, num_classes)`` (``jax.nn.one_hot`` would turn
any other label into a zero row: the example's label mass would vanish).
Concrete values are checked at once and raise ``ValueError``. Traced ones
cannot be checked without a host round trip, so they show up as NaN: a
non-finite ``cval`` or ``alpha`` makes the whole output NaN (images all zeros
for ``uint8``), an out-of-range traced label makes the mixed label rows that
draw on it NaN.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import compute_dtype
from gradtx.augment._common import (
    from_float,
    is_integer_image,
    nan_unless_finite,
    to_float,
)
from gradtx.augment._labels import mix_labels, prepare_labels

__all__ = ["cutmix", "cutout", "mixup"]


def _box_mask(
    height: int,
    width: int,
    centre_y: jax.Array,
    centre_x: jax.Array,
    box_h: jax.Array | int,
    box_w: jax.Array | int,
) -> jax.Array:
    """(height, width) bool mask of the box clipped to the image.

    The box spans rows ``centre_y - box_h // 2`` to ``centre_y - box_h // 2 +
    box_h - 1`` (likewise columns); the parts outside the image are dropped.
    """
    top = centre_y - box_h // 2
    left = centre_x - box_w // 2
    rows = jnp.arange(height, dtype=jnp.int32)[:, None]
    cols = jnp.arange(width, dtype=jnp.int32)[None, :]
    in_rows = (rows >= top) & (rows < top + box_h)
    in_cols = (cols >= left) & (cols < left + box_w)
    return in_rows & in_cols


def _random_centre(
    key: jax.Array, height: int, width: int
) -> tuple[jax.Array, jax.Array]:
    """A pixel drawn uniformly from the ``height x width`` grid (int32 pair)."""
    key_y, key_x = jax.random.split(key)
    y = jax.random.randint(key_y, (), 0, height, dtype=jnp.int32)
    x = jax.random.randint(key_x, (), 0, width, dtype=jnp.int32)
    return y, x


def cutout(
    key: jax.Array, image: jax.Array, size: Any, *, cval: Any = 0.0
) -> jax.Array:
    r"""Erases one rectangular patch of an image (DeVries & Taylor 2017).

    A patch of ``size`` pixels is set to ``cval``. Its centre
    :math:`(c_y, c_x)` is uniform over *all* pixels, so near the border the
    patch is partly outside the image and only its intersection with the
    image is erased, as in the paper: on average, border pixels are erased
    less often than central ones.

    .. math::
        y_{ij} = \begin{cases}
          \mathrm{cval} & |i - c_y| \text{ and } |j - c_x| \text{ within the patch} \\
          x_{ij} & \text{otherwise}
        \end{cases}

    With an odd side the patch is centred exactly; with an even side ``h`` it
    spans rows :math:`c_y - h/2` to :math:`c_y + h/2 - 1` (likewise columns).
    Pixels outside the patch are returned bit for bit.

    Args:
      key: a PRNG key (``jax.random.key(seed)``).
      image: one ``HWC`` image, float in [0, 1] or ``uint8``. For a batch,
        ``jax.vmap`` over split keys (one patch per image).
      size: the patch side, an int, or ``(height, width)``; static Python
        ints, at most the image's size.
      cval: the fill value on the [0, 1] scale (scaled to 0..255 for
        ``uint8``); may be traced (a traced NaN or infinite ``cval`` gives an
        all-NaN image, all zeros for ``uint8``).

    Returns:
      An image like ``image`` (same shape and dtype).

    Raises:
      TypeError: ``key`` is not a PRNG key, or ``image`` not a float or
        ``uint8`` array.
      ValueError: ``image`` is not rank 3; ``size`` not positive or larger
        than the image; ``cval`` outside [0, 1] or NaN.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> out = augment.cutout(jax.random.key(0), jnp.ones((8, 8, 3)), 3)
      >>> erased = (out == 0).all(axis=-1)
      >>> int(erased.sum()) <= 9, out.shape, out.dtype
      (True, (8, 8, 3), dtype('float32'))

    References:
      DeVries & Taylor, *Improved Regularization of Convolutional Neural
      Networks with Cutout*, 2017, https://arxiv.org/abs/1708.04552
    """
    validate.key("cutout", "key", key)
    validate.image("cutout", image)
    box_h, box_w = validate.image_size("cutout", "size", size)
    height, width = int(image.shape[0]), int(image.shape[1])
    if box_h > height or box_w > width:
        raise validate.error(
            ValueError,
            "cutout",
            f"size {size!r} gives a ({box_h}, {box_w}) patch, larger than the "
            f"({height}, {width}) image; expected at most the image's (height, "
            "width).",
        )
    validate.finite("cutout", "cval", cval, low=0.0, high=1.0)
    if is_integer_image(image):
        fill = from_float(jnp.asarray(cval, jnp.float32), image.dtype)
    else:
        fill = jnp.asarray(cval, compute_dtype(image.dtype)).astype(image.dtype)
    centre_y, centre_x = _random_centre(key, height, width)
    mask = _box_mask(height, width, centre_y, centre_x, box_h, box_w)
    return nan_unless_finite(jnp.where(mask[:, :, None], fill, image), cval)


def _draw(
    fn: str,
    key: jax.Array,
    images: jax.Array,
    labels: jax.Array,
    alpha: Any,
    num_classes: int | None,
) -> tuple[tuple[int, int, int], jax.Array, jax.Array, jax.Array, jax.Array]:
    """Checks the arguments of a mix; draws what it needs from ``key``.

    Returns the batch's ``(N, H, W)``, the labels as ``(N, K)`` floats,
    lambda ~ Beta(alpha, alpha) (float32), a permutation of the batch (the
    partners) and a key left for the box.
    """
    validate.key(fn, "key", key)
    dims = validate.images(fn, images)
    validate.finite(fn, "alpha", alpha, low=0.0, low_open=True)
    soft = prepare_labels(fn, labels, dims[0], num_classes)
    key_lam, key_perm, key_box = jax.random.split(key, 3)
    lam = jax.random.beta(key_lam, alpha, alpha, dtype=jnp.float32)
    perm = jax.random.permutation(key_perm, dims[0])
    return dims, soft, lam, perm, key_box


def mixup(
    key: jax.Array,
    images: jax.Array,
    labels: jax.Array,
    alpha: Any,
    *,
    num_classes: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    r"""Convex combinations of pairs of examples and of their labels (mixup).

    One :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` is drawn for the
    whole batch (as in the paper's reference implementation), and each
    example is paired with a random permutation :math:`\pi` of the batch:

    .. math::
        \tilde x_n = \lambda x_n + (1 - \lambda) x_{\pi(n)}, \qquad
        \tilde y_n = \lambda y_n + (1 - \lambda) y_{\pi(n)}

    Train on :math:`(\tilde x, \tilde y)` with a soft-label cross-entropy. A
    small :math:`\alpha` (0.1 to 0.4 in the paper for ImageNet) keeps most
    mixes close to one of the two examples; :math:`\alpha = 1` draws
    :math:`\lambda` uniformly. An example may be paired with itself, in which
    case it is left unchanged.

    Args:
      key: a PRNG key (``jax.random.key(seed)``).
      images: a batch ``(N, H, W, C)``, float or ``uint8`` (mixed in float,
        returned rounded for ``uint8``). Float images outside [0, 1], e.g.
        already normalized, are mixed as they are.
      labels: one-hot or soft float labels ``(N, K)``, or integer class
        indices ``(N,)`` together with ``num_classes``.
      alpha: :math:`\alpha > 0`, a finite number or a traced scalar.
      num_classes: ``K``, required for integer labels.

    Returns:
      ``(images, labels)``: images like ``images``; labels ``(N, K)`` in the
      labels' float dtype (float32 for integer labels). Under ``jit``, where
      values cannot be checked, an integer label outside ``[0, K)`` makes the
      mixed label row of its example, and of the example paired with it, NaN;
      a NaN or infinite ``alpha`` makes everything NaN (``uint8`` images all
      zeros).

    Raises:
      TypeError: ``key`` not a PRNG key; unsupported image or label dtype.
      ValueError: ``images`` not rank 4; ``alpha <= 0``, NaN or infinite;
        integer labels without ``num_classes``, or (concrete labels) outside
        ``[0, num_classes)``; labels of the wrong shape or batch size.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> images = jnp.zeros((4, 8, 8, 3)).at[1].set(1.0)
      >>> key, labels = jax.random.key(0), jnp.arange(4)
      >>> x, y = augment.mixup(key, images, labels, 1.0, num_classes=4)
      >>> x.shape, y.shape, bool(jnp.allclose(y.sum(axis=1), 1.0))
      ((4, 8, 8, 3), (4, 4), True)

    References:
      Zhang et al., *mixup: Beyond Empirical Risk Minimization*, ICLR 2018,
      https://arxiv.org/abs/1710.09412
    """
    _, soft, lam, perm, _ = _draw("mixup", key, images, labels, alpha, num_classes)
    x = to_float(images)
    weight = lam.astype(x.dtype)
    mixed = from_float(weight * x + (1.0 - weight) * x[perm], images.dtype, clip=False)
    mixed_labels = mix_labels(soft, perm, lam)
    return nan_unless_finite(mixed, alpha), nan_unless_finite(mixed_labels, alpha)


def cutmix(
    key: jax.Array,
    images: jax.Array,
    labels: jax.Array,
    alpha: Any,
    *,
    num_classes: int | None = None,
) -> tuple[jax.Array, jax.Array]:
    r"""Pastes a box from a partner example, labels mixed by area (CutMix).

    One :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` and one box are
    drawn for the batch. The box has height :math:`\mathrm{round}(H
    \sqrt{1 - \lambda})` and width :math:`\mathrm{round}(W \sqrt{1 -
    \lambda})`, its centre uniform over the pixels, and is clipped to the
    image (an even side ``h`` spans rows :math:`c_y - h/2` to :math:`c_y + h/2
    - 1`). Inside the box each example :math:`x_n` takes the pixels of its
    partner :math:`x_{\pi(n)}`, :math:`\pi` a random permutation of the batch.
    Labels are mixed with the area actually pasted, :math:`B`:

    .. math::
        \tilde x_n = (1 - M_B) \odot x_n + M_B \odot x_{\pi(n)}, \qquad
        \lambda' = 1 - \frac{|B|}{H W}, \qquad
        \tilde y_n = \lambda' y_n + (1 - \lambda') y_{\pi(n)}

    Clipping only shrinks the box, so :math:`\lambda'` is on average *larger*
    than :math:`\lambda` (for :math:`\alpha = 1` its mean is about 0.68, not
    0.5): each example keeps more of itself than the Beta draw suggests.

    Args:
      key: a PRNG key (``jax.random.key(seed)``).
      images: a batch ``(N, H, W, C)``, float or ``uint8``; pixels are copied,
        never interpolated.
      labels: one-hot or soft float labels ``(N, K)``, or integer class
        indices ``(N,)`` together with ``num_classes``.
      alpha: :math:`\alpha > 0`, a finite number or a traced scalar (1 in the
        paper).
      num_classes: ``K``, required for integer labels.

    Returns:
      ``(images, labels)``: images like ``images``; labels ``(N, K)`` in the
      labels' float dtype (float32 for integer labels). Traced bad labels or
      ``alpha`` give NaN, as in :func:`mixup`.

    Raises:
      TypeError: ``key`` not a PRNG key; unsupported image or label dtype.
      ValueError: ``images`` not rank 4; ``alpha <= 0``, NaN or infinite;
        integer labels without ``num_classes``, or (concrete labels) outside
        ``[0, num_classes)``; labels of the wrong shape or batch size.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx import augment
      >>> images = jnp.zeros((2, 8, 8, 1)).at[1].set(1.0)
      >>> labels = jnp.eye(2)
      >>> x, y = augment.cutmix(jax.random.key(0), images, labels, 1.0)
      >>> # the label weight of each class is the share of its pixels:
      >>> bool(jnp.allclose(y[:, 1], x.mean(axis=(1, 2, 3))))
      True

    References:
      Yun et al., *CutMix: Regularization Strategy to Train Strong Classifiers
      with Localizable Features*, ICCV 2019, https://arxiv.org/abs/1905.04899
    """
    (_, height, width), soft, lam, perm, key_box = _draw(
        "cutmix", key, images, labels, alpha, num_classes
    )
    side = jnp.sqrt(1.0 - lam)
    box_h = jnp.round(height * side).astype(jnp.int32)
    box_w = jnp.round(width * side).astype(jnp.int32)
    centre_y, centre_x = _random_centre(key_box, height, width)
    mask = _box_mask(height, width, centre_y, centre_x, box_h, box_w)
    mixed = jnp.where(mask[None, :, :, None], images[perm], images)
    area = jnp.sum(mask, dtype=jnp.int32).astype(jnp.float32)
    lam_adj = 1.0 - area / (height * width)
    # A NaN lambda (traced non-finite alpha) gives an arbitrary box, not NaN.
    mixed_labels = mix_labels(soft, perm, lam_adj)
    return nan_unless_finite(mixed, alpha), nan_unless_finite(mixed_labels, alpha)
