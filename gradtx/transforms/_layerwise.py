"""Layer-wise scaling: each leaf (a "layer" or "block") scaled by norms of its
own: the trust ratio of LARS, LAMB and Fromage (``scale_by_trust_ratio``), the
param block norm and RMS (``scale_by_param_block_norm``,
``scale_by_param_block_rms``) and NovoGrad's layer-wise second moment
(``scale_by_novograd``).

The update rules are written once, on :func:`gradtx.lars`,
:func:`gradtx.lamb`, :func:`gradtx.fromage` and :func:`gradtx.novograd`.
Norms are of whole leaves, accumulated in float32 or wider, and their
gradients stay finite at zero (the norm of a zero leaf is never
differentiated through ``sqrt`` at 0).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import (
    abs_sq,
    real_dtype,
    safe_increment,
    up,
    zero_count,
)
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    init_empty_state,
)
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms._adam import _first_moment_zeros
from gradtx.transforms._moments import DECAY, EPS_ZERO

__all__ = [
    "ScaleByNovogradState",
    "ScaleByTrustRatioState",
    "scale_by_novograd",
    "scale_by_param_block_norm",
    "scale_by_param_block_rms",
    "scale_by_trust_ratio",
]


def _needs_params(fn: str) -> str:
    return (
        f"{fn} scales each leaf by norms of its params; pass them to update: "
        "tx.update(grads, state, params)."
    )


def _safe_root(sum_sq: jax.Array, x: jax.Array, floor: Any, mean: bool) -> jax.Array:
    """``max(sqrt(sum_sq), floor)`` (or of the mean square), finite gradients.

    ``sum_sq`` is ``sum |x|^2`` in float32+; where the root is at most
    ``floor`` its gradient would be NaN at 0, so the root is taken of a
    substitute there (optax's ``safe_norm``).
    """
    n = max(x.size, 1) if mean else 1
    small = sum_sq <= n * floor * floor
    safe = jnp.where(small, jnp.ones_like(sum_sq), sum_sq)
    return jnp.where(small, jnp.asarray(floor, sum_sq.dtype), jnp.sqrt(safe / n))


_DECAY_NEEDS_PARAMS = (
    "{fn} adds a weight decay to each leaf; pass the params to update: "
    "tx.update(grads, state, params)."
)


def _sum_sq(x: jax.Array) -> jax.Array:
    return jnp.sum(abs_sq(up(x)))


class ScaleByTrustRatioState(NamedTuple):
    """State of :func:`scale_by_trust_ratio` with a scheduled ``weight_decay``."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)


def scale_by_trust_ratio(
    min_norm: Any = 0.0,
    trust_coefficient: Any = 1.0,
    eps: Any = 0.0,
    *,
    weight_decay: ScalarOrSchedule = 0.0,
) -> GradientTransformation:
    r"""Scales each leaf by its trust ratio (LARS, LAMB, Fromage).

    For each leaf with params :math:`\theta` and updates :math:`u`:

    .. math::
       u \leftarrow c\, \frac{\lVert\theta\rVert}{\lVert u\rVert + \epsilon}\, u

    with both norms floored at ``min_norm``, and the ratio 1 where either norm
    is 0 (a zero-initialized leaf still moves), as ``optax.scale_by_trust_ratio``.
    See :func:`gradtx.lamb` and :func:`gradtx.lars` for the rules in context.

    With ``weight_decay`` :math:`\lambda > 0` the block adds the decay itself,
    in the form of LARS's paper (You et al. 2017, eq. 6 and Algorithm 1):

    .. math::
       u \leftarrow c\, \frac{\lVert\theta\rVert}{\lVert u\rVert +
       \lambda\lVert\theta\rVert + \epsilon}\, (u + \lambda\theta),

    where ``chain(add_decayed_weights(λ), scale_by_trust_ratio())`` divides by
    :math:`\lVert u + \lambda\theta\rVert` instead.

    Args:
      min_norm: :math:`\ge 0`, the floor of both norms.
      trust_coefficient: :math:`c`, a finite number (LARS's :math:`\eta`).
      eps: :math:`\epsilon \ge 0`, added to the denominator.
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule: the LARS
        paper's decay inside the ratio (0: none, optax's block).

    Returns:
      A :class:`~gradtx.GradientTransformation` (needs ``params``), stateless
      unless ``weight_decay`` is a schedule (:class:`ScaleByTrustRatioState`).

    Raises:
      ValueError: a hyperparameter is out of range; at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_trust_ratio()
      >>> params = jnp.array([3.0, 4.0])  # norm 5
      >>> tx.update(jnp.array([0.0, 0.5]), tx.init(params), params)[0]  # norm 0.5
      Array([0., 5.], dtype=float32)

    References:
      You, Gitman & Ginsburg, *Large Batch Training of Convolutional Networks*,
      2017, https://arxiv.org/abs/1708.03888
    """
    fn = validate.who("scale_by_trust_ratio")
    validate.number(fn, "min_norm", min_norm, low=0.0)
    validate.number(fn, "trust_coefficient", trust_coefficient)
    validate.number(fn, "eps", eps, low=0.0)
    validate.number(fn, "weight_decay", weight_decay, low=0.0, allow_schedule=True)
    scheduled = callable(weight_decay)
    decays = scheduled or validate.concrete_float(weight_decay) != 0.0

    def leaf(u: jax.Array, p: jax.Array, wd: Any) -> jax.Array:
        pn = _safe_root(_sum_sq(p), p, min_norm, mean=False)
        un = _safe_root(_sum_sq(u), u, min_norm, mean=False)
        direction = up(u)
        if decays:
            wd = jnp.asarray(wd, pn.dtype)
            denominator = un + wd * pn
            direction = direction + wd.astype(direction.dtype) * up(p)
        else:
            denominator = un
        unit = (pn == 0) | (denominator == 0)
        ratio = trust_coefficient * pn / jnp.where(unit, 1, denominator + eps)
        ratio = jnp.where(unit, jnp.ones_like(ratio), ratio)
        return (direction * ratio.astype(real_dtype(direction.dtype))).astype(u.dtype)

    def init(params: Params) -> ScaleByTrustRatioState | EmptyState:
        validate.params(fn, params)
        return ScaleByTrustRatioState(count=zero_count()) if scheduled else EmptyState()

    def update(
        updates: Updates,
        state: ScaleByTrustRatioState | EmptyState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByTrustRatioState | EmptyState]:
        validate.updates(fn, updates, params, needs_params=_needs_params(fn))
        wd: Any = weight_decay
        if isinstance(state, ScaleByTrustRatioState):
            wd = validate.scheduled_value(
                fn, "weight_decay", weight_decay, state.count, low=0.0
            )
            state = ScaleByTrustRatioState(count=safe_increment(state.count))
        return numerics.leafwise(leaf, updates, params, scalars=(wd,)), state

    return GradientTransformation(init, update)


def _param_block_scale(fn: str, min_scale: Any, mean: bool) -> GradientTransformation:
    validate.number(fn, "min_scale", min_scale, low=0.0)

    def leaf(u: jax.Array, p: jax.Array) -> jax.Array:
        scale = _safe_root(_sum_sq(p), p, min_scale, mean=mean)
        return (up(u) * scale.astype(real_dtype(up(u).dtype))).astype(u.dtype)

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params, needs_params=_needs_params(fn))
        return numerics.leafwise(leaf, updates, params), state

    return GradientTransformation(init_empty_state, update)


