"""Sign-based scaling: signSGD and Signum (``scale_by_sign``) and Lion
(``scale_by_lion``).

The update rules are written once, on :func:`gradtx.sign_sgd`,
:func:`gradtx.signum` and :func:`gradtx.lion`; the building blocks here point
to them. For complex updates the sign is :math:`u / |u|` (``jnp.sign``'s, and
optax's), the unit step along each element, as Adam's first step.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    init_empty_state,
)
from gradtx.transforms._adam import _first_moment_zeros
from gradtx.transforms._moments import DECAY, ema_of_updates

__all__ = ["ScaleByLionState", "scale_by_lion", "scale_by_sign"]

_LION_MODES = ("hard", "smooth", "refined")


def _sign_leaf(u: jax.Array) -> jax.Array:
    return jnp.sign(up(u)).astype(u.dtype)


def scale_by_sign() -> GradientTransformation:
    r"""Replaces each element of the updates by its sign.

    Produces :math:`\mathrm{sign}(u)` (:math:`0` at :math:`0`; :math:`u/|u|`
    for complex :math:`u`); see :func:`gradtx.sign_sgd` and
    :func:`gradtx.signum`.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_sign()
      >>> tx.update(jnp.array([0.3, -2.0, 0.0]), tx.init(jnp.zeros(3)))[0]
      Array([ 1., -1.,  0.], dtype=float32)
    """
    fn = validate.who("scale_by_sign")

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params)
        return numerics.leafwise(_sign_leaf, updates), state

    return GradientTransformation(init_empty_state, update)


class ScaleByLionState(NamedTuple):
    """State of :func:`scale_by_lion`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (dtype: mu_dtype or the param's), EMA of g with b2


def scale_by_lion(
    b1: Any = 0.9,
    b2: Any = 0.99,
    mu_dtype: Any = None,
    *,
    mode: str = "hard",
    smooth_beta: Any = 1.0,
) -> GradientTransformation:
    r"""Scales updates by Lion's sign of interpolated momentum (no learning rate).

    Produces :math:`\mathrm{sign}(\beta_1 m_{t-1} + (1-\beta_1) u_t)` and then
    updates :math:`m_t = \beta_2 m_{t-1} + (1-\beta_2) u_t`; see
    :func:`gradtx.lion` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, the interpolation of the step.
      b2: :math:`\beta_2 \in [0, 1)`, the decay of the momentum :math:`m`.
      mu_dtype: dtype of :math:`m` (default: each param's), made complex for
        complex params.
      mode: the sign function, as optax's: ``"hard"`` (``sign``, Lion's),
        ``"smooth"`` (``tanh(smooth_beta * c)``; real params only) or
        ``"refined"`` (:math:`c` where :math:`|c| < 1`, else its sign).
      smooth_beta: the slope of ``"smooth"``, a finite number :math:`> 0`.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByLionState`.

    Raises:
      ValueError: a hyperparameter is out of range, or an unknown ``mode``.
      TypeError: ``mu_dtype`` is not a floating dtype; at ``init``, complex
        params with ``mode="smooth"`` (``tanh`` of a complex number is no
        bounded step), naming the leaf.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_lion()
      >>> tx.update(jnp.array([0.02, -3.0]), tx.init(jnp.zeros(2)))[0]
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_lion")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    validate.choice(fn, "mode", mode, _LION_MODES)
    validate.number(fn, "smooth_beta", smooth_beta, low=0.0, low_open=True)

    def init(params: Params) -> ScaleByLionState:
        validate.params(fn, params)
        if mode == "smooth":
            for path, p in jax.tree_util.tree_flatten_with_path(params)[0]:
                if jnp.iscomplexobj(p):
                    raise validate.error(
                        TypeError,
                        fn,
                        f"params{jax.tree_util.keystr(path)} is complex "
                        f"({validate.spec(p)}), but mode='smooth' takes tanh of "
                        "the step, which is unbounded for complex numbers. Use "
                        "mode='hard' or mode='refined' (both use |c|).",
                    )
        return ScaleByLionState(
            count=zero_count(), mu=_first_moment_zeros(params, mu_dtype)
        )

    def leaf(g: jax.Array, m_old: jax.Array) -> tuple[jax.Array, jax.Array]:
        c = b1 * up(m_old) + (1 - b1) * up(g)
        if mode == "hard":
            out = jnp.sign(c)
        elif mode == "smooth":
            out = jnp.tanh(smooth_beta * c)
        else:  # refined: linear near 0, the sign beyond
            out = jnp.where(jnp.abs(c) < 1, c, jnp.sign(c))
        m = ema_of_updates(g, m_old, b2)
        return out.astype(g.dtype), m.astype(m_old.dtype)

    def update(
        updates: Updates,
        state: ScaleByLionState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByLionState]:
        validate.updates(
            fn,
            updates,
            params,
            state.mu,
            name="scale_by_lion state.mu",
            dtypes="kind" if mu_dtype is not None else "exact",
        )
        out, mu = numerics.leafwise(leaf, updates, state.mu, outputs=2)
        return out, ScaleByLionState(count=safe_increment(state.count), mu=mu)

    return GradientTransformation(init, update)
