"""Per-coordinate adaptive scaling: Adam and RMSProp (plain and centered).

The update rules are written once, on the optimizers in
:mod:`gradtx.optimizers`; the building blocks here point to them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import (
    abs_sq,
    full_like,
    safe_increment,
    up,
    zero_count,
    zeros_like,
)
from gradtx.core import GradientTransformation, Params, Updates

__all__ = [
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByStddevState",
    "scale_by_adam",
    "scale_by_rms",
    "scale_by_stddev",
]


_DECAY: dict[str, Any] = {"low": 0.0, "high": 1.0, "high_open": True}
_EPS_ZERO = (
    "eps must be in (0, inf){alt}, got eps={eps!r}: with eps = 0 a coordinate "
    "whose gradients have all been 0 divides 0 by 0, and its update is NaN. Use "
    "a small eps such as 1e-8{fix}."
)
_NU_DTYPE_WHY = "(it holds |g|^2, a real number)"


def _check_rms_args(
    fn: str,
    decay: Any,
    eps: Any,
    initial_scale: Any,
    eps_in_sqrt: Any,
    bias_correction: Any,
    nu_dtype: Any,
) -> None:
    """Checks the arguments scale_by_rms and scale_by_stddev share.

    ``eps`` must be > 0: the running mean of squares of a coordinate that only
    ever gets zero gradients decays to 0 (also from ``initial_scale > 0``, by
    underflow), and the centered form's variance estimate is 0 for constant
    gradients, so without ``eps`` the update divides by 0.
    """
    validate.number(fn, "decay", decay, **_DECAY)
    validate.number(fn, "eps", eps, low=0.0)
    if validate.concrete_float(eps) == 0.0:
        raise validate.error(ValueError, fn, _EPS_ZERO.format(alt="", eps=eps, fix=""))
    validate.number(fn, "initial_scale", initial_scale, low=0.0)
    validate.boolean(fn, "eps_in_sqrt", eps_in_sqrt)
    validate.boolean(fn, "bias_correction", bias_correction)
    validate.dtype(
        fn, "nu_dtype", nu_dtype, kind="real", optional=True, why=_NU_DTYPE_WHY
    )


def _first_moment_zeros(params: Params, mu_dtype: Any) -> Any:
    """Zeros like ``params`` in ``mu_dtype``, made complex for complex params.

    A real ``mu_dtype`` would drop the imaginary part of a complex moment.
    """
    if mu_dtype is None:
        return zeros_like(params)

    def leaf(p: Any) -> jax.Array:
        dtype = jnp.dtype(mu_dtype)
        if jnp.iscomplexobj(p):
            dtype = jnp.promote_types(dtype, jnp.complex64)
        return zeros_like(p, dtype)

    return jax.tree.map(leaf, params)


def _moment2(g: jax.Array, nu: jax.Array, decay: Any) -> jax.Array:
    """EMA of :math:`|g|^2` in at least float32, in optax's order of operations."""
    return (1 - decay) * abs_sq(up(g)) + decay * up(nu)


def _moment1(g: jax.Array, mu: jax.Array, decay: Any) -> jax.Array:
    """EMA of :math:`g` in at least float32."""
    return (1 - decay) * up(g) + decay * up(mu)


