"""SM3's building block: AdaGrad with one accumulator per slice of each axis.

The update rule is written once, on :func:`gradtx.sm3`.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import abs_sq, real_dtype, up, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._moments import DECAY

__all__ = ["ScaleBySM3State", "scale_by_sm3"]


class ScaleBySM3State(NamedTuple):
    """State of :func:`scale_by_sm3` (optax's field names).

    ``mu`` holds, for each leaf of rank :math:`r \\ge 2`, a list of
    :math:`r` vectors: axis :math:`i`'s accumulators, one per index along it
    (shape ``(n_i,)``); for a vector or a scalar, a one-element list of an
    accumulator per coordinate (AdaGrad's). optax has ``[]`` for a scalar,
    and fails on it.
    """

    mu: Any  # per leaf: a list of accumulators (the param's real dtype)
    nu: Any  # like params: the momentum of the scaled updates


def _cover(p: Any) -> list[jax.Array]:
    """Zero accumulators for one param: one vector per axis, or one per entry."""
    dtype = real_dtype(jnp.result_type(p))
    shape = jnp.shape(p)
    if len(shape) < 2:
        return [jnp.zeros(shape, dtype)]
    return [jnp.zeros((n,), dtype) for n in shape]


def _broadcast(acc: jax.Array, axis: int, ndim: int) -> jax.Array:
    """Axis ``axis``'s accumulators, shaped to broadcast against the leaf."""
    return jnp.reshape(acc, [1] * axis + [-1] + [1] * (ndim - axis - 1))


def scale_by_sm3(
    b1: Any = 0.9, b2: Any = 1.0, eps: Any = 0.0
) -> GradientTransformation:
    r"""Scales updates by SM3-II's cover-based AdaGrad accumulator, with momentum.

    For each coordinate :math:`i` of a leaf of rank :math:`\ge 2`,
    :math:`\nu_t(i) = \min_{r \ni i} \mu_{t-1}(r) + g_t(i)^2` over the slices
    :math:`r` through :math:`i` (one per axis), then each slice keeps
    :math:`\mu_t(r) = \max_{i \in r} \nu_t(i)`; vectors and scalars keep
    AdaGrad's sum per coordinate. The output is an EMA (``b1``) of
    :math:`g_t / \sqrt{\nu_t}` (0 where :math:`\nu_t = 0`). See
    :func:`gradtx.sm3`.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, the decay of the momentum (0: none).
      b2: :math:`\beta_2 \in [0, 1]`: 1 sums the squares (the paper's); below
        1, :math:`\nu_t = (1-\beta_2) g^2 + \beta_2 \min \mu` (optax's option).
      eps: :math:`\epsilon \ge 0` inside the root, :math:`g / \sqrt{\nu +
        \epsilon}` (the paper has none; optax's block adds 1e-8).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleBySM3State`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_sm3(b1=0.0)
      >>> state = tx.init(jnp.zeros((2, 2)))
      >>> [m.shape for m in state.mu]  # 2 + 2 accumulators, not 2 * 2
      [(2,), (2,)]
      >>> u, state = tx.update(jnp.array([[3.0, 0.0], [-4.0, 1.0]]), state)
      >>> u  # the first step is sign(g), 0 where g = 0
      Array([[ 1.,  0.],
             [-1.,  1.]], dtype=float32)
    """
    fn = validate.who("scale_by_sm3")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, low=0.0, high=1.0)
    validate.number(fn, "eps", eps, low=0.0)
    # optax's coefficients: (1 - b2, b2), and (1, 1) for the paper's sum.
    new_weight = 1.0 if validate.concrete_float(b2) == 1.0 else None

    def init(params: Params) -> ScaleBySM3State:
        validate.params(fn, params)
        return ScaleBySM3State(mu=jax.tree.map(_cover, params), nu=zeros_like(params))

    def leaf(
        g: jax.Array, mu: list[jax.Array], nu: jax.Array, b1: Any, b2: Any
    ) -> tuple[jax.Array, list[jax.Array], jax.Array]:
        x = up(g)
        if g.ndim < 2:  # a vector or a scalar: an accumulator per entry
            prior = up(mu[0])
        else:
            prior = functools.reduce(
                jnp.minimum, [_broadcast(up(m), i, g.ndim) for i, m in enumerate(mu)]
            )
        w = (1.0 - b2) if new_weight is None else new_weight
        acc = w * abs_sq(x) + b2 * prior
        positive = acc > 0
        # The safe denominator keeps gradients through the update finite.
        scaled = x * jax.lax.rsqrt(jnp.where(positive, acc, 1.0) + eps)
        scaled = jnp.where(positive, scaled, jnp.zeros_like(scaled))
        new_nu = (1.0 - b1) * scaled + b1 * up(nu)  # optax's order of operations
        if g.ndim < 2:
            new_mu = [acc.astype(mu[0].dtype)]
        else:
            axes = range(g.ndim)
            new_mu = [
                jnp.max(acc, axis=tuple(j for j in axes if j != i)).astype(m.dtype)
                for i, m in enumerate(mu)
            ]
        return new_nu.astype(g.dtype), new_mu, new_nu.astype(nu.dtype)

    def update(
        updates: Updates,
        state: ScaleBySM3State,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleBySM3State]:
        validate.updates(fn, updates, params, state.nu, name="scale_by_sm3 state.nu")
        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(b1, b2), outputs=3
        )
        return out, ScaleBySM3State(mu=mu, nu=nu)

    return GradientTransformation(init, update)
