"""Pure functions behind the layers: plain arrays in, explicit PRNG keys.

Every function here works without Flax, under ``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx import _checks
from gradtx._numerics import compute_dtype

__all__ = ["batch_norm", "drop_path", "dropout", "spatial_dropout"]


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


def batch_norm(
    x: jax.Array,
    scale: jax.Array | None,
    bias: jax.Array | None,
    mean: jax.Array,
    var: jax.Array,
    *,
    axis: int = -1,
    epsilon: float = 1e-5,
    momentum: float = 0.99,
    training: bool,
    axis_name: str | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Batch normalization (Ioffe & Szegedy 2015), as a pure function.

    Training mode normalizes with the batch statistics over every axis but the
    feature ``axis``, and returns running statistics updated as an EMA:

    .. math::
       \mu_B = \tfrac{1}{m}\textstyle\sum x, \quad
       \sigma_B^2 = \tfrac{1}{m}\textstyle\sum x^2 - \mu_B^2, \quad
       y = \gamma \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta,

       \hat\mu \leftarrow \rho\,\hat\mu + (1 - \rho)\,\mu_B, \quad
       \hat\sigma^2 \leftarrow \rho\,\hat\sigma^2 + (1 - \rho)\,\sigma_B^2

    (:math:`\rho` = ``momentum``; the biased batch variance, as Flax keeps it;
    the paper and PyTorch store :math:`\tfrac{m}{m-1}\sigma_B^2`). Evaluation
    mode normalizes with the given ``mean`` and ``var`` and returns them
    unchanged. Statistics are computed in at least float32 (bfloat16 inputs
    too); ``y`` has ``x``'s dtype. With ``axis_name``, the batch statistics
    are averaged over that mapped axis (``lax.pmean``), for data-parallel
    training under ``shard_map`` or ``pmap``.

    Args:
      x: the input; features along ``axis``.
      scale: :math:`\gamma`, shape ``(features,)``, or None for 1.
      bias: :math:`\beta`, shape ``(features,)``, or None for 0.
      mean: the running mean, shape ``(features,)``.
      var: the running variance, shape ``(features,)``.
      axis: the feature axis.
      epsilon: :math:`\epsilon > 0`.
      momentum: :math:`\rho \in [0, 1]`.
      training: use (and update) batch statistics.
      axis_name: a mapped axis to average the statistics over.

    Returns:
      ``(y, new_mean, new_var)``.

    Raises:
      ValueError: ``epsilon`` <= 0, ``momentum`` outside [0, 1], or parameters
        whose length differs from the feature count (both numbers named).

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> x = jnp.array([[1.0], [3.0]])
      >>> y, m, v = F.batch_norm(x, None, None, jnp.zeros(1), jnp.ones(1),
      ...                        epsilon=1e-6, momentum=0.9, training=True)
      >>> y.ravel(), m, v  # batch mean 2, variance 1
      (Array([-0.9999995,  0.9999995], dtype=float32), Array([0.2], dtype=float32), Array([1.], dtype=float32))

    References:
      Ioffe & Szegedy, *Batch Normalization: Accelerating Deep Network Training
      by Reducing Internal Covariate Shift*, ICML 2015.
    """  # noqa: E501
    _checks.check_number("epsilon", epsilon, low=0.0, low_open=True)
    _checks.check_number("momentum", momentum, low=0.0, high=1.0)
    _checks.check_bool("training", training)
    ndim = jnp.ndim(x)
    feature = axis % ndim
    features = jnp.shape(x)[feature]
    for name, value in (("scale", scale), ("bias", bias), ("mean", mean), ("var", var)):
        if value is not None and jnp.shape(value) != (features,):
            raise ValueError(
                f"batch_norm: {name} has shape {jnp.shape(value)} but the input has "
                f"{features} features along axis {axis} (shape {jnp.shape(x)}); "
                "they must match (num_features, or the axis, is wrong)."
            )
    stat_dtype = compute_dtype(jnp.result_type(x))
    shape = tuple(features if i == feature else 1 for i in range(ndim))
    xs = x.astype(stat_dtype)
    if training:
        reduce = tuple(i for i in range(ndim) if i != feature)
        batch_mean = jnp.mean(xs, axis=reduce)
        batch_sq = jnp.mean(xs * xs, axis=reduce)
        if axis_name is not None:
            batch_mean, batch_sq = jax.lax.pmean((batch_mean, batch_sq), axis_name)
        batch_var = jnp.maximum(batch_sq - batch_mean * batch_mean, 0.0)
        use_mean, use_var = batch_mean, batch_var
        new_mean = momentum * mean + (1 - momentum) * batch_mean.astype(mean.dtype)
        new_var = momentum * var + (1 - momentum) * batch_var.astype(var.dtype)
    else:
        use_mean, use_var = mean.astype(stat_dtype), var.astype(stat_dtype)
        new_mean, new_var = mean, var
    mul = jax.lax.rsqrt(use_var + epsilon)
    if scale is not None:
        mul = mul * scale.astype(stat_dtype)
    y = (xs - use_mean.reshape(shape)) * mul.reshape(shape)
    if bias is not None:
        y = y + bias.astype(stat_dtype).reshape(shape)
    return y.astype(jnp.result_type(x)), new_mean, new_var