class ScaleByAdamState(NamedTuple):
    """State of :func:`scale_by_adam`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (dtype: mu_dtype or the param's), first moment
    nu: Any  # like params (dtype: nu_dtype or the param's real one), 2nd moment


def scale_by_adam(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""Scales updates by Adam's bias-corrected moment ratio (no learning rate).

    Produces :math:`\hat m_t / (\sqrt{\hat v_t + \epsilon_{root}} + \epsilon)`;
    see :func:`gradtx.adam` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon > 0`, added outside the square root (the paper's);
        0 only with ``eps_root > 0`` (else a zero gradient gives 0/0).
      eps_root: :math:`\epsilon_{root} \ge 0`, added inside the root (keeps
        meta-gradients through the update finite).
      mu_dtype: dtype of the first moment (e.g. ``jnp.bfloat16`` to save
        memory), made complex for complex params (``jnp.float32`` gives
        complex64); default: each param's dtype.
      nesterov: use Dozat's Nesterov-accelerated form (NAdam).
      nu_dtype: dtype of the second moment, a real floating dtype; default:
        each param's real dtype. Only storage changes: the moments are always
        updated in float32 or wider. With bfloat16 params, ``jnp.float32``
        keeps small increments :math:`(1-\beta_2)(g^2 - v)` that bfloat16
        would round away (with :math:`\beta_2 = 0.999`, :math:`v` then stops
        following :math:`g^2`).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` or ``nu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adam()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_adam")
    validate.number(fn, "b1", b1, **_DECAY)
    validate.number(fn, "b2", b2, **_DECAY)
    # Adam divides by sqrt(v + eps_root) + eps: one of them must be > 0.
    validate.number(fn, "eps", eps, low=0.0)
    validate.number(fn, "eps_root", eps_root, low=0.0)
    if validate.concrete_float(eps) == 0.0 == validate.concrete_float(eps_root):
        alt, fix = " (or [0, inf) with eps_root > 0)", ", or eps_root > 0"
        raise validate.error(
            ValueError, fn, _EPS_ZERO.format(alt=alt, eps=eps, fix=fix)
        )
    validate.boolean(fn, "nesterov", nesterov)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    validate.dtype(
        fn, "nu_dtype", nu_dtype, kind="real", optional=True, why=_NU_DTYPE_WHY
    )
    # The updates are checked against a moment that has their dtype: nu (its
    # real dtype) by default, else mu; with both dtypes set, shapes only.
    checked, how = ("nu", "real") if nu_dtype is None else ("mu", "exact")
    if nu_dtype is not None and mu_dtype is not None:
        checked, how = "nu", "ignore"

    def init(params: Params) -> ScaleByAdamState:
        validate.params(fn, params)
        return ScaleByAdamState(
            count=zero_count(),
            mu=_first_moment_zeros(params, mu_dtype),
            nu=zeros_like(params, nu_dtype, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAdamState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdamState]:
        validate.updates(
            fn,
            updates,
            params,
            getattr(state, checked),
            name=f"scale_by_adam state.{checked}",
            dtypes=how,
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)
        bc2 = numerics.bias_correction(b2, count)
        bc1_next = (
            numerics.bias_correction(b1, safe_increment(count)) if nesterov else None
        )

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            bc1: jax.Array,
            bc2: jax.Array,
            bc1_next: jax.Array | None,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = _moment1(g, m_old, b1)
            v = _moment2(g, v_old, b2)
            if bc1_next is None:
                m_hat = m / bc1.astype(m.dtype)
            else:  # Dozat 2016: b1 * m_t / (1 - b1^{t+1}) + (1 - b1) g / (1 - b1^t)
                m_hat = b1 * (m / bc1_next.astype(m.dtype)) + (1 - b1) * (
                    up(g) / bc1.astype(m.dtype)
                )
            v_hat = v / bc2.astype(v.dtype)
            out = (m_hat / (jnp.sqrt(v_hat + eps_root) + eps)).astype(g.dtype)
            return out, m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc1, bc2, bc1_next), outputs=3
        )
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """State of :func:`scale_by_rms`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    nu: Any  # like params (dtype: nu_dtype or the param's real one), EMA of |g|^2


def _rms_scale(
    g: jax.Array, denom_sq: jax.Array, eps: Any, eps_in_sqrt: bool
) -> jax.Array:
    """``g / sqrt(denom_sq + eps)`` or ``g / (sqrt(denom_sq) + eps)``, in float32+."""
    if eps_in_sqrt:
        return (up(g) * jax.lax.rsqrt(up(denom_sq) + eps)).astype(g.dtype)
    return (up(g) / (jnp.sqrt(up(denom_sq)) + eps)).astype(g.dtype)


