"""Batch normalization, Batch Renormalization and ghost batches, as pure functions.

One core, :func:`_normalize`, serves both public functions: it views the batch
as ``G`` ghost batches (or as one, unchanged, without ``ghost_batch_size``),
normalizes each with its own statistics (``_batch_stats.moments``: two-pass by
default), optionally applies Batch Renormalization's ``(r, d)`` correction, and
updates the running statistics once per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import compute_dtype
from gradtx.nn._batch_stats import check_layout, moments

__all__ = ["batch_norm", "batch_renorm"]

MASK_MEANING = "the element counts in the batch statistics"


def _normalize(
    fn: str,
    x: jax.Array,
    scale: jax.Array | None,
    bias: jax.Array | None,
    mean: jax.Array,
    var: jax.Array,
    *,
    axis: int,
    epsilon: float,
    momentum: float,
    training: bool,
    axis_name: str | None,
    axis_index_groups: Sequence[Sequence[int]] | None,
    ghost_batch_size: int | None,
    mask: jax.Array | None,
    use_fast_variance: bool,
    dtype: Any,
    limits: tuple[Any, Any] | None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    validate.number(fn, "epsilon", epsilon, low=0.0, low_open=True)
    validate.number(fn, "momentum", momentum, low=0.0, high=1.0)
    validate.boolean(fn, "training", training)
    validate.boolean(fn, "use_fast_variance", use_fast_variance)
    index_groups = validate.axis_index_groups(fn, axis_index_groups, axis_name)
    params = {"scale": scale, "bias": bias, "mean": mean, "var": var}
    feature, groups = check_layout(fn, x, params, axis, ghost_batch_size, training)
    validate.mask(fn, "mask", mask, jnp.shape(x), meaning=MASK_MEANING)
    out_dtype = jnp.result_type(x) if dtype is None else jnp.dtype(dtype)
    stat_dtype = compute_dtype(jnp.result_type(jnp.result_type(x), out_dtype))
    shape = jnp.shape(x)
    # Ghost batches: the view (G, batch / G, ...), the feature axis one later.
    # Without them, x as it is: a leading axis of size 1 made XLA:CPU's
    # forward + backward 13x slower for a 1024x512 batch (benchmarks/README.md).
    grouped, f = shape, feature
    if groups > 1:
        grouped, f = (groups, shape[0] // groups, *shape[1:]), feature + 1
    stat_shape = tuple(s if i == f else 1 for i, s in enumerate(grouped))
    xs = x.astype(stat_dtype).reshape(grouped)

    def bcast(v: jax.Array) -> jax.Array:
        return v.astype(stat_dtype).reshape(stat_shape)

    if training:
        kept = (0, f) if groups > 1 else (f,)
        reduce = tuple(i for i in range(len(grouped)) if i not in kept)
        ghost = ghost_batch_size is not None  # ghost statistics stay on the device
        if mask is not None:
            mask = jnp.broadcast_to(mask, shape).reshape(grouped)
        batch_mean, batch_var = moments(
            xs,
            reduce,
            mask=mask,
            fast=use_fast_variance,
            axis_name=None if ghost else axis_name,
            axis_index_groups=index_groups,
        )
        use_mean, use_var = batch_mean, batch_var
        # One update per call, with the average of the ghost batches' statistics.
        upd_mean, upd_var = (
            (jnp.mean(v, axis=0) if groups > 1 else v).reshape(-1)
            for v in (batch_mean, batch_var)
        )
        if axis_name is not None and ghost:
            upd_mean, upd_var = jax.lax.pmean(
                (upd_mean, upd_var), axis_name, axis_index_groups=index_groups
            )
        new_mean = momentum * mean + (1 - momentum) * upd_mean.astype(mean.dtype)
        new_var = momentum * var + (1 - momentum) * upd_var.astype(var.dtype)
    else:
        use_mean, use_var = bcast(mean), bcast(var)
        new_mean, new_var = mean, var
    mul = jax.lax.rsqrt(use_var + epsilon)
    shift = None
    if limits is not None and training:
        r_max, d_max = (jnp.asarray(v, stat_dtype) for v in limits)
        run_std = jnp.sqrt(bcast(var) + epsilon)
        batch_std = jnp.sqrt(use_var + epsilon)
        r = jax.lax.stop_gradient(jnp.clip(batch_std / run_std, 1 / r_max, r_max))
        d = jax.lax.stop_gradient(
            jnp.clip((use_mean - bcast(mean)) / run_std, -d_max, d_max)
        )
        mul = mul * r
        shift = d
    if scale is not None:
        mul = mul * bcast(scale)
        if shift is not None:
            shift = shift * bcast(scale)
    y = (xs - use_mean) * mul
    if bias is not None:
        y = y + bcast(bias)
    if shift is not None:
        y = y + shift
    return y.reshape(shape).astype(out_dtype), new_mean, new_var


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
    axis_index_groups: Sequence[Sequence[int]] | None = None,
    ghost_batch_size: int | None = None,
    mask: jax.Array | None = None,
    use_fast_variance: bool = False,
    dtype: Any = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Batch normalization (Ioffe & Szegedy 2015), as a pure function.

    Training mode normalizes with the batch statistics over every axis but the
    feature ``axis``, and returns running statistics updated as an EMA:

    .. math::
       \mu_B = \tfrac{1}{m}\textstyle\sum x, \quad
       \sigma_B^2 = \tfrac{1}{m}\textstyle\sum (x - \mu_B)^2, \quad
       y = \gamma \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta,

       \hat\mu \leftarrow \rho\,\hat\mu + (1 - \rho)\,\mu_B, \quad
       \hat\sigma^2 \leftarrow \rho\,\hat\sigma^2 + (1 - \rho)\,\sigma_B^2

    (:math:`\rho` = ``momentum``; the biased batch variance, as Flax keeps it;
    the paper and PyTorch store :math:`\tfrac{m}{m-1}\sigma_B^2`). Evaluation
    mode normalizes with the given ``mean`` and ``var`` and returns them
    unchanged. Statistics are computed in at least float32 (bfloat16 inputs
    too). With ``axis_name``, the batch statistics are averaged over that
    mapped axis (``lax.pmean``, within ``axis_index_groups`` if given), for
    data-parallel training under ``shard_map`` or ``pmap``.

    **The variance** is computed in two passes, :math:`\mu_B` first and then
    the mean squared deviation from it, accurate to float32 rounding whatever
    the mean. ``use_fast_variance=True`` computes
    :math:`\tfrac1m\sum x^2 - \mu_B^2` in one pass (and one collective with
    ``axis_name`` instead of two), exactly as ``flax.nnx.BatchNorm``'s
    default ``use_fast_variance=True``; it cancels catastrophically when
    :math:`|\mu_B| \gg \sigma_B`: in float32, inputs of mean 3,000 and
    variance 1 get variances from 0 to about 4, and at mean 10,000 mostly 0.
    The second pass costs a second read of ``x``: 15-50% more time for the
    layer alone on a CPU (``benchmarks/batch_norm.py``).

    **Masks**, as in Flax: only the elements where ``mask`` is True count in
    the batch statistics; every element is normalized. A feature with no True
    element (in a ghost batch) gets NaN statistics. With ``axis_name`` each device's masked
    statistics count equally in the average, however many elements it masks.

    **Ghost batches** (Hoffer et al. 2017): with ``ghost_batch_size`` = g,
    training mode splits the batch (axis 0) into sub-batches of g examples and
    normalizes each with its own :math:`\mu_B, \sigma_B^2`, which brings back
    the regularizing noise of small batches to large-batch training. The
    running statistics are updated once per call with the average of the
    ghost batches' statistics (as Keras's ``virtual_batch_size`` does; the
    paper's Algorithm 1 applies the EMA once per ghost batch, which ties the
    averaging horizon to the number of ghost batches). With ``axis_name``,
    ghost statistics stay local to each device and only the running update is
    averaged across devices. g equal to the batch is plain batch norm;
    evaluation ignores g.

    Args:
      x: the input; features along ``axis``; the batch along axis 0 for ghost
        batches.
      scale: :math:`\gamma`, shape ``(features,)``, or None for 1.
      bias: :math:`\beta`, shape ``(features,)``, or None for 0.
      mean: the running mean, shape ``(features,)``.
      var: the running variance, shape ``(features,)``.
      axis: the feature axis.
      epsilon: :math:`\epsilon > 0`.
      momentum: :math:`\rho \in [0, 1]`.
      training: use (and update) batch statistics.
      axis_name: a mapped axis to average the statistics over.
      axis_index_groups: groups of indices along ``axis_name`` whose devices
        average among themselves (``[[0, 1], [2, 3]]``: two pairs), as in
        ``lax.psum``; needs ``axis_name``. JAX supports it under ``pmap`` only.
      ghost_batch_size: examples per ghost batch (must divide the batch), or
        None for the whole batch.
      mask: a boolean array broadcastable to ``x``'s shape: the elements that
        count in the batch statistics; None for all. Ignored in evaluation.
      use_fast_variance: compute the variance in one pass,
        :math:`E[x^2] - \mu_B^2`: faster with ``axis_name`` (one collective),
        inaccurate when :math:`|\mu_B| \gg \sigma_B` (Flax's default; not
        gradtx's).
      dtype: the output dtype; ``x``'s by default.

    Returns:
      ``(y, new_mean, new_var)``.

    Raises:
      ValueError: ``epsilon`` <= 0, ``momentum`` outside [0, 1], parameters
        whose length differs from the feature count (both numbers named), a
        ``ghost_batch_size`` that does not divide the batch, a ``mask`` that
        does not broadcast to ``x`` (both shapes named), or
        ``axis_index_groups`` without ``axis_name`` or of unequal groups.
      TypeError: a ``mask`` that is not boolean.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> x = jnp.array([[1.0], [3.0]])
      >>> y, m, v = F.batch_norm(x, None, None, jnp.zeros(1), jnp.ones(1),
      ...                        epsilon=1e-6, momentum=0.9, training=True)
      >>> y.ravel(), m, v  # batch mean 2, variance 1
      (Array([-0.9999995,  0.9999995], dtype=float32), Array([0.2], dtype=float32), Array([1.], dtype=float32))

      A large mean: the one-pass variance cancels to 0, the default keeps it.

      >>> x = jnp.array([[9999.0], [10001.0]])  # mean 10,000, variance 1
      >>> for fast in (False, True):
      ...     _, _, v = F.batch_norm(x, None, None, jnp.zeros(1), jnp.ones(1),
      ...                            momentum=0.0, training=True,
      ...                            use_fast_variance=fast)
      ...     print(v)
      [1.]
      [0.]

    References:
      Ioffe & Szegedy, *Batch Normalization: Accelerating Deep Network Training
      by Reducing Internal Covariate Shift*, ICML 2015.
      Hoffer, Hubara & Soudry, *Train longer, generalize better: closing the
      generalization gap in large batch training of neural networks*, NeurIPS
      2017.
    """  # noqa: E501
    return _normalize(
        "batch_norm",
        x,
        scale,
        bias,
        mean,
        var,
        axis=axis,
        epsilon=epsilon,
        momentum=momentum,
        training=training,
        axis_name=axis_name,
        axis_index_groups=axis_index_groups,
        ghost_batch_size=ghost_batch_size,
        mask=mask,
        use_fast_variance=use_fast_variance,
        dtype=dtype,
        limits=None,
    )


