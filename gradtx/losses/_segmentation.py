"""Soft Dice (and Tversky) losses for segmentation, as ``optax.losses``'.

Predictions are logits (or probabilities) laid out ``[batch, *spatial,
classes]``; the overlap is summed over the spatial axes, one loss per example
and class, then reduced over the classes.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["binary_dice_loss", "dice_loss", "multiclass_generalized_dice_loss"]

_REDUCTIONS = ("mean", "sum", "none")

_NOT_DISTRIBUTIONS = (
    "predictions must be valid probability distributions over the last (class) "
    "axis when apply_softmax=False: each must sum to 1, got sums in [{low:.6f}, "
    "{high:.6f}]. Pass logits with apply_softmax=True, or normalize them first "
    "(jax.nn.softmax(predictions, axis=-1))."
)


def _predictions_targets(
    fn: str, predictions: Any, targets: Any
) -> tuple[jax.Array, jax.Array]:
    """Floating predictions and targets of one shape, a class axis last.

    An input with one axis fewer than the other gets a class axis of 1 (a
    binary mask), as in optax.
    """
    predictions = validate.floating(fn, "predictions", predictions)
    targets = validate.as_array(fn, "targets", targets)
    if predictions.ndim == targets.ndim - 1:
        predictions = predictions[..., None]
    if targets.ndim == predictions.ndim - 1:
        targets = targets[..., None]
    if predictions.shape != targets.shape or predictions.ndim == 0:
        raise validate.error(
            ValueError,
            fn,
            f"targets has shape {tuple(targets.shape)}, but predictions has shape "
            f"{tuple(predictions.shape)}; they must be equal, [..., num_classes] "
            "(one-hot targets), or differ by a last axis of 1 for a binary mask.",
        )
    return predictions, targets.astype(predictions.dtype)


def _require_distributions(fn: str, predictions: jax.Array) -> None:
    """Raises unless concrete multi-class probabilities sum to 1 (optax's check)."""
    if predictions.shape[-1] == 1 or not validate.is_concrete(predictions):
        return
    sums = np.asarray(predictions, np.float64).sum(-1)
    if not np.allclose(sums, 1.0, rtol=1e-5):
        low, high = float(np.min(sums)), float(np.max(sums))
        raise validate.error(
            ValueError, fn, _NOT_DISTRIBUTIONS.format(low=low, high=high)
        )


def _sum_axes(fn: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """The axes the overlap is summed over: all but the first and last by default."""
    if axis is None:
        return tuple(range(1, ndim - 1))
    axes = validate.axes(fn, "axis", axis)
    resolved = tuple(
        validate.axis(fn, "axis", a, (0,) * ndim, shown=axis) for a in axes
    )
    if ndim - 1 in resolved or len(set(resolved)) != len(resolved):
        raise validate.error(
            ValueError,
            fn,
            f"axis={axis!r} must name distinct axes other than the last (class) "
            f"axis of the {ndim}-D predictions; the losses are reduced over the "
            "classes by reduction=.",
        )
    return resolved


def dice_loss(
    predictions: Any,
    targets: Any,
    *,
    class_weights: Any | None = None,
    smooth: Any = 1.0,
    alpha: Any = 0.5,
    beta: Any = 0.5,
    apply_softmax: bool = True,
    reduction: str = "mean",
    ignore_background: bool = False,
    axis: Any | None = None,
) -> jax.Array:
    r"""The soft Dice loss per class, with Tversky's weights on FP and FN.

    With :math:`p` the probabilities, :math:`t` the targets, and sums over the
    pixels :math:`i` of one example,

    .. math::
       I_c = \sum_i p_{ic} t_{ic}, \quad
       \ell_c = 1 - \frac{I_c + s}{I_c + \alpha \left(\sum_i p_{ic} - I_c\right)
       + \beta \left(\sum_i t_{ic} - I_c\right) + s}

    :math:`\alpha = \beta = 1/2` is Dice's :math:`1 - 2I/(P + T)` (Milletari
    et al. use squares in the denominator; this is the linear form, as
    optax's), other values are the Tversky loss: :math:`\alpha > \beta`
    punishes false positives more. The :math:`\ell_c` are multiplied by
    ``class_weights``, the background class is dropped if asked, then reduced
    over the classes. Probabilities are ``softmax`` over the class axis, or
    ``sigmoid`` of a single class axis (a binary mask).

    ``apply_softmax=False``: multi-class ``predictions`` must sum to 1 over
    the classes (checked when concrete); a single class axis holds the
    foreground probability and is not checked (optax checks it too, so it
    refuses any binary probability other than 1).

    Args:
      predictions: floating ``[batch, *spatial, num_classes]`` logits (or
        probabilities); ``[batch, *spatial]`` or ``[..., 1]`` for binary.
      targets: one-hot ``[..., num_classes]`` (or soft) targets of
        ``predictions``' shape, or a binary mask with one axis fewer.
      class_weights: None, or a 1-D array of one weight per class.
      smooth: :math:`s \ge 0`, added to numerator and denominator (the loss
        of an empty class predicted empty is 0, not 0/0).
      alpha: the weight of false positives, :math:`\ge 0`.
      beta: the weight of false negatives, :math:`\ge 0`.
      apply_softmax: whether ``predictions`` are logits.
      reduction: over the classes: ``"mean"``, ``"sum"``, or ``"none"``.
      ignore_background: drop class 0 (when there are several classes).
      axis: the axes summed over; None: all but the first and the last.

    Returns:
      ``[batch]`` losses (``[batch, num_classes]`` with ``reduction="none"``).

    Raises:
      TypeError: ``predictions`` not floating, or a bad argument type.
      ValueError: shapes that do not match, a bad ``axis``, ``reduction``,
        ``class_weights`` or number, or probabilities that do not sum to 1.

    References:
      Milletari, Navab & Ahmadi, *V-Net: Fully Convolutional Neural Networks
      for Volumetric Medical Image Segmentation*, 3DV 2016,
      https://arxiv.org/abs/1606.04797;
      Salehi, Erdogmus & Gholipour, *Tversky loss function for image
      segmentation using 3D fully convolutional deep networks*, MLMI 2017,
      https://arxiv.org/abs/1706.05721

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> probs = jnp.array([[[0.1, 0.9], [0.8, 0.2]]])
      >>> targets = jnp.array([[[0.0, 1.0], [1.0, 0.0]]])
      >>> gradtx.losses.dice_loss(
      ...     probs, targets, apply_softmax=False, reduction="none")
      Array([[0.07692313, 0.07317072]], dtype=float32)
    """
    fn = "dice_loss"
    validate.number(fn, "smooth", smooth, low=0.0)
    validate.number(fn, "alpha", alpha, low=0.0)
    validate.number(fn, "beta", beta, low=0.0)
    validate.boolean(fn, "apply_softmax", apply_softmax)
    validate.boolean(fn, "ignore_background", ignore_background)
    validate.choice(fn, "reduction", reduction, _REDUCTIONS)
    predictions, targets = _predictions_targets(fn, predictions, targets)
    num_classes = int(predictions.shape[-1])
    sum_axes = _sum_axes(fn, axis, predictions.ndim)
    weights = None
    if class_weights is not None:
        weights = validate.as_array(fn, "class_weights", class_weights)
        if weights.ndim != 1 or weights.shape[0] not in (1, num_classes):
            raise validate.error(
                ValueError,
                fn,
                f"class_weights has shape {tuple(weights.shape)}; it must be 1-D, "
                f"one weight per class ({num_classes},).",
            )
    if not apply_softmax:
        _require_distributions(fn, predictions)
    return _dice(
        predictions,
        targets,
        weights,
        smooth,
        alpha,
        beta,
        sum_axes=sum_axes,
        apply_softmax=apply_softmax,
        reduction=reduction,
        ignore_background=ignore_background,
    )


@functools.partial(
    jax.jit,
    static_argnames=("sum_axes", "apply_softmax", "reduction", "ignore_background"),
)
def _dice(
    predictions: jax.Array,
    targets: jax.Array,
    weights: jax.Array | None,
    smooth: Any,
    alpha: Any,
    beta: Any,
    *,
    sum_axes: tuple[int, ...],
    apply_softmax: bool,
    reduction: str,
    ignore_background: bool,
) -> jax.Array:
    """:func:`dice_loss` of checked arguments, as one compiled kernel."""
    num_classes = predictions.shape[-1]
    probs = predictions
    if apply_softmax:
        probs = (
            jax.nn.sigmoid(predictions)
            if num_classes == 1
            else jax.nn.softmax(predictions, axis=-1)
        )
    intersection = jnp.sum(probs * targets, axis=sum_axes)
    false_pos = jnp.sum(probs, axis=sum_axes) - intersection
    false_neg = jnp.sum(targets, axis=sum_axes) - intersection
    overlap = (intersection + smooth) / (
        intersection + alpha * false_pos + beta * false_neg + smooth
    )
    losses = 1.0 - overlap  # [..., num_classes]
    if weights is not None:
        losses = losses * jnp.broadcast_to(weights, losses.shape)
    if ignore_background and num_classes > 1:
        losses = losses[..., 1:]
    if reduction == "mean":
        return jnp.mean(losses, axis=-1)
    if reduction == "sum":
        return jnp.sum(losses, axis=-1)
    return losses


def multiclass_generalized_dice_loss(
    predictions: Any,
    targets: Any,
    *,
    smooth: Any = 1.0,
    apply_softmax: bool = True,
    ignore_background: bool = False,
) -> jax.Array:
    r"""Dice losses weighted by inverse squared class volumes (Sudre et al.).

    With :math:`V_c = \sum t_{c}` the volume of class :math:`c` over the
    whole batch, the weights are

    .. math::
       w_c = C \, \frac{1 / (V_c^2 + 10^{-7})}{\sum_k 1 / (V_k^2 + 10^{-7})}

    and the loss is the mean over examples and classes of :math:`w_c\,\ell_c`,
    :math:`\ell_c` the per-class :func:`dice_loss`. Rare classes weigh as
    much as common ones. This is optax's form, a weighted mean of per-class
    Dice losses; Sudre et al.'s own is the pooled ratio
    :math:`1 - 2\sum_c w_c I_c / \sum_c w_c (P_c + T_c)`. A class absent from
    the whole batch gets nearly all the weight (as in both).

    Args:
      predictions: floating ``[batch, *spatial, num_classes]`` logits (or
        probabilities).
      targets: one-hot targets of ``predictions``' shape.
      smooth: added to the numerator and denominator of each Dice ratio.
      apply_softmax: whether ``predictions`` are logits.
      ignore_background: drop class 0 from the mean (the weights are still
        normalized over all classes, as in optax).

    Returns:
      The scalar loss.

    Raises:
      TypeError: ``predictions`` not floating.
      ValueError: shapes that differ, or a bad number.

    References:
      Sudre et al., *Generalised Dice overlap as a deep learning loss function
      for highly unbalanced segmentations*, DLMIA 2017,
      https://arxiv.org/abs/1707.03237

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> probs = jnp.array([[[0.1, 0.9], [0.8, 0.2], [0.7, 0.3]]])
      >>> targets = jnp.array([[[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]])
      >>> gradtx.losses.multiclass_generalized_dice_loss(
      ...     probs, targets, apply_softmax=False)
      Array(0.1305195..., dtype=float32)
    """
    fn = "multiclass_generalized_dice_loss"
    predictions = validate.floating(fn, "predictions", predictions)
    targets = validate.as_array(fn, "targets", targets)
    if predictions.shape != targets.shape or predictions.ndim == 0:
        raise validate.error(
            ValueError,
            fn,
            f"targets has shape {tuple(targets.shape)}; it must equal predictions' "
            f"shape {tuple(predictions.shape)}, [..., num_classes] (one-hot).",
        )
    targets = targets.astype(predictions.dtype)
    volumes = jnp.sum(targets, axis=tuple(range(targets.ndim - 1)))
    inverse = 1.0 / (volumes**2 + 1e-7)
    weights = inverse / jnp.sum(inverse) * inverse.shape[0]
    with validate.named(fn):
        losses = dice_loss(
            predictions,
            targets,
            class_weights=weights,
            smooth=smooth,
            apply_softmax=apply_softmax,
            reduction="none",
            ignore_background=ignore_background,
        )
    return jnp.mean(losses)


def binary_dice_loss(
    predictions: Any,
    targets: Any,
    *,
    smooth: Any = 1.0,
    apply_sigmoid: bool = True,
) -> jax.Array:
    r"""The Dice loss of a binary mask: :func:`dice_loss` of one class.

    .. math::
       \ell = 1 - \frac{2 \sum_i p_i t_i + 2s}{\sum_i p_i + \sum_i t_i + 2s},
       \quad p = \sigma(x)

    (:func:`dice_loss` with :math:`\alpha = \beta = 1/2`, multiplied through
    by 2), the sums over all axes but the first.

    Args:
      predictions: floating ``[batch, *spatial]`` or ``[batch, *spatial, 1]``
        logits (or foreground probabilities).
      targets: the binary mask, ``[batch, *spatial]`` or ``[..., 1]``.
      smooth: :math:`s \ge 0`.
      apply_sigmoid: whether ``predictions`` are logits. With False they are
        probabilities in [0, 1] (optax's ``binary_dice_loss`` then raises for
        any probability other than 1, as its check wants sums of 1 over a
        single class).

    Returns:
      The ``[batch]`` losses.

    Raises:
      TypeError: ``predictions`` not floating.
      ValueError: shapes that do not match, or a bad ``smooth``.

    References:
      Milletari, Navab & Ahmadi, *V-Net: Fully Convolutional Neural Networks
      for Volumetric Medical Image Segmentation*, 3DV 2016,
      https://arxiv.org/abs/1606.04797

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> probs = jnp.array([[0.9, 0.2, 0.7], [0.1, 0.1, 0.1]])
      >>> mask = jnp.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
      >>> gradtx.losses.binary_dice_loss(probs, mask, apply_sigmoid=False)
      Array([0.1034483, 0.3333333 ], dtype=float32)
    """
    fn = "binary_dice_loss"
    predictions = validate.floating(fn, "predictions", predictions)
    targets = validate.as_array(fn, "targets", targets)
    if predictions.ndim == targets.ndim and predictions.shape[-1:] != (1,):
        predictions = predictions[..., None]
        targets = targets[..., None]
    with validate.named(fn):
        return dice_loss(
            predictions,
            targets,
            smooth=smooth,
            apply_softmax=apply_sigmoid,
            reduction="mean",
        )
