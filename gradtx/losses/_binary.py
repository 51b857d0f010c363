"""Binary (per-element) classification losses: logistic, focal, hinge.

The logistic ones work with ``log_sigmoid``, never ``log(sigmoid(x))``, so
saturated logits (``±1e4``) give finite losses and finite, exact gradients.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special

from gradtx._internal import validate

__all__ = ["hinge_loss", "sigmoid_binary_cross_entropy", "sigmoid_focal_loss"]


def _logits_labels(fn: str, logits: Any, labels: Any) -> tuple[jax.Array, jax.Array]:
    """Floating ``logits``, and ``labels`` in their dtype, of a shape that fits."""
    logits = validate.floating(fn, "logits", logits)
    labels = validate.as_array(fn, "labels", labels)
    validate.fits_shape(fn, "labels", labels, tuple(logits.shape), "logits")
    return logits, labels.astype(logits.dtype)


def sigmoid_binary_cross_entropy(logits: Any, labels: Any) -> jax.Array:
    r"""The elementwise cross entropy of ``labels`` and ``sigmoid(logits)``.

    .. math::
       \ell = -y \log \sigma(x) - (1 - y) \log \sigma(-x)

    computed with :math:`\log\sigma`, stable for any finite logit. Its
    gradient is :math:`\sigma(x) - y`. Each element is an independent binary
    prediction (multi-label classification); labels are 0/1 or probabilities.
    This is ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Args:
      logits: floating array, the log-odds of class 1.
      labels: array broadcasting to ``logits``' shape, in [0, 1].

    Returns:
      The losses, with ``logits``' shape.

    Raises:
      TypeError: ``logits`` is not floating.
      ValueError: ``labels`` does not broadcast to ``logits``' shape.

    References:
      Goodfellow, Bengio & Courville, *Deep Learning*, MIT Press 2016, §3.10,
      http://www.deeplearningbook.org/contents/prob.html

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.sigmoid_binary_cross_entropy(
      ...     jnp.array([0.0, 1e4, -1e4]), jnp.array([1.0, 1.0, 1.0]))
      Array([6.931472e-01, 0.000000e+00, 1.000000e+04], dtype=float32)
    """
    logits, labels = _logits_labels("sigmoid_binary_cross_entropy", logits, labels)
    log_p = jax.nn.log_sigmoid(logits)
    log_not_p = jax.nn.log_sigmoid(-logits)  # log(1 - sigmoid(x)), stably
    return -labels * log_p - (1.0 - labels) * log_not_p


def sigmoid_focal_loss(
    logits: Any, labels: Any, *, alpha: Any | None = None, gamma: Any = 2.0
) -> jax.Array:
    r"""The focal loss: binary cross entropy scaled down on easy examples.

    .. math::
       \ell = -\alpha_t (1 - p_t)^\gamma \log p_t, \quad
       p_t = y p + (1 - y)(1 - p), \quad
       \alpha_t = y \alpha + (1 - y)(1 - \alpha), \quad p = \sigma(x)

    with :math:`\log(1 - p_t)` computed in log space (a weighted logsumexp of
    :math:`\log\sigma(\pm x)`), so it stays finite for saturated logits and
    any :math:`\gamma \ge 0`. With ``alpha=None`` there is no
    :math:`\alpha_t`; ``gamma=0`` gives :func:`sigmoid_binary_cross_entropy`.

    Args:
      logits: floating array, the log-odds of class 1.
      labels: array broadcasting to ``logits``' shape, 0/1 or soft in [0, 1].
      alpha: None, or the weight of positives in [0, 1] (the paper uses 0.25).
      gamma: the focusing exponent, >= 0 (the paper uses 2).

    Returns:
      The losses, with ``logits``' shape.

    Raises:
      TypeError: ``logits`` is not floating.
      ValueError: ``labels`` does not fit, or a concrete ``alpha`` or
        ``gamma`` out of range.

    References:
      Lin et al., *Focal Loss for Dense Object Detection*, ICCV 2017,
      https://arxiv.org/abs/1708.02002

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.sigmoid_focal_loss(jnp.array([0.0, 3.0]), jnp.array([1.0, 1.0]))
      Array([1.7328680e-01, 1.0928333e-04], dtype=float32)
    """
    fn = "sigmoid_focal_loss"
    validate.optional_number(fn, "alpha", alpha, low=0.0, high=1.0)
    validate.number(fn, "gamma", gamma, low=0.0)
    logits, labels = _logits_labels(fn, logits, labels)
    log_p = jax.nn.log_sigmoid(logits)
    log_q = jax.nn.log_sigmoid(-logits)
    ce_loss = -labels * log_p - (1.0 - labels) * log_q
    labels = jnp.broadcast_to(labels, logits.shape)
    log_one_minus_p_t = jax.scipy.special.logsumexp(
        jnp.stack([log_p, log_q], axis=-1),
        axis=-1,
        b=jnp.stack([1.0 - labels, labels], axis=-1),
    )
    loss = ce_loss * jnp.exp(gamma * log_one_minus_p_t)
    if alpha is None:
        return loss
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss


def hinge_loss(predictor_outputs: Any, targets: Any) -> jax.Array:
    r"""The binary hinge loss, :math:`\max(0, 1 - f\,t)`, for targets in {-1, 1}.

    Targets in {0, 1} are a classic mistake: a 0 target makes the loss 1
    whatever the output. Map them with ``2 * t - 1``.

    Args:
      predictor_outputs: floating array, the decision function's outputs.
      targets: array broadcasting to ``predictor_outputs``' shape, in {-1, 1}.

    Returns:
      The losses, with the broadcast shape.

    Raises:
      TypeError: ``predictor_outputs`` is not floating (optax accepts
        integers).
      ValueError: ``targets`` does not broadcast to its shape.

    References:
      *Hinge loss*, Wikipedia, https://en.wikipedia.org/wiki/Hinge_loss

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> gradtx.losses.hinge_loss(jnp.array([2.0, 0.5, -1.0]), jnp.array([1, 1, 1]))
      Array([0. , 0.5, 2. ], dtype=float32)
    """
    fn = "hinge_loss"
    outputs = validate.floating(fn, "predictor_outputs", predictor_outputs)
    targets = validate.as_array(fn, "targets", targets)
    validate.fits_shape(
        fn, "targets", targets, tuple(outputs.shape), "predictor_outputs"
    )
    return jnp.maximum(0, 1 - outputs * targets)
