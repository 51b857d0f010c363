"""AdEMAMix's building block (``scale_by_ademamix``): Adam's fast momentum
mixed with a slow one. The update rule is written once, on
:func:`gradtx.ademamix`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms._adam import _first_moment_zeros
from gradtx.transforms._moments import DECAY, ema_of_squares, ema_of_updates
from gradtx.transforms._variant_checks import check_eps

__all__ = ["ScaleByAdemamixState", "scale_by_ademamix"]


class ScaleByAdemamixState(NamedTuple):
    """State of :func:`scale_by_ademamix` (optax's field names)."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    count_m2: jax.Array  # int32[], steps of the slow EMA (b3's and alpha's step)
    m1: Any  # like params (dtype: mu_dtype or the param's), fast EMA of g
    m2: Any  # like m1, slow EMA of g
    nu: Any  # like params (the param's real dtype), EMA of |g|^2


def scale_by_ademamix(
    b1: Any = 0.9,
    b2: Any = 0.999,
    b3: ScalarOrSchedule = 0.9999,
    alpha: ScalarOrSchedule = 6.0,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
) -> GradientTransformation:
    r"""Scales updates by AdEMAMix's mixture (no learning rate).

    Produces :math:`(\hat m_{1,t} + \alpha_t m_{2,t}) / (\sqrt{\hat\nu_t +
    \epsilon_{root}} + \epsilon)`, with :math:`m_2` the slow EMA of decay
    :math:`\beta_{3,t}` (not bias-corrected); see :func:`gradtx.ademamix`.
    ``b3`` and ``alpha`` may be schedules of the step count (0 at the first
    step), as in optax.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the fast EMA.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      b3: :math:`\beta_3 \in [0, 1)`, decay of the slow EMA, or a schedule.
      alpha: :math:`\alpha \ge 0`, the slow EMA's weight, or a schedule
        (optax's default here is 6, and 5 in ``ademamix``: both kept).
      eps: :math:`\epsilon > 0`, outside the root; 0 only with ``eps_root >
        0``.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      mu_dtype: dtype of both EMAs of :math:`g` (default: each param's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdemamixState`.

    Raises:
      ValueError: a hyperparameter (or a schedule's value) is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_ademamix(b3=0.5, alpha=2.0)
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # (1 + alpha (1 - b3)) sign(g), up to eps
      Array([ 2., -2.], dtype=float32)
    """
    fn = validate.who("scale_by_ademamix")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    validate.number(fn, "b3", b3, allow_schedule=True, **DECAY)
    validate.number(fn, "alpha", alpha, low=0.0, allow_schedule=True)
    check_eps(fn, eps, eps_root)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)

    def init(params: Params) -> ScaleByAdemamixState:
        validate.params(fn, params)
        return ScaleByAdemamixState(
            count=zero_count(),
            count_m2=zero_count(),
            m1=_first_moment_zeros(params, mu_dtype),
            m2=_first_moment_zeros(params, mu_dtype),
            nu=zeros_like(params, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAdemamixState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdemamixState]:
        validate.updates(
            fn,
            updates,
            params,
            state.nu,
            name="scale_by_ademamix state.nu",
            dtypes="real",
        )
        b3_now = (
            validate.scheduled_value(fn, "b3", b3, state.count_m2, **DECAY)
            if callable(b3)
            else b3
        )
        alpha_now = (
            validate.scheduled_value(fn, "alpha", alpha, state.count_m2, low=0.0)
            if callable(alpha)
            else alpha
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)
        bc2 = numerics.bias_correction(b2, count)

        def leaf(
            g: jax.Array,
            m1_old: jax.Array,
            m2_old: jax.Array,
            v_old: jax.Array,
            b3: Any,
            alpha: Any,
            bc1: jax.Array,
            bc2: jax.Array,
        ) -> tuple[jax.Array, ...]:
            m1 = ema_of_updates(g, m1_old, b1)
            real = jnp.real(m1).dtype
            m2 = ema_of_updates(g, m2_old, b3)  # a Python b3 stays exact
            v = ema_of_squares(g, v_old, b2)
            numer = m1 / bc1.astype(m1.dtype) + jnp.asarray(alpha, real) * m2
            denom = jnp.sqrt(v / bc2.astype(v.dtype) + eps_root) + eps
            return (
                (numer / denom).astype(g.dtype),
                m1.astype(m1_old.dtype),
                m2.astype(m2_old.dtype),
                v.astype(v_old.dtype),
            )

        out, m1, m2, nu = numerics.leafwise(
            leaf,
            updates,
            state.m1,
            state.m2,
            state.nu,
            scalars=(b3_now, alpha_now, bc1, bc2),
            outputs=4,
        )
        new = ScaleByAdemamixState(
            count=count,
            count_m2=safe_increment(state.count_m2),
            m1=m1,
            m2=m2,
            nu=nu,
        )
        return out, new

    return GradientTransformation(init, update)
