"""Contrastive and metric-learning losses: NT-Xent and the triplet margin loss."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["ntxent", "triplet_margin_loss"]


def ntxent(embeddings: Any, labels: Any, temperature: Any = 0.07) -> jax.Array:
    r"""NT-Xent, SimCLR's normalized temperature-scaled cross entropy.

    With the cosine similarities :math:`s_{ij} = \cos(z_i, z_j) / \tau`, the
    positives :math:`P` (pairs :math:`i \ne j` of the same label) and the
    negatives :math:`N(i)` of :math:`i` (other labels):

    .. math::
       \ell_{ij} = -\log \frac{e^{s_{ij}}}
           {e^{s_{ij}} + \sum_{k \in N(i)} e^{s_{ik}}}
         = \operatorname{softplus}\Bigl(\log\sum_{k \in N(i)} e^{s_{ik}}
           - s_{ij}\Bigr),
       \qquad L = \frac{1}{|P|} \sum_{(i, j) \in P} \ell_{ij}

    For the paper's batches of pairs (two views per label) this is SimCLR's
    loss; with larger groups, the other positives are left out of the
    denominator, as in optax and pytorch-metric-learning's ``NTXentLoss``.
    A zero embedding has similarity 0 to all (norms are bounded below by
    the dtype's epsilon). A batch with no positive pair gives 0 (optax:
    NaN).

    Args:
      embeddings: floating array (batch, features).
      labels: array (batch,); equal labels mark positive pairs, e.g.
        ``[0, 0, 1, 1]`` for two views of two images.
      temperature: :math:`\tau` > 0.

    Returns:
      The mean loss over positive pairs, a scalar.

    Raises:
      TypeError: ``embeddings`` is not floating.
      ValueError: shapes that do not fit, or a concrete ``temperature`` <= 0.

    References:
      Chen, Kornblith, Norouzi & Hinton, *A Simple Framework for Contrastive
      Learning of Visual Representations*, ICML 2020,
      https://arxiv.org/abs/2002.05709

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> z = jnp.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
      >>> gradtx.losses.ntxent(z, jnp.array([0, 0, 1, 1]), temperature=0.5)
      Array(0.289877..., dtype=float32)
    """
    fn = "ntxent"
    z = validate.floating(fn, "embeddings", embeddings)
    if z.ndim != 2:
        raise validate.error(
            ValueError,
            fn,
            f"embeddings must have shape (batch, features), got shape "
            f"{tuple(z.shape)}.",
        )
    labels = validate.as_array(fn, "labels", labels)
    if tuple(labels.shape) != z.shape[:1]:
        raise validate.error(
            ValueError,
            fn,
            f"labels must have shape ({z.shape[0]},), one per embedding, got "
            f"shape {tuple(labels.shape)}.",
        )
    validate.number(fn, "temperature", temperature, low=0.0, low_open=True)
    norm2 = jnp.sum(jnp.square(z), axis=1, keepdims=True)
    unit = z / jnp.sqrt(jnp.maximum(norm2, jnp.finfo(z.dtype).eps))
    sim = (unit @ unit.T) / temperature
    same = labels[:, None] == labels[None, :]
    positive = same & ~jnp.eye(z.shape[0], dtype=bool)
    negative = ~same
    has_negative = jnp.any(negative, axis=1, keepdims=True)
    # log sum_{k in N(i)} exp(s_ik), -inf when i has no negative.
    row_max = jax.lax.stop_gradient(
        jnp.max(jnp.where(negative, sim, -jnp.inf), axis=1, keepdims=True)
    )
    row_max = jnp.where(has_negative, row_max, 0.0)
    # -inf off the negatives, inside exp: exp(s_ii - max) may overflow.
    total = jnp.sum(jnp.exp(jnp.where(negative, sim - row_max, -jnp.inf)), axis=1)
    log_total = jnp.log(jnp.where(has_negative[:, 0], total, 1.0))[:, None]
    lse_negative = jnp.where(has_negative, row_max + log_total, -jnp.inf)
    terms = jax.nn.softplus(lse_negative - sim)
    count = jnp.sum(positive)
    return jnp.sum(jnp.where(positive, terms, 0.0)) / jnp.maximum(count, 1)


def triplet_margin_loss(
    anchors: Any,
    positives: Any,
    negatives: Any,
    axis: int = -1,
    norm_degree: Any = 2,
    margin: Any = 1.0,
    eps: Any = 1e-6,
) -> jax.Array:
    r"""The triplet margin loss: the positive closer than the negative by a margin.

    .. math::
       \ell = \max\bigl(0,\; d(a, p) - d(a, n) + m\bigr), \quad
       d(x, y) = \Bigl(\sum_k |x_k - y_k|^q + \epsilon\Bigr)^{1/q}

    along ``axis``, with :math:`q` = ``norm_degree``. The :math:`\epsilon`
    inside keeps the gradient finite when two embeddings coincide. torch's
    ``triplet_margin_loss`` adds its ``eps`` to the differences instead
    (:math:`\lVert x - y + \epsilon\rVert_q`); with ``eps=0`` both agree.
    gradtx takes :math:`|x_k - y_k|`, so odd degrees are true norms (optax
    raises the signed differences to the power).

    Args:
      anchors: floating array, e.g. (batch, features).
      positives: floating array broadcasting to ``anchors``' shape, embeddings
        that should be near the anchors.
      negatives: floating array broadcasting to ``anchors``' shape, embeddings
        that should be far from them.
      axis: the feature axis.
      norm_degree: :math:`q` > 0 (2: Euclidean).
      margin: :math:`m`, how much farther the negative should be.
      eps: :math:`\epsilon` >= 0.

    Returns:
      The losses, with ``axis`` removed from ``anchors``' shape.

    Raises:
      TypeError: an input not floating, or ``axis`` not an int.
      ValueError: shapes that do not fit, ``axis`` out of range, or a
        concrete ``norm_degree`` <= 0, ``margin`` not finite or ``eps`` < 0.

    References:
      Balntas, Riba, Ponsa & Mikolajczyk, *Learning local feature descriptors
      with triplets and shallow convolutional neural networks*, BMVC 2016,
      https://doi.org/10.5244/C.30.119

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> anchors = jnp.array([[0.0, 0.0], [1.0, 1.0]])
      >>> positives = jnp.array([[0.1, 0.1], [1.1, 1.1]])
      >>> negatives = jnp.array([[1.0, 0.0], [0.0, 1.0]])
      >>> gradtx.losses.triplet_margin_loss(anchors, positives, negatives)
      Array([0.14142..., 0.14142...], dtype=float32)
    """
    fn = "triplet_margin_loss"
    a = validate.floating(fn, "anchors", anchors)
    p = validate.floating(fn, "positives", positives)
    n = validate.floating(fn, "negatives", negatives)
    shape = tuple(a.shape)
    validate.fits_shape(fn, "positives", p, shape, "anchors")
    validate.fits_shape(fn, "negatives", n, shape, "anchors")
    axis = validate.axis(fn, "axis", axis, shape)
    validate.number(fn, "norm_degree", norm_degree, low=0.0, low_open=True)
    validate.number(fn, "margin", margin)
    validate.number(fn, "eps", eps, low=0.0)

    def distance(other: jax.Array) -> jax.Array:
        total = jnp.sum(jnp.abs(a - other) ** norm_degree, axis=axis)
        return (total + eps) ** (1.0 / norm_degree)

    return jnp.maximum(distance(p) - distance(n) + margin, 0.0)
