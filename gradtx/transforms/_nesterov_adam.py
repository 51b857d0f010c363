"""Nesterov-accelerated adaptive blocks: NAdam with Dozat's momentum schedule
(``scale_by_nadam``) and Adan (``scale_by_adan``).

The update rules are written once, on :func:`gradtx.nadam` and
:func:`gradtx.adan`. NAdam with a constant momentum (optax's ``nadam``) is
``scale_by_adam(nesterov=True)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._adam import _first_moment_zeros
from gradtx.transforms._moments import DECAY, ema_of_squares, ema_of_updates
from gradtx.transforms._variant_checks import check_eps

__all__ = ["ScaleByAdanState", "ScaleByNadamState", "scale_by_adan", "scale_by_nadam"]


class ScaleByNadamState(NamedTuple):
    """State of :func:`scale_by_nadam`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu_product: jax.Array  # float[] (default float dtype), prod of mu_1..mu_t
    mu: Any  # like params (dtype: mu_dtype or the param's), first moment
    nu: Any  # like params (the param's real dtype), second moment


def _momentum(b1: Any, momentum_decay: Any, step: jax.Array) -> jax.Array:
    r""":math:`\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi})` in the default float."""
    dtype = jnp.result_type(float)
    t = step.astype(dtype)
    return jnp.asarray(b1, dtype) * (
        1 - 0.5 * jnp.asarray(0.96, dtype) ** (t * momentum_decay)
    )


