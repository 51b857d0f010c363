"""Sparsemax losses: the Fenchel-Young losses of the Gini negentropy.

Sparsemax (Martins & Astudillo 2016) is the Euclidean projection of the scores
onto the probability simplex; unlike softmax it puts exactly zero on low
scores. Its loss is the Fenchel-Young loss (Blondel et al. 2020) of
:math:`\\Omega(p) = \\tfrac12 \\|p\\|^2 - \\tfrac12`, whose gradient is
:math:`\\operatorname{sparsemax}(z) - y`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = ["multiclass_sparsemax_loss", "sparsemax_loss"]


def _sparsemax(z: jax.Array) -> jax.Array:
    """The projection of each ``z[..., :]`` onto the simplex (sort-based).

    With :math:`z_{(1)} \\ge \\dots \\ge z_{(n)}` sorted, the support size is
    :math:`k = \\max\\{j : 1 + j z_{(j)} > \\sum_{i \\le j} z_{(i)}\\}`, the
    threshold :math:`\\tau = (\\sum_{i \\le k} z_{(i)} - 1)/k`, and
    :math:`p = \\max(z - \\tau, 0)` (Duchi et al. 2008, Alg. 1; Martins &
    Astudillo 2016, Alg. 1). Differentiable: the Jacobian on the support is
    :math:`I - \\mathbf{1}\\mathbf{1}^\\top / k`.
    """
    # The projection commutes with shifts: the shift is a constant to it.
    z = z - jax.lax.stop_gradient(jnp.max(z, axis=-1, keepdims=True))
    n = z.shape[-1]
    z_sorted = jnp.flip(jnp.sort(z, axis=-1), axis=-1)
    cumsum = jnp.cumsum(z_sorted, axis=-1)
    j = jnp.arange(1, n + 1, dtype=z.dtype).reshape((1,) * (z.ndim - 1) + (n,))
    support = jnp.sum(1.0 + j * z_sorted > cumsum, axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cumsum, support - 1, axis=-1) - 1.0) / support.astype(
        z.dtype
    )
    return jnp.where(z > tau, z - tau, 0.0)


@jax.custom_jvp
def _gini_max(z: jax.Array) -> jax.Array:
    """:math:`\\Omega^*(z) = \\langle p, z\\rangle - \\tfrac12\\|p\\|^2 +
    \\tfrac12`, :math:`p = \\operatorname{sparsemax}(z)`, over the last axis.

    Its gradient is :math:`p` (Danskin), given exactly by the custom JVP; the
    second derivative is sparsemax's Jacobian.
    """
    p = _sparsemax(z)
    z_on_support = jnp.where(p > 0, z, 0.0)  # 0 * -inf off the support
    return jnp.sum(p * z_on_support, axis=-1) + 0.5 * (1.0 - jnp.sum(p * p, axis=-1))


@_gini_max.defjvp
def _gini_max_jvp(
    primals: tuple[jax.Array], tangents: tuple[jax.Array]
) -> tuple[jax.Array, jax.Array]:
    (z,), (z_dot,) = primals, tangents
    p = _sparsemax(z)
    return _gini_max(z), jnp.sum(p * z_dot, axis=-1)


def sparsemax_loss(logits: Any, labels: Any) -> jax.Array:
    r"""The binary sparsemax loss, zero iff ``sparse_sigmoid(logits) == labels``.

    With :math:`\operatorname{sp}` the sparse plus
    (:math:`0` for :math:`x \le -1`, :math:`(x + 1)^2/4` for
    :math:`|x| < 1`, :math:`x` for :math:`x \ge 1`),

    .. math::
       \ell(x, y) = y \operatorname{sp}(-x) + (1 - y) \operatorname{sp}(x)
       - y (1 - y)

    the Fenchel-Young loss of the Gini negentropy on the two classes
    :math:`(y, 1 - y)` (Blondel et al. 2020, §4.4). For a 0/1 label it is
    :math:`\operatorname{sp}(\mp x)`, exactly as optax; a soft label in
    (0, 1) gets this loss, which is 0 at :math:`\operatorname{sparse\_sigmoid}
    (x) = y` (optax reads any nonzero label as 1). The gradient in ``logits``
    is :math:`\operatorname{sparse\_sigmoid}(x) - y`.

    Args:
      logits: floating array, the scores.
      labels: array broadcasting to ``logits``' shape, 0/1 (bool, integer or
        float) or soft labels in [0, 1].

    Returns:
      The losses, with ``logits``' shape.

    Raises:
      TypeError: ``logits`` not floating.
      ValueError: ``labels`` that do not fit, or concrete labels outside
        [0, 1].

    References:
      Blondel, Martins & Niculae, *Learning with Fenchel-Young Losses*, JMLR
      2020, https://arxiv.org/abs/1901.02324;
      Martins & Astudillo, *From Softmax to Sparsemax: A Sparse Model of
      Attention and Multi-Label Classification*, ICML 2016,
      https://arxiv.org/abs/1602.02068

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> logits, labels = jnp.array([2.0, 0.0, -3.0]), jnp.array([0, 1, 1])
      >>> gradtx.losses.sparsemax_loss(logits, labels)
      Array([2.  , 0.25, 3.  ], dtype=float32)
    """
    fn = "sparsemax_loss"
    logits = validate.floating(fn, "logits", logits)
    labels = validate.as_array(fn, "labels", labels)
    validate.fits_shape(fn, "labels", labels, tuple(logits.shape), "logits")
    if validate.is_concrete(labels):
        values = np.asarray(labels, np.float64)
        if not ((values >= 0) & (values <= 1)).all():
            bad = values[~((values >= 0) & (values <= 1))][0]
            raise validate.error(
                ValueError,
                fn,
                f"labels must be in [0, 1] (0/1, or soft labels), got {bad:g}. "
                "Map {-1, 1} labels with (labels + 1) // 2.",
            )
    return _binary_losses(
        logits, jnp.broadcast_to(labels.astype(logits.dtype), logits.shape)
    )


@jax.jit
def _binary_losses(x: jax.Array, y: jax.Array) -> jax.Array:
    """``y sp(-x) + (1 - y) sp(x) - y (1 - y)``, exactly ``sp(-+x)`` at 0/1."""
    positive = jnp.where(y > 0, y * jax.nn.sparse_plus(-x), 0.0)
    negative = jnp.where(y < 1, (1.0 - y) * jax.nn.sparse_plus(x), 0.0)
    return positive + negative - y * (1.0 - y)


def multiclass_sparsemax_loss(scores: Any, labels: Any) -> jax.Array:
    r"""The multi-class sparsemax loss of integer labels.

    With :math:`p = \operatorname{sparsemax}(z)` the Euclidean projection of
    the scores onto the simplex, :math:`S` its support and :math:`\tau` its
    threshold (:math:`p = \max(z - \tau, 0)`),

    .. math::
       \ell(z, k) = -z_k + \tfrac12 \sum_{j \in S} (z_j^2 - \tau^2) + \tfrac12
       = \langle p, z - z_k \rangle + \tfrac12 (1 - \|p\|^2)

    (Martins & Astudillo 2016, eq. 18), the Fenchel-Young loss of the Gini
    negentropy. It is 0 iff :math:`p` is the one-hot :math:`e_k`, and its
    gradient is :math:`p - e_k` (exact, by a custom JVP; the Hessian is
    sparsemax's Jacobian). It is computed in the shifted form on the right,
    so large scores lose no precision.

    Args:
      scores: floating ``[..., num_classes]`` scores (optax: ``[batch,
        num_classes]`` only).
      labels: integer class indices of shape ``[...]`` in
        ``[0, num_classes)``. Concrete labels out of range raise; under
        ``jit`` their loss is NaN (optax clamps them, or wraps ``-1``).

    Returns:
      The ``[...]`` losses.

    Raises:
      TypeError: ``scores`` not floating, or ``labels`` not integer.
      ValueError: ``scores`` a scalar, ``labels`` of the wrong shape, or a
        concrete label out of range.

    References:
      Martins & Astudillo, *From Softmax to Sparsemax: A Sparse Model of
      Attention and Multi-Label Classification*, ICML 2016,
      https://arxiv.org/abs/1602.02068

    Example:
      >>> import gradtx.losses, jax.numpy as jnp
      >>> scores = jnp.array([[0.0, 1.5, 0.0], [1.0, 0.8, -1.0]])
      >>> loss = gradtx.losses.multiclass_sparsemax_loss(scores, jnp.array([1, 0]))
      >>> [round(float(v), 4) for v in loss]
      [0.0, 0.16]
    """
    fn = "multiclass_sparsemax_loss"
    scores = validate.floating(fn, "scores", scores)
    if scores.ndim == 0:
        raise validate.error(
            ValueError,
            fn,
            "scores must have a last axis of classes, [..., num_classes], got a "
            "scalar.",
        )
    labels = validate.integral(
        fn, "labels", labels, "Pass class indices, e.g. jnp.argmax(one_hot, -1)."
    )
    batch_shape = tuple(scores.shape[:-1])
    validate.fits_shape(
        fn, "labels", labels, batch_shape, "scores without its last axis"
    )
    num_classes = int(scores.shape[-1])
    if validate.is_concrete(labels):
        values = np.asarray(labels)
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            raise validate.error(
                ValueError,
                fn,
                f"labels must be class indices in [0, {num_classes}), got "
                f"{int(values[bad].flat[0])}.",
            )
    return _multiclass_losses(scores, jnp.broadcast_to(labels, batch_shape))


@jax.jit
def _multiclass_losses(scores: jax.Array, labels: jax.Array) -> jax.Array:
    """The losses of checked inputs: one compiled kernel (sort, cumsum...)."""
    in_range = (labels >= 0) & (labels < scores.shape[-1])
    index = jnp.where(in_range, labels, 0)[..., None]
    label_scores = jnp.take_along_axis(scores, index, axis=-1)
    losses = _gini_max(scores - label_scores)
    return jnp.where(in_range, losses, jnp.nan)