def scale_by_rms(
    decay: Any = 0.9,
    eps: Any = 1e-8,
    initial_scale: Any = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""Divides updates by the root of an EMA of their squares (RMSProp).

    Produces :math:`u / \sqrt{v_t + \epsilon}` (or :math:`u / (\sqrt{v_t} +
    \epsilon)` with ``eps_in_sqrt=False``); see :func:`gradtx.rmsprop`.

    Args:
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon > 0`.
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: add :math:`\epsilon` inside the root (Graves 2013, the
        default) or outside (PyTorch).
      bias_correction: divide :math:`v_t` by :math:`1-\rho^t`, as Adam does.
      nu_dtype: dtype of :math:`v`, a real floating dtype (default: each
        param's real dtype); the math is in float32 or wider either way.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByRmsState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``nu_dtype`` is not a real floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_rms(decay=0.75, eps=1e-12)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # 2 / sqrt(0.25 * 4)
      Array([2.], dtype=float32)
    """
    fn = validate.who("scale_by_rms")
    _check_rms_args(
        fn, decay, eps, initial_scale, eps_in_sqrt, bias_correction, nu_dtype
    )
    debias = bias_correction
    how = "real" if nu_dtype is None else "ignore"  # nu's dtype vs the updates'

    def init(params: Params) -> ScaleByRmsState:
        validate.params(fn, params)
        return ScaleByRmsState(
            count=zero_count(),
            nu=full_like(params, initial_scale, nu_dtype, real=True),
        )

    def update(
        updates: Updates, state: ScaleByRmsState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ScaleByRmsState]:
        validate.updates(
            fn, updates, params, state.nu, name="scale_by_rms state.nu", dtypes=how
        )
        count = safe_increment(state.count)
        bc = numerics.bias_correction(decay, count) if debias else None

        def leaf(
            g: jax.Array, old: jax.Array, bc: jax.Array | None
        ) -> tuple[jax.Array, jax.Array]:
            v = _moment2(g, old, decay)
            v_hat = v if bc is None else v / bc.astype(v.dtype)
            return _rms_scale(g, v_hat, eps, eps_in_sqrt), v.astype(old.dtype)

        out, nu = numerics.leafwise(leaf, updates, state.nu, scalars=(bc,), outputs=2)
        return out, ScaleByRmsState(count=count, nu=nu)

    return GradientTransformation(init, update)


class ScaleByStddevState(NamedTuple):
    """State of :func:`scale_by_stddev`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (the param's dtype), EMA of g
    nu: Any  # like params (dtype: nu_dtype or the param's real one), EMA of |g|^2


def scale_by_stddev(
    decay: Any = 0.9,
    eps: Any = 1e-8,
    initial_scale: Any = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
    *,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""Divides updates by a running standard deviation (centered RMSProp).

    Produces :math:`u / \sqrt{v_t - |m_t|^2 + \epsilon}`, with :math:`m_t` the
    EMA of the updates and :math:`v_t` that of their squares (Graves 2013, eq.
    38-40); see :func:`gradtx.rmsprop` with ``centered=True``.

    Args:
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon > 0`.
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: add :math:`\epsilon` inside the root (Graves, the default)
        or outside (PyTorch).
      bias_correction: divide both EMAs by :math:`1-\rho^t`. Note that the
        first step's debiased variance is then exactly 0, so that step is
        :math:`u/\sqrt{\epsilon}` (or :math:`u/\epsilon`): pair it with a
        warmup or a larger ``eps``.
      nu_dtype: dtype of :math:`v`, as in :func:`scale_by_rms`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByStddevState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``nu_dtype`` is not a real floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_stddev(decay=0.5, eps=1e-12)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # 2 / sqrt(2 - 1)
      Array([2.], dtype=float32)
    """
    fn = validate.who("scale_by_stddev")
    _check_rms_args(
        fn, decay, eps, initial_scale, eps_in_sqrt, bias_correction, nu_dtype
    )
    debias = bias_correction

    def init(params: Params) -> ScaleByStddevState:
        validate.params(fn, params)
        return ScaleByStddevState(
            count=zero_count(),
            mu=zeros_like(params),
            nu=full_like(params, initial_scale, nu_dtype, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByStddevState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByStddevState]:
        validate.updates(fn, updates, params, state.mu, name="scale_by_stddev state.mu")
        count = safe_increment(state.count)
        bc = numerics.bias_correction(decay, count) if debias else None

        def leaf(
            g: jax.Array, m_old: jax.Array, v_old: jax.Array, bc: jax.Array | None
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = m_hat = _moment1(g, m_old, decay)
            v = v_hat = _moment2(g, v_old, decay)
            if bc is not None:
                m_hat, v_hat = m / bc.astype(m.dtype), v / bc.astype(v.dtype)
            # The variance estimate is >= 0 in exact arithmetic; rounding can
            # make it slightly negative (and with bias correction the first
            # step's estimate is exactly 0), so clamp it: no NaN from sqrt.
            var = jnp.maximum(v_hat - abs_sq(m_hat), 0)
            out = _rms_scale(g, var, eps, eps_in_sqrt)
            return out, m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc,), outputs=3
        )
        return out, ScaleByStddevState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)
