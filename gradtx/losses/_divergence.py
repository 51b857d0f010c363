"""Kullback-Leibler divergences: of distributions (targets as probabilities or
as logs) and of positive measures."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = [
    "convex_kl_divergence",
    "generalized_kl_divergence",
    "kl_divergence",
    "kl_divergence_with_log_targets",
]

Axis = int | tuple[int, ...] | None


def _inputs(
    fn: str, log_predictions: Any, targets: Any, where: Any, name: str = "targets"
) -> tuple[jax.Array, jax.Array, jax.Array | None]:
    log_predictions = validate.floating(fn, "log_predictions", log_predictions)
    targets = validate.floating(fn, name, targets)
    shape = tuple(log_predictions.shape)
    validate.fits_shape(fn, name, targets, shape, "log_predictions")
    return log_predictions, targets, validate.where_mask(fn, where, shape)


def _kl(
    log_predictions: jax.Array, targets: jax.Array, axis: Axis, mask: Any
) -> jax.Array:
    # 0 log 0 = 0; the inner where keeps log's gradient finite at 0 too.
    zero = targets == 0
    log_targets = jnp.where(zero, 0.0, jnp.log(jnp.where(zero, 1.0, targets)))
    loss = targets * (log_targets - log_predictions)
    return jnp.sum(loss, axis=axis, where=mask)


def kl_divergence(
    log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None
) -> jax.Array:
    r"""The Kullback-Leibler divergence of the predictions from the targets.

    .. math::
       \mathrm{KL}(t \,\|\, p) = \sum_j t_j (\log t_j - \log p_j)

    with :math:`0 \log 0 = 0`. The predictions come in log space (e.g.
    ``jax.nn.log_softmax(logits)``), the targets as probabilities; this is
    ``torch.nn.functional.kl_div(log_predictions, targets)`` summed over
    ``axis``. Mind the order: the targets come second, as in torch.

    Args:
      log_predictions: floating array, log probabilities.
      targets: floating array broadcasting to ``log_predictions``' shape,
        probabilities (>= 0).
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
      >>> p = jnp.log(jnp.array([0.5, 0.5]))
      >>> gradtx.losses.kl_divergence(p, jnp.array([1.0, 0.0]))
      Array(0.6931472, dtype=float32)
    """
    log_p, t, mask = _inputs("kl_divergence", log_predictions, targets, where)
    return _kl(log_p, t, axis, mask)


def generalized_kl_divergence(
    log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None
) -> jax.Array:
    r"""The KL divergence generalized to unnormalized positive measures.

    .. math::
       D(t \,\|\, p) = \sum_j t_j (\log t_j - \log p_j) + p_j - t_j

    the Bregman divergence of :math:`x \log x - x`; it is :func:`kl_divergence`
    when both sum to 1.

    Args:
      log_predictions: floating array, the logs of the predicted measure.
      targets: floating array broadcasting to ``log_predictions``' shape,
        >= 0.
      axis: the axis or axes to sum over (None: all).
      where: boolean array broadcasting to ``log_predictions``' shape; the
        elements to include.

    Returns:
      The divergences, with ``axis`` removed.

    Raises:
      TypeError: an input is not floating, or ``where`` is not boolean.
      ValueError: shapes that do not fit.

    References:
      Boyd & Vandenberghe, *Convex Optimization*, Cambridge University Press
      2004, p. 90, https://stanford.edu/~boyd/cvxbook/

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.generalized_kl_divergence(
      ...     jnp.log(jnp.array([2.0])), jnp.array([1.0]))
      Array(0.30685282, dtype=float32)
    """
    fn = "generalized_kl_divergence"
    log_p, t, mask = _inputs(fn, log_predictions, targets, where)
    extra = jnp.sum(jnp.exp(log_p) - t, axis=axis, where=mask)
    return _kl(log_p, t, axis, mask) + extra


def convex_kl_divergence(
    log_predictions: Any, targets: Any, axis: Axis = -1, where: Any = None
) -> jax.Array:
    r"""The former name of :func:`generalized_kl_divergence` (same formula).

    optax deprecates this name and warns; gradtx keeps it, without a warning,
    for code moving over. Prefer :func:`generalized_kl_divergence`.

    Args:
      log_predictions: floating array, the logs of the predicted measure.
      targets: floating array broadcasting to ``log_predictions``' shape.
      axis: the axis or axes to sum over (None: all).
      where: boolean array; the elements to include.

    Returns:
      The divergences, with ``axis`` removed.

    Raises:
      TypeError: an input is not floating, or ``where`` is not boolean.
      ValueError: shapes that do not fit.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.convex_kl_divergence(
      ...     jnp.log(jnp.array([2.0])), jnp.array([1.0]))
      Array(0.30685282, dtype=float32)
    """
    log_p, t, mask = _inputs("convex_kl_divergence", log_predictions, targets, where)
    extra = jnp.sum(jnp.exp(log_p) - t, axis=axis, where=mask)
    return _kl(log_p, t, axis, mask) + extra


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
    log_p, log_t, mask = _inputs(
        "kl_divergence_with_log_targets",
        log_predictions,
        log_targets,
        where,
        name="log_targets",
    )
    # exp(-inf) * (-inf - x) would be 0 * inf = NaN; the inner where keeps
    # the gradient at such entries 0 too.
    zero = jnp.isneginf(log_t)
    safe_log_t = jnp.where(zero, 0.0, log_t)
    terms = jnp.where(zero, 0.0, jnp.exp(safe_log_t) * (safe_log_t - log_p))
    return jnp.sum(terms, axis=axis, where=mask)