def scale_by_nadam(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    momentum_decay: Any = 4e-3,
) -> GradientTransformation:
    r"""Scales updates by NAdam's ratio with Dozat's warming momentum schedule.

    Produces :math:`\hat m_t / (\sqrt{\hat v_t + \epsilon_{root}} +
    \epsilon)` with :math:`\hat m_t = \mu_{t+1} m_t / (1 - \prod_{i \le t+1}
    \mu_i) + (1-\mu_t) g_t / (1 - \prod_{i \le t} \mu_i)` and
    :math:`\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi})`; see
    :func:`gradtx.nadam`. The running product :math:`\prod \mu_i` is kept in
    the state (as PyTorch does), in the default float dtype.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment and the
        momentum's limit.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon > 0`, outside the root; 0 only with ``eps_root >
        0``.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      mu_dtype: dtype of the first moment (default: each param's).
      momentum_decay: :math:`\psi \ge 0` (Dozat's 0.004, PyTorch's
        ``momentum_decay``).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByNadamState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_nadam()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_nadam")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps, eps_root)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    validate.number(fn, "momentum_decay", momentum_decay, low=0.0)

    def init(params: Params) -> ScaleByNadamState:
        validate.params(fn, params)
        return ScaleByNadamState(
            count=zero_count(),
            mu_product=jnp.ones([], jnp.result_type(float)),
            mu=_first_moment_zeros(params, mu_dtype),
            nu=zeros_like(params, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByNadamState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByNadamState]:
        validate.updates(
            fn, updates, params, state.nu, name="scale_by_nadam state.nu", dtypes="real"
        )
        count = safe_increment(state.count)
        mu_t = _momentum(b1, momentum_decay, count)
        mu_next = _momentum(b1, momentum_decay, count + 1)
        product = state.mu_product.astype(mu_t.dtype) * mu_t
        c_m = mu_next / (1 - product * mu_next)  # the weight of m_t
        c_g = (1 - mu_t) / (1 - product)  # the weight of g_t
        bc2 = numerics.bias_correction(b2, count)

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            c_m: jax.Array,
            c_g: jax.Array,
            bc2: jax.Array,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            v = ema_of_squares(g, v_old, b2)
            m_hat = c_m.astype(m.dtype) * m + c_g.astype(m.dtype) * up(g)
            v_hat = v / bc2.astype(v.dtype)
            out = (m_hat / (jnp.sqrt(v_hat + eps_root) + eps)).astype(g.dtype)
            return out, m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(c_m, c_g, bc2), outputs=3
        )
        new = ScaleByNadamState(
            count=count,
            mu_product=product.astype(state.mu_product.dtype),
            mu=mu,
            nu=nu,
        )
        return out, new

    return GradientTransformation(init, update)


class ScaleByAdanState(NamedTuple):
    """State of :func:`scale_by_adan` (optax's field names)."""

    m: Any  # like params, EMA of the gradients
    v: Any  # like params, EMA of the gradient differences
    n: Any  # like params (the param's real dtype), EMA of |g + w diff|^2
    g: Any  # like params, the previous gradient
    t: jax.Array  # int32[], steps so far (saturating)


def scale_by_adan(
    b1: Any = 0.98,
    b2: Any = 0.92,
    b3: Any = 0.99,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    *,
    diff_weight: Any = None,
) -> GradientTransformation:
    r"""Scales updates by Adan's ratio (no learning rate).

    Produces :math:`(\hat m_t + \omega \hat v_t) / (\sqrt{\hat n_t +
    \epsilon_{root}} + \epsilon)` with :math:`\omega` = ``diff_weight``
    (default :math:`\beta_2`); see :func:`gradtx.adan` for the full rule.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the gradients' EMA (the
        paper's :math:`1-\beta_1`).
      b2: :math:`\beta_2 \in [0, 1)`, decay of the gradient differences' EMA.
      b3: :math:`\beta_3 \in [0, 1)`, decay of the squared term's EMA.
      eps: :math:`\epsilon > 0`, outside the root; 0 only with ``eps_root >
        0``.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      diff_weight: :math:`\omega \ge 0`, the weight of the gradient difference;
        ``None`` is ``b2`` (the paper's :math:`1-\beta_2`). optax's
        ``scale_by_adan`` uses :math:`1-\beta_2`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdanState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adan()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_adan")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    validate.number(fn, "b3", b3, **DECAY)
    check_eps(fn, eps, eps_root)
    if diff_weight is not None:
        validate.number(fn, "diff_weight", diff_weight, low=0.0)
    weight = b2 if diff_weight is None else diff_weight

    def init(params: Params) -> ScaleByAdanState:
        validate.params(fn, params)
        return ScaleByAdanState(
            m=zeros_like(params),
            v=zeros_like(params),
            n=zeros_like(params, real=True),
            g=zeros_like(params),
            t=zero_count(),
        )

    def update(
        updates: Updates,
        state: ScaleByAdanState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdanState]:
        validate.updates(fn, updates, params, state.g, name="scale_by_adan state.g")
        first = state.t == 0  # no previous gradient: the difference is 0
        t = safe_increment(state.t)
        bc1 = numerics.bias_correction(b1, t)
        bc2 = numerics.bias_correction(b2, t)
        bc3 = numerics.bias_correction(b3, t)

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            n_old: jax.Array,
            g_old: jax.Array,
            first: jax.Array,
            weight: Any,
            bc1: jax.Array,
            bc2: jax.Array,
            bc3: jax.Array,
        ) -> tuple[jax.Array, ...]:
            wide = up(g)
            diff = jnp.where(first, jnp.zeros_like(wide), wide - up(g_old))
            m = ema_of_updates(g, m_old, b1)
            v = ema_of_updates(diff, v_old, b2)
            w = jnp.asarray(weight, jnp.real(wide).dtype)
            n = ema_of_squares(wide + w * diff, n_old, b3)
            numer = m / bc1.astype(m.dtype) + w * (v / bc2.astype(v.dtype))
            denom = jnp.sqrt(n / bc3.astype(n.dtype) + eps_root) + eps
            out = (numer / denom).astype(g.dtype)
            return (
                out,
                m.astype(m_old.dtype),
                v.astype(v_old.dtype),
                n.astype(n_old.dtype),
                g.astype(g_old.dtype),
            )

        out, m, v, n, g = numerics.leafwise(
            leaf,
            updates,
            state.m,
            state.v,
            state.n,
            state.g,
            scalars=(first, weight, bc1, bc2, bc3),
            outputs=5,
        )
        return out, ScaleByAdanState(m=m, v=v, n=n, g=g, t=t)

    return GradientTransformation(init, update)
