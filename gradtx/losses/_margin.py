"""Margin losses of linear classifiers: perceptron and multiclass hinge.

The multiclass ones read the score of the true class with an index, not a
one-hot product: a label out of range raises when concrete and gives NaN
under ``jit`` (optax's one-hot reads it as a score of 0).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["multiclass_hinge_loss", "multiclass_perceptron_loss", "perceptron_loss"]


def perceptron_loss(predictor_outputs: Any, targets: Any) -> jax.Array:
    r"""The binary perceptron loss, :math:`\max(0, -f\,t)`, for targets in {-1, 1}.

    Zero for every correctly classified point, whatever its margin; its
    subgradient :math:`-t` on a mistake gives Rosenblatt's update. Targets in
    {0, 1} are a classic mistake: map them with ``2 * t - 1``.

    Args:
      predictor_outputs: floating array, the decision function's outputs.
      targets: array broadcasting to ``predictor_outputs``' shape, in {-1, 1}.

    Returns:
      The losses, with ``predictor_outputs``' shape.

    Raises:
      TypeError: ``predictor_outputs`` is not floating (optax accepts
        integers).
      ValueError: ``targets`` does not broadcast to its shape (optax wants
        equal shapes).

    References:
      Rosenblatt, *The Perceptron: A Probabilistic Model for Information
      Storage and Organization in the Brain*, Psychological Review 65(6),
      1958, https://doi.org/10.1037/h0042519

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> outputs = jnp.array([2.0, 0.5, -1.0])
      >>> gradtx.losses.perceptron_loss(outputs, jnp.array([1, -1, 1]))
      Array([0. , 0.5, 1. ], dtype=float32)
    """
    fn = "perceptron_loss"
    outputs = validate.floating(fn, "predictor_outputs", predictor_outputs)
    targets = validate.as_array(fn, "targets", targets)
    validate.fits_shape(
        fn, "targets", targets, tuple(outputs.shape), "predictor_outputs"
    )
    return jnp.maximum(0, -outputs * targets.astype(outputs.dtype))


def _true_class_scores(
    fn: str, scores: Any, labels: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Checked ``scores`` (..., K), labels of the batch shape, the true scores.

    The true score is NaN for a traced label out of ``[0, K)``; a concrete one
    raises.
    """
    scores = validate.floating(fn, "scores", scores)
    if scores.ndim == 0:
        raise validate.error(
            ValueError, fn, "scores must have a class axis (last), got a scalar."
        )
    labels = validate.integral(fn, "labels", labels, "Pass class indices.")
    batch_shape = tuple(scores.shape[:-1])
    validate.fits_shape(
        fn, "labels", labels, batch_shape, "scores without the last axis"
    )
    num_classes = int(scores.shape[-1])
    if validate.is_concrete(labels):
        values = np.asarray(labels)
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise validate.error(
                ValueError,
                fn,
                f"labels must be class indices in [0, {num_classes}), got "
                f"{int(values[where])} at index {where}.",
            )
    labels = jnp.broadcast_to(labels, batch_shape)
    in_range = (labels >= 0) & (labels < num_classes)
    safe = jnp.where(in_range, labels, 0)[..., None]
    true = jnp.take_along_axis(scores, safe, axis=-1)[..., 0]
    return scores, labels, jnp.where(in_range, true, jnp.nan)


def multiclass_perceptron_loss(scores: Any, labels: Any) -> jax.Array:
    r"""The multiclass perceptron loss, :math:`\max_j s_j - s_y`.

    Zero when the true class scores highest (ties included); its subgradient
    is the perceptron update :math:`e_{\hat y} - e_y` (Collins 2002), with
    :math:`\hat y = \arg\max_j s_j`.

    Args:
      scores: floating array (..., num_classes), the model's class scores.
      labels: integer array of the batch shape (``scores``' shape without the
        last axis), broadcasting allowed; classes in ``[0, num_classes)``.

    Returns:
      The losses, of the batch shape.

    Raises:
      TypeError: ``scores`` not floating, or ``labels`` not integer.
      ValueError: a scalar ``scores``, ``labels`` that do not fit, or a
        concrete label out of range (under ``jit``: a NaN loss; optax scores
        such a label 0).

    References:
      Collins, *Discriminative Training Methods for Hidden Markov Models:
      Theory and Experiments with Perceptron Algorithms*, EMNLP 2002,
      https://aclanthology.org/W02-1001

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> scores = jnp.array([[10.0, 3.0], [11.0, -2.0]])
      >>> gradtx.losses.multiclass_perceptron_loss(scores, jnp.array([1, 0]))
      Array([7., 0.], dtype=float32)
    """
    scores, _, true = _true_class_scores("multiclass_perceptron_loss", scores, labels)
    return jnp.max(scores, axis=-1) - true


def multiclass_hinge_loss(scores: Any, labels: Any) -> jax.Array:
    r"""The multiclass hinge loss of Crammer & Singer.

    .. math::
       \ell = \max_j \bigl(s_j + [j \ne y]\bigr) - s_y
            = \max\bigl(0,\; 1 + \max_{j \ne y} s_j - s_y\bigr)

    Zero once the true class beats every other by a margin of 1.

    Args:
      scores: floating array (..., num_classes), the model's class scores.
      labels: integer array of the batch shape (``scores``' shape without the
        last axis), broadcasting allowed; classes in ``[0, num_classes)``.

    Returns:
      The losses, of the batch shape.

    Raises:
      TypeError: ``scores`` not floating, or ``labels`` not integer.
      ValueError: a scalar ``scores``, ``labels`` that do not fit, or a
        concrete label out of range (under ``jit``: a NaN loss; optax scores
        such a label 0).

    References:
      Crammer & Singer, *On the Algorithmic Implementation of Multiclass
      Kernel-based Vector Machines*, JMLR 2, 2001,
      https://www.jmlr.org/papers/v2/crammer01a.html

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> scores = jnp.array([[10.0, 3.0], [11.0, 10.5]])
      >>> gradtx.losses.multiclass_hinge_loss(scores, jnp.array([1, 0]))
      Array([8. , 0.5], dtype=float32)
    """
    scores, labels, true = _true_class_scores("multiclass_hinge_loss", scores, labels)
    margins = 1.0 - jax.nn.one_hot(labels, scores.shape[-1], dtype=scores.dtype)
    return jnp.max(scores + margins, axis=-1) - true