def scale_by_param_block_norm(min_scale: Any = 1e-3) -> GradientTransformation:
    r"""Multiplies each leaf's updates by the norm of its params.

    .. math:: u \leftarrow \max(\lVert\theta\rVert_2, s)\; u

    per leaf (a "block": a weight vector or matrix), as
    ``optax.scale_by_param_block_norm``: steps proportional to the size of
    the weights they change (the relative-update form of LARS-style methods).

    Args:
      min_scale: :math:`s \ge 0`, the smallest factor (keeps zero-initialized
        leaves moving).

    Returns:
      A stateless :class:`~gradtx.GradientTransformation` (needs ``params``).

    Raises:
      ValueError: ``min_scale`` is out of range; at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_param_block_norm()
      >>> params = jnp.array([3.0, 4.0])
      >>> tx.update(jnp.array([1.0, -1.0]), tx.init(params), params)[0]
      Array([ 5., -5.], dtype=float32)
    """
    return _param_block_scale(
        validate.who("scale_by_param_block_norm"), min_scale, mean=False
    )


def scale_by_param_block_rms(min_scale: Any = 1e-3) -> GradientTransformation:
    r"""Multiplies each leaf's updates by the root mean square of its params.

    .. math:: u \leftarrow \max\!\left(\sqrt{\tfrac1n \textstyle\sum_i
       |\theta_i|^2},\ s\right) u

    per leaf (:math:`n` its size), as ``optax.scale_by_param_block_rms``
    (whose docstring says "of the gradient"; both scale by the params').

    Args:
      min_scale: :math:`s \ge 0`, the smallest factor.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation` (needs ``params``).

    Raises:
      ValueError: ``min_scale`` is out of range; at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_param_block_rms()
      >>> params = jnp.array([1.0, -1.0, 1.0, -1.0])
      >>> tx.update(jnp.full(4, 2.0), tx.init(params), params)[0]
      Array([2., 2., 2., 2.], dtype=float32)
    """
    return _param_block_scale(
        validate.who("scale_by_param_block_rms"), min_scale, mean=True
    )


