"""The Kullback-Leibler divergence with both distributions in log space."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["kl_divergence_with_log_targets"]

Axis = int | tuple[int, ...] | None


def kl_divergence_with_log_targets(
    log_predictions: Any, log_targets: Any, axis: Axis = -1, where: Any = None
) -> jax.Array:
    r"""The KL divergence of the predictions from targets given as logs.

    .. math::
       \mathrm{KL}(t \,\|\, p) = \sum_j e^{\log t_j} (\log t_j - \log p_j)

    with :math:`0 \log 0 = 0`: a ``-inf`` log target adds 0, with a zero
    gradient (optax gives NaN there). This is
    ``torch.nn.functional.kl_div(log_predictions, log_targets,
    log_target=True)`` summed over ``axis``; the targets come second.

    Args:
      log_predictions: floating array, log probabilities.
      log_targets: floating array broadcasting to ``log_predictions``' shape,
        log probabilities (``-inf`` for 0).
      axis: the axis or axes of the distributions (None: all).
      where: boolean array broadcasting to ``log_predictions``' shape; the
        elements to include.

    Returns:
      The divergences, with ``axis`` removed.

    Raises:
      TypeError: an input is not floating, or ``where`` is not boolean.
      ValueError: shapes that do not fit.

    References:
      Kullback & Leibler, *On Information and Sufficiency*, Annals of
      Mathematical Statistics 22(1), 1951, https://doi.org/10.1214/aoms/1177729694

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> log_p = jnp.log(jnp.array([0.5, 0.5]))
      >>> gradtx.losses.kl_divergence_with_log_targets(
      ...     log_p, jnp.array([0.0, -jnp.inf]))
      Array(0.6931472, dtype=float32)
    """
    fn = "kl_divergence_with_log_targets"
    log_p = validate.floating(fn, "log_predictions", log_predictions)
    log_t = validate.floating(fn, "log_targets", log_targets)
    shape = tuple(log_p.shape)
    validate.fits_shape(fn, "log_targets", log_t, shape, "log_predictions")
    mask = validate.where_mask(fn, where, shape)
    # exp(-inf) * (-inf - x) would be 0 * inf = NaN; the inner where keeps
    # the gradient at such entries 0 too.
    zero = jnp.isneginf(log_t)
    safe_log_t = jnp.where(zero, 0.0, log_t)
    terms = jnp.where(zero, 0.0, jnp.exp(safe_log_t) * (safe_log_t - log_p))
    return jnp.sum(terms, axis=axis, where=mask)
