"""Pure functions behind the layers: plain arrays in, explicit PRNG keys.

Every function here works without Flax, under ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx.nn._batch_norm_fn import batch_norm as batch_norm
from gradtx.nn._batch_norm_fn import batch_renorm as batch_renorm

__all__ = [
    "batch_norm",
    "batch_renorm",
    "drop_path",
    "dropout",
    "spatial_dropout",
]


def _masked_scale(
    key: jax.Array | None,
    x: jax.Array,
    rate: Any,
    mask_shape: tuple[int, ...],
    deterministic: bool,
    name: str,
) -> jax.Array:
    """Inverted dropout of ``x`` with a Bernoulli(1 - rate) mask of mask_shape."""
    _checks.check_number("rate", rate, low=0.0, high=1.0)
    _checks.check_bool("deterministic", deterministic)
    concrete = _checks.concrete_float(rate)
    if deterministic or concrete == 0.0:
        return x
    if concrete == 1.0:
        return jnp.zeros_like(x)  # no 0 * inf: finite values and gradients
    if key is None:
        raise ValueError(
            f"{name} needs a PRNG key in training mode (rate={rate!r}); pass "
            "key=jax.random.key(seed), or deterministic=True to turn it off."
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
    return jnp.where(keep, x / divisor, jnp.zeros_like(x))


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
      rate: :math:`p \in [0, 1]`, a number or a traced scalar.
      broadcast_dims: dimensions along which one mask value is shared (e.g.
        ``(1, 2)`` for NHWC input drops whole feature maps), as in Flax.
      deterministic: return ``x`` unchanged (evaluation).

    Returns:
      An array like ``x`` (same shape and dtype).

    Raises:
      ValueError: ``rate`` outside [0, 1]; no key in training mode.

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
    ndim = jnp.ndim(x)
    dims = sorted({d % ndim for d in broadcast_dims}) if ndim else []
    shape = tuple(1 if i in dims else s for i, s in enumerate(jnp.shape(x)))
    return _masked_scale(key, x, rate, shape, deterministic, "dropout")


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
      ValueError: ``rate`` outside [0, 1], no key in training mode, or ``x``
        with fewer than 3 dimensions (it needs batch, spatial and channels).

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
    ndim = jnp.ndim(x)
    if ndim < 3:
        raise ValueError(
            f"spatial_dropout needs batch, spatial and channel axes; got shape "
            f"{jnp.shape(x)}. Use dropout for vectors."
        )
    channel = channel_axis % ndim
    shape = tuple(s if i in (0, channel) else 1 for i, s in enumerate(jnp.shape(x)))
    return _masked_scale(key, x, rate, shape, deterministic, "spatial_dropout")


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