class ScaleByNovogradState(NamedTuple):
    """State of :func:`scale_by_novograd`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (dtype: mu_dtype or the param's), first moment
    nu: Any  # one scalar per leaf (float32 or wider, real), EMA of ||g||^2


def scale_by_novograd(
    b1: Any = 0.9,
    b2: Any = 0.25,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    weight_decay: Any = 0.0,
    mu_dtype: Any = None,
) -> GradientTransformation:
    r"""NovoGrad's scaling: layer-wise normalized gradients with momentum.

    Per leaf, :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2)\lVert g_t\rVert^2`
    (:math:`v_1 = \lVert g_1\rVert^2`) and :math:`m_t = \beta_1 m_{t-1} +
    g_t / (\sqrt{v_t + \epsilon_{root}} + \epsilon) + \lambda\theta_{t-1}`;
    produces :math:`m_t`. See :func:`gradtx.novograd` for the rule and its
    reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0`` (a leaf whose
        gradients have all been 0 would divide 0 by 0).
      eps_root: :math:`\epsilon_{root} \ge 0`.
      weight_decay: :math:`\lambda \ge 0`, a number (needs ``params`` when
        not 0).
      mu_dtype: dtype of :math:`m` (default: each param's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByNovogradState`.

    Raises:
      ValueError: a hyperparameter is out of range; at update time, a
        weight decay without params.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_novograd(eps=0.0, eps_root=1e-30)
      >>> tx.update(jnp.array([3.0, 4.0]), tx.init(jnp.zeros(2)))[0]  # g / |g|
      Array([0.6, 0.8], dtype=float32)
    """
    fn = validate.who("scale_by_novograd")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    validate.number(fn, "eps", eps, low=0.0)
    validate.number(fn, "eps_root", eps_root, low=0.0)
    if validate.concrete_float(eps) == 0.0 == validate.concrete_float(eps_root):
        alt, fix = " (or [0, inf) with eps_root > 0)", ", or eps_root > 0"
        raise validate.error(ValueError, fn, EPS_ZERO.format(alt=alt, eps=eps, fix=fix))
    validate.number(fn, "weight_decay", weight_decay, low=0.0)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    decays = validate.concrete_float(weight_decay) != 0.0

    def init(params: Params) -> ScaleByNovogradState:
        validate.params(fn, params)
        # One scalar per leaf: kept in float32 or wider, as it costs nothing.
        nu = jax.tree.map(
            lambda p: jnp.zeros((), real_dtype(numerics.compute_dtype(p.dtype))),
            params,
        )
        return ScaleByNovogradState(
            count=zero_count(), mu=_first_moment_zeros(params, mu_dtype), nu=nu
        )

    def leaf(
        g: jax.Array, m_old: jax.Array, v_old: jax.Array, *rest: Any
    ) -> tuple[jax.Array, jax.Array, jax.Array]:
        *p, first = rest  # the params' leaf (with a weight decay), then t == 1
        sq = _sum_sq(g)
        # v_1 = ||g_1||^2, then the EMA; m_0 = 0 makes m_1 the first term.
        v = jnp.where(first, sq, b2 * up(v_old) + (1 - b2) * sq)
        scale = 1 / (jnp.sqrt(v + eps_root) + eps)
        m = b1 * up(m_old) + up(g) * scale.astype(real_dtype(up(g).dtype))
        if p:
            m = m + weight_decay * up(p[0])
        return m.astype(g.dtype), m.astype(m_old.dtype), v.astype(v_old.dtype)

    def update(
        updates: Updates,
        state: ScaleByNovogradState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByNovogradState]:
        validate.updates(
            fn,
            updates,
            params,
            state.mu,
            name="scale_by_novograd state.mu",
            dtypes="kind" if mu_dtype is not None else "exact",
            needs_params=_DECAY_NEEDS_PARAMS.format(fn=fn) if decays else "",
        )
        count = safe_increment(state.count)
        trees = (updates, state.mu, state.nu, *((params,) if decays else ()))
        out, mu, nu = numerics.leafwise(leaf, *trees, scalars=(count == 1,), outputs=3)
        return out, ScaleByNovogradState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)
