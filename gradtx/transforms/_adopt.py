"""ADOPT's building block (``scale_by_adopt``): the gradient is normalized by
the *previous* second moment before it enters the momentum. The update rule is
written once, on :func:`gradtx.adopt`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._adam import ScaleByAdamState, _first_moment_zeros
from gradtx.transforms._moments import DECAY, ema_of_squares
from gradtx.transforms._variant_checks import check_eps, refuse_complex

__all__ = ["scale_by_adopt"]

_NO_COMPLEX = (
    "ADOPT clips the normalized gradient elementwise, which is not defined for "
    "complex numbers (use_clipping=False is)."
)


def _quarter_power(count: jax.Array) -> jax.Array:
    r"""The paper's clipping value :math:`c_t = t^{1/4}` (optax's default)."""
    return count**0.25


def scale_by_adopt(
    b1: Any = 0.9,
    b2: Any = 0.9999,
    eps: Any = 1e-6,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], Any] | None = None,
) -> GradientTransformation:
    r"""Scales updates by ADOPT's momentum of normalized gradients (no learning
    rate).

    Produces :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1)\,
    \mathrm{clip}(g_t / \max(\sqrt{v_{t-1}}, \epsilon), c_t)`, where
    :math:`v_{t-1}` does not contain :math:`g_t`; the first call only sets
    :math:`v_0 = |g_0|^2` and returns zeros. See :func:`gradtx.adopt`.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the momentum.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon > 0`, the floor of :math:`\sqrt{v}`.
      mu_dtype: dtype of the momentum (default: each param's).
      nesterov: step along :math:`\beta_1 m_t + (1-\beta_1)\,
        \mathrm{clip}(\cdot)` instead of :math:`m_t`.
      use_clipping: clip the normalized gradient to :math:`[-c_t, c_t]`.
      clip_value_fn: :math:`c_t` as a function of the step count :math:`t`
        (0 at the first call); ``None``: :math:`t^{1/4}` (optax's default).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState` (``nu`` holds :math:`v`).

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``clip_value_fn`` is not callable, ``mu_dtype`` is not a
        floating dtype, or (with clipping) a param is complex.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adopt()
      >>> state = tx.init(jnp.zeros(2))
      >>> u, state = tx.update(jnp.array([0.5, -2.0]), state)  # sets v_0
      >>> u, state = tx.update(jnp.array([1.0, -2.0]), state)
      >>> u  # 0.1 * clip(g_1 / |g_0|, 1)
      Array([ 0.1, -0.1], dtype=float32)
    """
    fn = validate.who("scale_by_adopt")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    validate.boolean(fn, "nesterov", nesterov)
    validate.boolean(fn, "use_clipping", use_clipping)
    if clip_value_fn is None:
        clip_value_fn = _quarter_power
    if not callable(clip_value_fn):
        raise validate.error(
            TypeError,
            fn,
            "clip_value_fn must be a function of the step count, e.g. "
            f"lambda t: t ** 0.25, got {clip_value_fn!r}.",
        )

    def init(params: Params) -> ScaleByAdamState:
        validate.params(fn, params)
        if use_clipping:
            refuse_complex(fn, params, _NO_COMPLEX)
        return ScaleByAdamState(
            count=zero_count(),
            mu=_first_moment_zeros(params, mu_dtype),
            nu=zeros_like(params, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAdamState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdamState]:
        validate.updates(
            fn, updates, params, state.nu, name="scale_by_adopt state.nu", dtypes="real"
        )
        started = state.count > 0  # the first call only sets v_0 = |g_0|^2
        clip = (
            validate.scheduled_value(
                fn, "clip_value_fn", clip_value_fn, state.count, low=0.0
            )
            if use_clipping
            else None
        )

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            started: jax.Array,
            clip: jax.Array | None,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            wide, v_prev = up(g), up(v_old)
            # A weakly typed decay: 1 - b2 is computed in the default float
            # precision before it meets the float32 moments (as in optax).
            b2_now = jnp.where(started, b2, 0.0)
            v = ema_of_squares(g, v_prev, b2_now)
            floor = jnp.maximum(jnp.sqrt(v_prev), eps)
            scaled = wide / floor.astype(wide.dtype)
            if clip is not None:
                c = clip.astype(v_prev.dtype)
                scaled = jnp.clip(scaled, -c, c)
            # Before the first real step the momentum stays 0 (and the scaled
            # gradient, g / eps, is never used: a huge g would give 0 * inf).
            scaled = jnp.where(started, scaled, jnp.zeros_like(scaled))
            m_prev = up(m_old)
            m = (1 - b1) * scaled + b1 * m_prev
            m = jnp.where(started, m, m_prev)
            out = (1 - b1) * scaled + b1 * m if nesterov else m
            return out.astype(g.dtype), m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(started, clip), outputs=3
        )
        return out, ScaleByAdamState(count=safe_increment(state.count), mu=mu, nu=nu)

    return GradientTransformation(init, update)
