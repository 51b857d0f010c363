"""Fenchel-Young losses built from a "max" function (a convex conjugate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["make_fenchel_young_loss"]


def make_fenchel_young_loss(max_fun: Callable[..., Any]) -> Callable[..., jax.Array]:
    r"""Builds the Fenchel-Young loss of a regularized max function.

    For a convex regularizer :math:`\Omega` with conjugate (the "max"
    function) :math:`\Omega^*(\theta) = \max_{\mu} \langle \theta, \mu\rangle
    - \Omega(\mu)`, the loss of scores :math:`\theta` and a target :math:`y`
    is

    .. math::
       \ell(\theta, y) = \Omega^*(\theta) - \langle \theta, y \rangle

    over the last axis, leading axes being a batch. Its gradient is
    :math:`\nabla\Omega^*(\theta) - y`, the regularized prediction minus the
    target: ``logsumexp`` gives the softmax cross entropy (gradient
    :math:`\operatorname{softmax}(\theta) - y`). As in optax, the term
    :math:`\Omega(y)` of the full loss
    :math:`\Omega^*(\theta) + \Omega(y) - \langle\theta, y\rangle` is left
    out: it does not depend on :math:`\theta` (and is 0 for one-hot targets
    and the usual :math:`\Omega`), but without it the loss of a soft target
    is not 0 at its minimum.

    Args:
      max_fun: the max function of one score vector, e.g.
        ``jax.scipy.special.logsumexp``; it is vectorized over leading axes.

    Returns:
      ``fenchel_young_loss(scores, targets, *args, **kwargs)``: ``scores`` a
      floating ``[..., n]`` array, ``targets`` broadcasting to its shape;
      ``args`` and ``kwargs`` are passed to ``max_fun`` with each score
      vector (optax forgets the keyword arguments and refuses positional
      ones). It returns the ``[...]`` losses.

    Raises:
      TypeError: ``max_fun`` not callable; (the loss) ``scores`` not floating.
      ValueError: (the loss) ``scores`` a scalar, or ``targets`` that do not
        fit.

    References:
      Blondel, Martins & Niculae, *Learning with Fenchel-Young Losses*, JMLR
      2020, https://arxiv.org/abs/1901.02324

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> from jax.scipy.special import logsumexp
      >>> fy_loss = gradtx.losses.make_fenchel_young_loss(logsumexp)
      >>> scores = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
      >>> targets = jnp.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
      >>> fy_loss(scores, targets)  # the softmax cross entropy
      Array([0.4076059, 1.0986123], dtype=float32)
    """
    if not callable(max_fun):
        raise validate.error(
            TypeError,
            "make_fenchel_young_loss",
            f"max_fun must be a function of a score vector, e.g. "
            f"jax.scipy.special.logsumexp, got {max_fun!r}.",
        )

    def fenchel_young_loss(
        scores: Any, targets: Any, *args: Any, **kwargs: Any
    ) -> jax.Array:
        fn = "fenchel_young_loss"
        scores = validate.floating(fn, "scores", scores)
        if scores.ndim == 0:
            raise validate.error(
                ValueError,
                fn,
                "scores must have a last axis, [..., n], got a scalar.",
            )
        targets = validate.as_array(fn, "targets", targets)
        validate.fits_shape(fn, "targets", targets, tuple(scores.shape), "scores")
        targets = jnp.broadcast_to(targets, scores.shape)
        max_value = jnp.vectorize(
            lambda s: max_fun(s, *args, **kwargs), signature="(n)->()"
        )(scores)
        return max_value - jnp.sum(targets * scores, axis=-1)

    return fenchel_young_loss
