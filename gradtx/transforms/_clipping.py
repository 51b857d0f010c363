"""Clipping: element-wise and by the global norm."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import abs_sq, leafwise, real_dtype, up
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    init_empty_state,
)
from gradtx.tree import norm as tree_norm

__all__ = [
    "adaptive_grad_clip",
    "clip",
    "clip_by_block_rms",
    "clip_by_global_norm",
    "global_norm",
    "unitwise_norm",
]

_AGC_NEEDS_PARAMS = (
    "adaptive_grad_clip scales by the params' norms; pass params to update: "
    "tx.update(grads, state, params)."
)


def clip(max_delta: Any) -> GradientTransformation:
    r"""Clips each element of the updates to :math:`[-\delta, \delta]`.

    .. math:: u \leftarrow \min(\max(u, -\delta), \delta)

    Complex updates are not supported (clip their real and imaginary parts
    yourself, or use :func:`clip_by_global_norm`).

    Args:
      max_delta: :math:`\delta > 0`.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: ``max_delta`` is not positive.
      TypeError: an update is complex.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.clip(1.0)
      >>> tx.update(jnp.array([3.0, -0.5, -2.0]), tx.init(jnp.zeros(3)))[0]
      Array([ 1. , -0.5, -1. ], dtype=float32)
    """
    fn = validate.who("clip")
    validate.number(fn, "max_delta", max_delta, low=0.0, low_open=True)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        if any(jnp.iscomplexobj(g) for g in jax.tree.leaves(updates)):
            raise validate.error(
                TypeError,
                fn,
                "updates are complex, but clip is element-wise on real values. "
                "Use clip_by_global_norm, which works on |u|.",
            )
        return jax.tree.map(
            lambda g: jnp.clip(g, -max_delta, max_delta).astype(g.dtype), updates
        ), state

    return GradientTransformation(init_empty_state, update)


def global_norm(updates: Any) -> jax.Array:
    r"""The Euclidean norm of all elements of a pytree, :math:`\sqrt{\sum |x|^2}`.

    Squares are accumulated in at least float32, so float16 and bfloat16
    gradients do not overflow (float16 squares overflow above 256). optax's
    name for :func:`gradtx.tree.norm` with its default ``ord``.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> float(gradtx.global_norm({"a": jnp.array([3.0]), "b": jnp.array([4.0])}))
      5.0
    """
    return tree_norm(updates)


def clip_by_global_norm(max_norm: Any) -> GradientTransformation:
    r"""Rescales the updates so that their global norm is at most ``max_norm``.

    .. math::
       u \leftarrow u \cdot \min\!\left(1, \frac{c}{\lVert u \rVert_2}\right),
       \qquad \lVert u \rVert_2 = \sqrt{\textstyle\sum_i |u_i|^2}

    over all leaves at once (Pascanu et al.). The factor is one scalar computed
    once per step, so XLA fuses the multiplication into whatever consumes the
    clipped updates; no clipped copy of the gradients is kept. Squares are
    summed in at least float32, and the factor is differentiable everywhere
    (also at a zero gradient, where optax's form gives NaN meta-gradients).

    Args:
      max_norm: :math:`c > 0`.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: ``max_norm`` is not positive.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.clip_by_global_norm(1.0)
      >>> tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))[0]
      Array([0.6, 0.8], dtype=float32)

    References:
      Pascanu, Mikolov & Bengio, *On the difficulty of training recurrent neural
      networks*, ICML 2013, https://arxiv.org/abs/1211.5063
    """
    fn = validate.who("clip_by_global_norm")
    validate.number(fn, "max_norm", max_norm, low=0.0, low_open=True)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        sq = tree_norm(updates, squared=True)
        c = jnp.asarray(max_norm, sq.dtype)
        # factor = c / max(|u|, c), written so that
        # - it is exactly 1 when no clipping is needed: sqrt(c * c) == c in IEEE
        #   arithmetic, and the barrier stops XLA from rewriting c / sqrt(x)
        #   into the inexact c * rsqrt(x);
        # - its gradient is finite at u = 0 (sqrt is never evaluated below c^2);
        # - XLA compiles it in time linear in the number of leaves (a
        #   jnp.where on the norm made compile time grow like n^2.5).
        norm = jax.lax.optimization_barrier(jnp.sqrt(jnp.maximum(sq, c * c)))
        factor = c / norm
        return leafwise(_scale_leaf, updates, scalars=(factor,)), state

    return GradientTransformation(init_empty_state, update)


def _scale_leaf(g: jax.Array, factor: jax.Array) -> jax.Array:
    return g * factor.astype(real_dtype(g.dtype))


def clip_by_block_rms(threshold: Any) -> GradientTransformation:
    r"""Rescales each leaf whose root mean square exceeds ``threshold``.

    .. math:: u \leftarrow u \,/\, \max\!\left(1, \mathrm{rms}(u) / c\right),
       \qquad \mathrm{rms}(u) = \sqrt{\tfrac{1}{n}\textstyle\sum_i |u_i|^2}

    per leaf (a "block"), as ``optax.clip_by_block_rms``. Squares are averaged
    in at least float32.

    Args:
      threshold: :math:`c > 0`, the largest RMS a leaf may keep.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: ``threshold`` is not positive.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.clip_by_block_rms(1.0)
      >>> tx.update({"a": jnp.array([3.0, 4.0]), "b": jnp.array([0.5])},
      ...           tx.init({"a": jnp.zeros(2), "b": jnp.zeros(1)}))[0]["a"]
      Array([0.84852815, 1.1313709 ], dtype=float32)
    """
    fn = validate.who("clip_by_block_rms")
    validate.number(fn, "threshold", threshold, low=0.0, low_open=True)

    def leaf(u: jax.Array) -> jax.Array:
        rms = jnp.sqrt(jnp.mean(abs_sq(up(u))))
        denom = jnp.maximum(1.0, rms / threshold)
        return (u / denom.astype(real_dtype(u.dtype))).astype(u.dtype)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        return leafwise(leaf, updates), state

    return GradientTransformation(init_empty_state, update)


def unitwise_norm(x: jax.Array, axis: int | tuple[int, ...] | None = None) -> jax.Array:
    """The L2 norm of each unit of ``x`` (Brock et al. 2021), broadcast to x.

    A unit is what one output neuron owns: the whole array for scalars and
    vectors; a column of a ``(in, out)`` kernel (norm over axis 0) and of a
    ``(in, heads, out)`` one; one output channel of a convolution kernel in
    Flax's ``HWIO`` (norm over all axes but the last) or ``DHWIO`` layout.
    ``axis`` (an int or a tuple, as ``optax.unitwise_norm``'s) names the
    axes to take the norm over instead, for other layouts.

    Raises:
      ValueError: ``x`` has more than 5 dimensions and no ``axis`` is given,
        or ``axis`` is not an axis of ``x``.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.unitwise_norm(jnp.array([[3.0, 0.0], [4.0, 1.0]]))
      Array([[5., 1.],
             [5., 1.]], dtype=float32)
    """
    squeezed = sum(d != 1 for d in x.shape)
    if axis is not None:
        given = (axis,) if isinstance(axis, int) else tuple(axis)
        if not given or any(
            not isinstance(a, int) or not -x.ndim <= a < x.ndim for a in given
        ):
            raise validate.error(
                ValueError,
                "unitwise_norm",
                f"axis {axis!r} is not an axis (or tuple of axes) of an array of "
                f"shape {x.shape}.",
            )
        axes: tuple[int, ...] = tuple(a % x.ndim for a in given)
    elif squeezed <= 1:
        axes = tuple(range(x.ndim))
    elif x.ndim in (2, 3):
        axes = (0,)
    elif x.ndim in (4, 5):
        axes = tuple(range(x.ndim - 1))
    else:
        raise validate.error(
            ValueError,
            "unitwise_norm",
            f"x has shape {x.shape}, but unitwise_norm handles arrays of up to 5 "
            "dimensions: give axis= (the axes of one unit), or mask such leaves "
            "out of adaptive_grad_clip.",
        )
    sq = jnp.sum(abs_sq(up(x)), axes, keepdims=True)
    return jnp.broadcast_to(jnp.sqrt(sq), x.shape)


def adaptive_grad_clip(
    clipping: Any, eps: Any = 1e-3, axis: int | tuple[int, ...] | None = None
) -> GradientTransformation:
    r"""Adaptive gradient clipping (AGC), unit-wise (Brock et al. 2021).

    For each unit :math:`i` (see :func:`unitwise_norm`) of each leaf, with
    :math:`W_i` the params and :math:`G_i` the updates:

    .. math::
       G_i \leftarrow \begin{cases}
         \lambda \dfrac{\max(\lVert W_i \rVert, \epsilon)}{\lVert G_i \rVert} G_i
           & \text{if } \dfrac{\lVert G_i \rVert}{\max(\lVert W_i \rVert,
             \epsilon)} > \lambda \\
         G_i & \text{otherwise}
       \end{cases}

    The same rule and unit convention as ``optax.adaptive_grad_clip``.

    Args:
      clipping: :math:`\lambda > 0`, the largest update-to-param norm ratio.
      eps: :math:`\epsilon \ge 0`, keeps zero-initialized units (biases)
        trainable.
      axis: the axes of one unit, for every leaf (as optax's ``axis``); None:
        each leaf's by its rank (:func:`unitwise_norm`).

    Returns:
      A stateless :class:`~gradtx.GradientTransformation` (needs ``params``).

    Raises:
      ValueError: a hyperparameter is out of range; at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adaptive_grad_clip(0.1)
      >>> w = jnp.array([[3.0], [4.0]])  # one unit (column) of norm 5
      >>> tx.update(jnp.array([[6.0], [8.0]]), tx.init(w), w)[0].ravel()
      Array([0.3, 0.4], dtype=float32)

    References:
      Brock, De, Smith & Simonyan, *High-Performance Large-Scale Image
      Recognition Without Normalization*, ICML 2021,
      https://arxiv.org/abs/2102.06171
    """
    fn = validate.who("adaptive_grad_clip")
    validate.number(fn, "clipping", clipping, low=0.0, low_open=True)
    validate.number(fn, "eps", eps, low=0.0)
    given = (axis,) if isinstance(axis, int) else axis
    if given is not None and not (
        isinstance(given, tuple)
        and all(isinstance(a, int) and not isinstance(a, bool) for a in given)
    ):
        raise validate.error(
            TypeError,
            fn,
            f"axis must be None, an int or a tuple of ints; got {axis!r}.",
        )

    def leaf(g: jax.Array, p: jax.Array) -> jax.Array:
        g_norm = unitwise_norm(g, axis)
        max_norm = clipping * jnp.maximum(unitwise_norm(p, axis), eps)
        ratio = (max_norm / jnp.maximum(g_norm, 1e-6)).astype(real_dtype(g.dtype))
        return jnp.where(g_norm < max_norm, g, (g * ratio).astype(g.dtype))

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params, needs_params=_AGC_NEEDS_PARAMS)
        return leafwise(leaf, updates, params), state

    return GradientTransformation(init_empty_state, update)
