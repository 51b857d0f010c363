"""Regression losses: squared error, L2, Huber, log-cosh.

Elementwise, as ``optax.losses``: each returns one loss per element of
``predictions``; reduce with ``.mean()`` or ``.sum()``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["huber_loss", "l2_loss", "log_cosh", "squared_error"]


def _errors(fn: str, predictions: Any, targets: Any) -> jax.Array:
    """``predictions - targets`` (``predictions`` alone without targets)."""
    predictions = validate.floating(fn, "predictions", predictions)
    if targets is None:
        return predictions
    targets = jnp.asarray(targets)
    validate.fits_shape(fn, "targets", targets, tuple(predictions.shape), "predictions")
    return predictions - targets


def squared_error(predictions: Any, targets: Any | None = None) -> jax.Array:
    r"""The elementwise squared error, :math:`(p - t)^2`.

    The mean squared error is ``squared_error(p, t).mean()``.

    Args:
      predictions: floating array of any shape.
      targets: array broadcasting to the shape of ``predictions``; zeros when
        None.

    Returns:
      The squared differences, with the shape of ``predictions``.

    Raises:
      TypeError: ``predictions`` is not floating.
      ValueError: ``targets`` does not broadcast to ``predictions``' shape
        (optax requires equal shapes).

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.squared_error(jnp.array([1.0, 3.0]), jnp.array([0.0, 1.0]))
      Array([1., 4.], dtype=float32)
    """
    return _errors("squared_error", predictions, targets) ** 2


def l2_loss(predictions: Any, targets: Any | None = None) -> jax.Array:
    r"""Half the squared error, :math:`\tfrac12 (p - t)^2`.

    The factor 1/2 (Bishop's convention, not Hastie et al.'s) makes the
    gradient :math:`p - t`.

    Args:
      predictions: floating array of any shape.
      targets: array broadcasting to the shape of ``predictions``; zeros when
        None.

    Returns:
      The losses, with the shape of ``predictions``.

    Raises:
      TypeError: ``predictions`` is not floating.
      ValueError: ``targets`` does not broadcast to ``predictions``' shape.

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.l2_loss(jnp.array([1.0, 3.0]), jnp.array([0.0, 1.0]))
      Array([0.5, 2. ], dtype=float32)
    """
    return 0.5 * _errors("l2_loss", predictions, targets) ** 2


def huber_loss(
    predictions: Any, targets: Any | None = None, *, delta: Any = 1.0
) -> jax.Array:
    r"""The Huber loss: quadratic near zero, linear beyond ``delta``.

    .. math::
       L_\delta(e) = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
       \delta (|e| - \tfrac12 \delta) & |e| > \delta \end{cases},
       \quad e = p - t

    Its gradient is the error clipped to :math:`[-\delta, \delta]`. This is
    ``torch.nn.functional.huber_loss`` (same ``delta``); torch's
    ``smooth_l1_loss`` is the same divided by ``beta``.

    Args:
      predictions: floating array of any shape.
      targets: array broadcasting to the shape of ``predictions``; zeros when
        None.
      delta: where the loss turns from quadratic to linear, > 0.

    Returns:
      The losses, with the shape of ``predictions``.

    Raises:
      TypeError: ``predictions`` is not floating.
      ValueError: a bad shape of ``targets``, or a concrete ``delta`` <= 0.

    References:
      Huber, *Robust Estimation of a Location Parameter*, Annals of
      Mathematical Statistics 35(1), 1964,
      https://doi.org/10.1214/aoms/1177703732

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.huber_loss(jnp.array([0.5, 3.0]), delta=1.0)
      Array([0.125, 2.5  ], dtype=float32)
    """
    validate.number("huber_loss", "delta", delta, low=0.0, low_open=True)
    abs_errors = jnp.abs(_errors("huber_loss", predictions, targets))
    quadratic = jnp.minimum(abs_errors, delta)
    linear = abs_errors - quadratic
    return 0.5 * quadratic**2 + delta * linear


def log_cosh(predictions: Any, targets: Any | None = None) -> jax.Array:
    r"""The log-cosh loss, :math:`\log\cosh(p - t)`.

    About :math:`e^2/2` for a small error :math:`e` and :math:`|e| - \log 2`
    for a large one: a smooth Huber loss. Computed as
    :math:`\operatorname{logaddexp}(e, -e) - \log 2`, finite for any finite
    error (``cosh`` itself overflows above 89 in float32).

    Args:
      predictions: floating array of any shape.
      targets: array broadcasting to the shape of ``predictions``; zeros when
        None.

    Returns:
      The losses, with the shape of ``predictions``.

    Raises:
      TypeError: ``predictions`` is not floating.
      ValueError: ``targets`` does not broadcast to ``predictions``' shape.

    References:
      Chen et al., *Log Hyperbolic Cosine Loss Improves Variational
      Auto-Encoder*, 2019, https://openreview.net/forum?id=rkglvsC9Ym

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> print(gradtx.losses.log_cosh(jnp.array([0.0, 1000.0])).round(3))
      [  0.    999.307]
    """
    errors = _errors("log_cosh", predictions, targets)
    return jnp.logaddexp(errors, -errors) - jnp.log(2.0).astype(errors.dtype)
