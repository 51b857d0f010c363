"""Pure functions behind the layers: plain arrays in, explicit PRNG keys.

Every function here works without Flax, under ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.nn._batch_norm_fn import batch_norm as batch_norm
from gradtx.nn._batch_norm_fn import batch_renorm as batch_renorm

__all__ = [
    "batch_norm",
    "batch_renorm",
    "drop_path",
    "dropout",
    "spatial_dropout",
]


_BROADCAST_HINT = (
    "broadcast_dims are the axes along which one mask value is shared, e.g. "
    "(1, 2) for NHWC input drops whole feature maps; an axis wrapped modulo the "
    "rank would silently drop whole rows or columns instead."
)
_CHANNEL_HINT = "The channel axis is -1 for NHWC input, 1 for NCHW."


def _broadcast_mask_shape(
    fn: str, x: Any, broadcast_dims: Sequence[int]
) -> tuple[int, ...]:
    """The mask shape: ``x``'s, with 1 on each of ``broadcast_dims``.

    Negative axes count from the end, as in ``flax.nnx.Dropout``; an axis out
    of range raises (Flax's ``IndexError``), never wraps modulo the rank.
    """
    shape = tuple(jnp.shape(x))
    dims = validate.axes(fn, "broadcast_dims", broadcast_dims, allow_int=False)
    axes = {
        validate.axis(fn, "broadcast_dims", d, shape, shown=dims, hint=_BROADCAST_HINT)
        for d in dims
    }
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _masked_scale(
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    mask_shape: tuple[int, ...],
    deterministic: bool,
    fn: str,
) -> jax.Array:
    """Inverted dropout of ``x`` with a Bernoulli(1 - rate) mask of mask_shape."""
    validate.number(fn, "rate", rate, low=0.0, high=1.0)
    validate.boolean(fn, "deterministic", deterministic)
    concrete = validate.concrete_float(rate)
    if deterministic or concrete == 0.0:
        return x
    if concrete == 1.0:
        return jnp.zeros_like(x)  # no 0 * inf: finite values and gradients
    if key is None:
        raise validate.error(
            ValueError,
            fn,
            f"key is None, but {fn} needs a PRNG key in training mode "
            f"(rate={rate!r}); pass key=jax.random.key(seed), or "
            "deterministic=True to turn it off.",
        )
    if concrete is not None:  # draws and divides exactly as flax.nnx.Dropout
        keep_prob = 1.0 - concrete
        keep = jax.random.bernoulli(key, keep_prob, mask_shape)
        return jnp.where(keep, x / keep_prob, jnp.zeros_like(x))
    traced = 1.0 - jnp.asarray(rate, jnp.float32)
    keep = jax.random.bernoulli(key, traced, mask_shape)
    # A traced rate of 1 keeps nothing; the safe divisor keeps the unused
    # branch (and its gradient) finite.
    divisor = jnp.where(traced > 0, traced, 1.0).astype(x.dtype)
    out = jnp.where(keep, x / divisor, jnp.zeros_like(x))
    # A traced rate cannot raise: outside [0, 1] (NaN included) it would drop
    # everything or nothing; NaN says so instead.
    return jnp.where((traced >= 0) & (traced <= 1), out, jnp.nan)


def dropout(
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    *,
    broadcast_dims: Sequence[int] = (),
    deterministic: bool = False,
) -> jax.Array:
    r"""Inverted dropout (Srivastava et al. 2014): zero units, rescale the rest.

    .. math:: y = \frac{m \odot x}{1 - p}, \qquad m_i \sim \mathrm{Bernoulli}(1 - p)

    ``rate`` is :math:`p`, the probability of *dropping* a unit (as in Flax
    and PyTorch; Keras's ``rate`` is the same). Kept units are scaled by
    :math:`1 / (1 - p)`, so :math:`E[y] = x` and evaluation needs no rescaling.
    ``rate=0`` and ``deterministic=True`` return ``x`` itself; ``rate=1``
    returns zeros, with zero (not NaN) gradients.

    Args:
      key: a PRNG key (``jax.random.key``); may be None when nothing is
        dropped.
      x: the input.
      rate: :math:`p \in [0, 1]`, a number or a traced scalar. A traced rate
        cannot be checked: outside [0, 1] or NaN, the output is NaN.
      broadcast_dims: dimensions along which one mask value is shared (e.g.
        ``(1, 2)`` for NHWC input drops whole feature maps), as in Flax:
        ints in ``[-x.ndim, x.ndim)``, negative ones counting from the end.
      deterministic: return ``x`` unchanged (evaluation).

    Returns:
      An array like ``x`` (same shape and dtype).

    Raises:
      ValueError: ``rate`` outside [0, 1]; no key in training mode; an axis of
        ``broadcast_dims`` out of range for ``x`` (checked in evaluation mode
        too: it is a bug whatever the mode).
      TypeError: ``broadcast_dims`` not a sequence of ints.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> y = F.dropout(jax.random.key(0), jnp.ones(8), 0.5)
      >>> sorted(set(y.tolist()))  # dropped units are 0, kept ones 1 / (1 - 0.5)
      [0.0, 2.0]

    References:
      Srivastava et al., *Dropout: A Simple Way to Prevent Neural Networks from
      Overfitting*, JMLR 2014.
    """
    return _dropout("dropout", key, x, rate, broadcast_dims, deterministic)


def _dropout(
    fn: str,
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    broadcast_dims: Sequence[int],
    deterministic: bool,
) -> jax.Array:
    """:func:`dropout`, its errors naming ``fn`` (the function or the module)."""
    shape = _broadcast_mask_shape(fn, x, broadcast_dims)
    return _masked_scale(key, x, rate, shape, deterministic, fn)


def spatial_dropout(
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    *,
    channel_axis: int = -1,
    deterministic: bool = False,
) -> jax.Array:
    r"""Drops whole channels of each example (Tompson et al. 2015).

    For a convolution's output, neighbouring pixels are strongly correlated,
    so dropping single units barely regularizes; spatial dropout drops a whole
    feature map: one Bernoulli(:math:`1 - p`) value per (example, channel),
    shared over the spatial dimensions, and the kept maps scaled by
    :math:`1/(1-p)`. The batch is axis 0.

    Args:
      key: a PRNG key; may be None when nothing is dropped.
      x: the input, batch first, e.g. ``NHWC``.
      rate: :math:`p \in [0, 1]`, the probability of dropping a channel.
      channel_axis: the channel axis (-1 for Flax's NHWC).
      deterministic: return ``x`` unchanged.

    Returns:
      An array like ``x``.

    Raises:
      ValueError: ``rate`` outside [0, 1], no key in training mode, ``x``
        with fewer than 3 dimensions (it needs batch, spatial and channels),
        or a ``channel_axis`` out of range for ``x`` or equal to the batch
        axis 0.
      TypeError: ``channel_axis`` not an int.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> y = F.spatial_dropout(jax.random.key(1), jnp.ones((2, 4, 4, 3)), 0.5)
      >>> bool(jnp.all(y.min(axis=(1, 2)) == y.max(axis=(1, 2))))  # whole maps
      True

    References:
      Tompson et al., *Efficient Object Localization Using Convolutional
      Networks*, CVPR 2015.
    """
    return _spatial_dropout(
        "spatial_dropout", key, x, rate, channel_axis, deterministic
    )


def _spatial_dropout(
    fn: str,
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    channel_axis: int,
    deterministic: bool,
) -> jax.Array:
    """:func:`spatial_dropout`, its errors naming ``fn``."""
    shape = tuple(jnp.shape(x))
    if len(shape) < 3:
        raise validate.error(
            ValueError,
            fn,
            f"x has shape {shape}, but {fn} needs batch, spatial and channel "
            "axes. Use dropout for vectors.",
        )
    channel = validate.axis(fn, "channel_axis", channel_axis, shape, hint=_CHANNEL_HINT)
    if channel == 0:
        raise validate.error(
            ValueError,
            fn,
            f"channel_axis={channel_axis!r} is axis 0, the batch axis of the "
            f"input of shape {shape}; a mask per example would drop whole "
            f"examples (that is drop_path). {_CHANNEL_HINT}",
        )
    mask = tuple(s if i in (0, channel) else 1 for i, s in enumerate(shape))
    return _masked_scale(key, x, rate, mask, deterministic, fn)


def drop_path(
    key: jax.Array | None, x: jax.Array, rate: Any, *, deterministic: bool = False
) -> jax.Array:
    r"""Stochastic depth (Huang et al. 2016): drop a residual branch per example.

    Apply it to a residual branch's output before the skip connection,
    ``x + drop_path(key, f(x), rate)``: each example (axis 0) keeps the whole
    branch with probability :math:`1 - p`, scaled by :math:`1/(1-p)`, or
    loses it. (The paper scales the branch by the survival probability at test
    time instead; the inverted form here needs nothing at test time and has
    the same expectation.)

    Args:
      key: a PRNG key; may be None when nothing is dropped.
      x: the branch output, batch first.
      rate: :math:`p \in [0, 1]`, the probability of dropping the branch.
      deterministic: return ``x`` unchanged.

    Returns:
      An array like ``x``.

    Raises:
      ValueError: ``rate`` outside [0, 1]; no key in training mode.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> y = F.drop_path(jax.random.key(2), jnp.ones((4, 3)), 0.5)
      >>> [sorted(set(row)) for row in y.tolist()]  # each example: all or none
      [[0.0], [0.0], [2.0], [0.0]]

    References:
      Huang et al., *Deep Networks with Stochastic Depth*, ECCV 2016.
    """
    shape = (jnp.shape(x)[0],) + (1,) * (jnp.ndim(x) - 1) if jnp.ndim(x) else ()
    return _masked_scale(key, x, rate, shape, deterministic, "drop_path")
