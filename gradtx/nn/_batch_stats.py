r"""Batch statistics for the normalization layers, and the layout of their inputs.

Mean and variance, masked or not, on one device or averaged across a mapped
axis. The variance is computed in two passes by default, the mean first and
then the mean squared deviation from it, which is accurate to float32 rounding
whatever the mean. The one-pass form :math:`E[x^2] - E[x]^2` (``fast=True``,
Flax's default) subtracts two numbers of size :math:`\mu^2` to keep
:math:`\sigma^2`, so it loses about :math:`\log_{10}(\mu^2/\sigma^2)` of
float32's 7 digits: at :math:`|\mu|/\sigma = 3000` nothing is left.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import abs_sq

Groups = tuple[tuple[int, ...], ...]


def check_layout(
    fn: str,
    x: jax.Array,
    params: dict[str, jax.Array | None],
    axis: int,
    ghost_batch_size: int | None,
    training: bool,
) -> tuple[int, int]:
    """Validates shapes; returns (feature axis, number of ghost batches)."""
    ndim = jnp.ndim(x)
    if ndim == 0:
        raise validate.error(ValueError, fn, "x is a scalar; it needs a feature axis.")
    if not -ndim <= axis < ndim:
        raise validate.error(
            ValueError,
            fn,
            f"axis={axis} is out of range for an input of shape {jnp.shape(x)}.",
        )
    feature = axis % ndim
    features = jnp.shape(x)[feature]
    for name, value in params.items():
        if value is not None and jnp.shape(value) != (features,):
            raise validate.error(
                ValueError,
                fn,
                f"{name} has shape {jnp.shape(value)} but the input has "
                f"{features} features along axis {axis} (shape {jnp.shape(x)}); "
                "they must match (num_features, or the axis, is wrong).",
            )
    if ghost_batch_size is None or not training:
        return feature, 1
    validate.integer(
        fn,
        "ghost_batch_size",
        ghost_batch_size,
        low=1,
        meaning="examples per ghost batch",
    )
    if feature == 0:
        raise validate.error(
            ValueError,
            fn,
            f"ghost_batch_size splits axis 0 into ghost batches, but axis 0 is the "
            f"feature axis here (axis={axis}, shape {jnp.shape(x)}); put the batch "
            "first.",
        )
    batch = jnp.shape(x)[0]
    if batch % ghost_batch_size:
        raise validate.error(
            ValueError,
            fn,
            f"ghost_batch_size={ghost_batch_size} does not divide the batch "
            f"of {batch} examples (axis 0 of shape {jnp.shape(x)}); use a batch "
            "size that is a multiple of it.",
        )
    return feature, batch // ghost_batch_size


def moments(
    x: jax.Array,
    axes: tuple[int, ...],
    *,
    mask: jax.Array | None,
    fast: bool,
    axis_name: str | None,
    axis_index_groups: Groups | None,
) -> tuple[jax.Array, jax.Array]:
    """The mean and biased variance of ``x`` over ``axes`` (kept, of size 1).

    Only the elements where ``mask`` (broadcast to ``x``) is True count. With
    ``axis_name``, each device's statistics are averaged over that axis (within
    ``axis_index_groups``), as ``flax.nnx.BatchNorm`` does: one ``pmean`` for
    the fast form, two for the two-pass form (the global mean must be known
    before the deviations from it).
    """

    def local_mean(v: jax.Array) -> jax.Array:
        return jnp.mean(v, axis=axes, keepdims=True, where=mask)

    def across(*values: jax.Array) -> tuple[jax.Array, ...]:
        if axis_name is None:
            return values
        return tuple(
            jax.lax.pmean(values, axis_name, axis_index_groups=axis_index_groups)
        )

    if fast:
        mean, mean_sq = across(local_mean(x), local_mean(abs_sq(x)))
        return mean, jnp.maximum(mean_sq - abs_sq(mean), 0.0)
    (mean,) = across(local_mean(x))
    (var,) = across(local_mean(abs_sq(x - mean)))
    return mean, var