def batch_renorm(
    x: jax.Array,
    scale: jax.Array | None,
    bias: jax.Array | None,
    mean: jax.Array,
    var: jax.Array,
    *,
    r_max: Any,
    d_max: Any,
    axis: int = -1,
    epsilon: float = 1e-5,
    momentum: float = 0.99,
    training: bool,
    axis_name: str | None = None,
    axis_index_groups: Sequence[Sequence[int]] | None = None,
    ghost_batch_size: int | None = None,
    mask: jax.Array | None = None,
    use_fast_variance: bool = False,
    dtype: Any = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    r"""Batch Renormalization (Ioffe 2017), as a pure function.

    Training mode normalizes with the batch statistics, then corrects towards
    the running ones, with the correction treated as a constant:

    .. math::
       \sigma_B = \sqrt{\sigma_B^2 + \epsilon}, \quad
       \sigma = \sqrt{\hat\sigma^2 + \epsilon}, \quad
       r = \mathrm{sg}\!\left(\mathrm{clip}_{[1/r_{max},\, r_{max}]}
           \tfrac{\sigma_B}{\sigma}\right), \quad
       d = \mathrm{sg}\!\left(\mathrm{clip}_{[-d_{max},\, d_{max}]}
           \tfrac{\mu_B - \hat\mu}{\sigma}\right),

       y = \gamma \left(\frac{x - \mu_B}{\sigma_B}\, r + d\right) + \beta

    (sg: stop gradient). Unclipped, the output equals the evaluation-mode
    output :math:`\gamma (x - \hat\mu)/\sigma + \beta`, so training and
    inference agree even for small or non-i.i.d. batches; ``r_max = 1``,
    ``d_max = 0`` is plain :func:`batch_norm`. The paper starts from
    :math:`r_{max}=1, d_{max}=0` and relaxes them to 3 and 5 over training;
    pass the current values here (``gradtx.nn.BatchNorm`` evaluates schedules
    for you, see :func:`gradtx.nn.renorm_warmup`).

    The batch statistics (two-pass variance, masks, ``axis_name``) are
    :func:`batch_norm`'s, and the running statistics are updated as there (an
    EMA of :math:`\mu_B` and :math:`\sigma_B^2`, so every variant shares one
    layout and ``flax.nnx.BatchNorm``'s). The paper's Algorithm 1 averages
    :math:`\sigma_B` instead of :math:`\sigma_B^2`, which differs only by the
    spread of :math:`\sigma_B` across batches (second order). Evaluation mode
    is plain :func:`batch_norm` with the running statistics.

    Args:
      x: the input; features along ``axis``.
      scale: :math:`\gamma`, shape ``(features,)``, or None for 1.
      bias: :math:`\beta`, shape ``(features,)``, or None for 0.
      mean: the running mean :math:`\hat\mu`, shape ``(features,)``.
      var: the running variance :math:`\hat\sigma^2`, shape ``(features,)``.
      r_max: :math:`r_{max} \ge 1`, a number or a traced scalar.
      d_max: :math:`d_{max} \ge 0`, a number or a traced scalar.
      axis: the feature axis.
      epsilon: :math:`\epsilon > 0`.
      momentum: :math:`\rho \in [0, 1]`.
      training: use batch statistics with the correction, and update the
        running ones.
      axis_name: a mapped axis to average the batch statistics over.
      axis_index_groups: groups of indices along ``axis_name`` that average
        among themselves; see :func:`batch_norm`.
      ghost_batch_size: examples per ghost batch, each corrected separately;
        see :func:`batch_norm`.
      mask: the elements that count in the batch statistics (boolean,
        broadcastable to ``x``); see :func:`batch_norm`.
      use_fast_variance: the one-pass variance; see :func:`batch_norm`.
      dtype: the output dtype; ``x``'s by default.

    Returns:
      ``(y, new_mean, new_var)``.

    Raises:
      ValueError: ``r_max`` < 1, ``d_max`` < 0, or what :func:`batch_norm`
        raises.

    Example:
      >>> import jax.numpy as jnp
      >>> from gradtx.nn import functional as F
      >>> x = jnp.array([[1.0], [3.0]])  # batch mean 2, std 1
      >>> y, _, _ = F.batch_renorm(x, None, None, jnp.zeros(1), jnp.ones(1),
      ...                          r_max=3.0, d_max=5.0, epsilon=1e-6,
      ...                          training=True)
      >>> y.ravel().round(4)  # unclipped: as if normalized with mean 0, std 1
      Array([1., 3.], dtype=float32)

    References:
      Ioffe, *Batch Renormalization: Towards Reducing Minibatch Dependence in
      Batch-Normalized Models*, NeurIPS 2017.
    """
    validate.number("batch_renorm", "r_max", r_max, low=1.0)
    validate.number("batch_renorm", "d_max", d_max, low=0.0)
    return _normalize(
        "batch_renorm",
        x,
        scale,
        bias,
        mean,
        var,
        axis=axis,
        epsilon=epsilon,
        momentum=momentum,
        training=training,
        axis_name=axis_name,
        axis_index_groups=axis_index_groups,
        ghost_batch_size=ghost_batch_size,
        mask=mask,
        use_fast_variance=use_fast_variance,
        dtype=dtype,
        limits=(r_max, d_max),
    )
