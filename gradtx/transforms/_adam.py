"""Adam's building block: scaling by the bias-corrected moment ratio.

The update rule is written once, on :func:`gradtx.adam`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._moments import (
    DECAY,
    EPS_ZERO,
    NU_DTYPE_WHY,
    ema_of_squares,
    ema_of_updates,
)

__all__ = ["ScaleByAdamState", "scale_by_adam"]


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
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    # Adam divides by sqrt(v + eps_root) + eps: one of them must be > 0.
    validate.number(fn, "eps", eps, low=0.0)
    validate.number(fn, "eps_root", eps_root, low=0.0)
    if validate.concrete_float(eps) == 0.0 == validate.concrete_float(eps_root):
        alt, fix = " (or [0, inf) with eps_root > 0)", ", or eps_root > 0"
        raise validate.error(ValueError, fn, EPS_ZERO.format(alt=alt, eps=eps, fix=fix))
    validate.boolean(fn, "nesterov", nesterov)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    validate.dtype(
        fn, "nu_dtype", nu_dtype, kind="real", optional=True, why=NU_DTYPE_WHY
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
        bc1_next = numerics.nesterov_bias_correction(b1, count, nesterov)

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            bc1: jax.Array,
            bc2: jax.Array,
            bc1_next: jax.Array | None,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            v = ema_of_squares(g, v_old, b2)
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
