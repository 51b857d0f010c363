"""Adam with another second moment: AdaBelief (``scale_by_belief``, the EMA of
the squared prediction error :math:`(g - m)^2`) and Yogi (``scale_by_yogi``,
additive updates of :math:`v` by the sign of :math:`g^2 - v`).

The update rules are written once, on :func:`gradtx.adabelief` and
:func:`gradtx.yogi`.
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
from gradtx.transforms._adam import ScaleByAdamState
from gradtx.transforms._moments import DECAY, ema_of_updates
from gradtx.transforms._variant_checks import check_eps

__all__ = ["ScaleByBeliefState", "scale_by_belief", "scale_by_yogi"]


class ScaleByBeliefState(NamedTuple):
    """State of :func:`scale_by_belief`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params, first moment
    nu: Any  # like params (the param's real dtype), EMA of |g - m|^2 (+ eps_root)


def scale_by_belief(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-16,
    eps_root: Any = 1e-16,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""Scales updates by AdaBelief's ratio :math:`\hat m_t / (\sqrt{\hat s_t} +
    \epsilon)` (no learning rate).

    :math:`s_t` is the EMA of the squared prediction error :math:`|g_t -
    m_t|^2`, plus :math:`\epsilon_{root}` each step; see
    :func:`gradtx.adabelief` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of :math:`s`.
      eps: :math:`\epsilon \ge 0`, outside the root.
      eps_root: :math:`\epsilon_{root} \ge 0`, added to :math:`s_t` each step
        (stored); not both 0 (constant gradients have no prediction error).
      nesterov: use Dozat's Nesterov form of :math:`\hat m_t` (as in
        :func:`gradtx.adam`).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByBeliefState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_belief()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # m_1 = 0.1 g and s_1 = 0.001 (0.9 g)^2: 1 / 0.9 after correction
      Array([ 1.1111, -1.1111], dtype=float32)
    """
    fn = validate.who("scale_by_belief")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps, eps_root)
    validate.boolean(fn, "nesterov", nesterov)

    def init(params: Params) -> ScaleByBeliefState:
        validate.params(fn, params)
        return ScaleByBeliefState(
            count=zero_count(), mu=zeros_like(params), nu=zeros_like(params, real=True)
        )

    def update(
        updates: Updates,
        state: ScaleByBeliefState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByBeliefState]:
        validate.updates(
            fn,
            updates,
            params,
            state.nu,
            name="scale_by_belief state.nu",
            dtypes="real",
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)
        bc2 = numerics.bias_correction(b2, count)
        bc1_next = numerics.nesterov_bias_correction(b1, count, nesterov)

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            s_old: jax.Array,
            bc1: jax.Array,
            bc2: jax.Array,
            bc1_next: jax.Array | None,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            # eps_root joins the new term before the old moment: summed last
            # (as in optax), it makes XLA:CPU keep s in a parameter-sized
            # buffer instead of fusing it into the step.
            s = b2 * up(s_old) + ((1 - b2) * abs_sq(up(g) - m) + eps_root)
            if bc1_next is None:
                m_hat = m / bc1.astype(m.dtype)
            else:
                m_hat = b1 * (m / bc1_next.astype(m.dtype)) + (1 - b1) * (
                    up(g) / bc1.astype(m.dtype)
                )
            s_hat = s / bc2.astype(s.dtype)
            out = (m_hat / (jnp.sqrt(s_hat) + eps)).astype(g.dtype)
            return out, m.astype(m_old.dtype), s.astype(s_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc1, bc2, bc1_next), outputs=3
        )
        return out, ScaleByBeliefState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)


def scale_by_yogi(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-3,
    eps_root: Any = 0.0,
    initial_accumulator_value: Any = 1e-6,
) -> GradientTransformation:
    r"""Scales updates by Yogi's ratio (no learning rate).

    Produces :math:`\hat m_t / (\sqrt{\hat v_t + \epsilon_{root}} +
    \epsilon)` with the additive second moment :math:`v_t = v_{t-1} -
    (1-\beta_2)\, \mathrm{sign}(v_{t-1} - |g_t|^2)\, |g_t|^2`; see
    :func:`gradtx.yogi` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, the rate of :math:`v`'s additive steps.
      eps: :math:`\epsilon \ge 0`, outside the root.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      initial_accumulator_value: :math:`m_0 = v_0 \ge 0` (optax's; with a
        positive value :math:`v` stays positive, so ``eps`` may be 0).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_yogi(eps=1e-12, initial_accumulator_value=0.0)
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # v_1 = 0.001 g^2: the first step is sign(g), as Adam's
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_yogi")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    validate.number(fn, "initial_accumulator_value", initial_accumulator_value, low=0.0)
    positive = validate.concrete_float(initial_accumulator_value) != 0.0
    check_eps(fn, eps, eps_root, positive_anyway=positive)

    def init(params: Params) -> ScaleByAdamState:
        validate.params(fn, params)
        return ScaleByAdamState(
            count=zero_count(),
            mu=full_like(params, initial_accumulator_value),
            nu=full_like(params, initial_accumulator_value, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAdamState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdamState]:
        validate.updates(
            fn, updates, params, state.nu, name="scale_by_yogi state.nu", dtypes="real"
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)
        bc2 = numerics.bias_correction(b2, count)

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            bc1: jax.Array,
            bc2: jax.Array,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            g2 = abs_sq(up(g))
            v_prev = up(v_old)
            v = v_prev - (1 - b2) * jnp.sign(v_prev - g2) * g2
            m_hat = m / bc1.astype(m.dtype)
            v_hat = v / bc2.astype(v.dtype)
            out = (m_hat / (jnp.sqrt(v_hat + eps_root) + eps)).astype(g.dtype)
            return out, m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc1, bc2), outputs=3
        )
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)
