"""Momentum (``trace``) and exponential moving averages (``ema``)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax

from gradtx._internal import validate
from gradtx._internal.numerics import (
    bias_correction,
    leafwise,
    safe_increment,
    up,
    zero_count,
    zeros_like,
)
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._moments import DECAY, ema_of_updates

__all__ = ["EmaState", "TraceState", "ema", "trace"]


class TraceState(NamedTuple):
    """State of :func:`trace`."""

    trace: Any  # like params (dtype: accumulator_dtype or the param's), velocity


def trace(
    decay: Any,
    nesterov: bool = False,
    accumulator_dtype: Any = None,
) -> GradientTransformation:
    r"""Heavy-ball momentum: a decaying sum of past updates.

    .. math::
       v_t = \mu\, v_{t-1} + u_t, \qquad
       u_t \leftarrow v_t \;\;\text{or, with Nesterov,}\;\; u_t + \mu\, v_t

    with :math:`v_0 = 0`. See :func:`gradtx.sgd` for the update rule in context
    (Polyak 1964; Nesterov's form as in Sutskever et al. 2013). Unlike
    :func:`ema`, the new update enters with weight 1, not :math:`1-\mu`.

    Args:
      decay: the momentum :math:`\mu \in [0, 1]`; :math:`\mu = 1` keeps the
        plain sum of all updates (an accumulator; as momentum it never
        forgets, so optimizers use :math:`\mu < 1`).
      nesterov: use Nesterov's accelerated form.
      accumulator_dtype: dtype of :math:`v` (default: each param's dtype).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`TraceState`.

    Raises:
      ValueError: ``decay`` is outside :math:`[0, 1]`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.trace(decay=0.5)
      >>> state = tx.init(jnp.zeros(1))
      >>> u, state = tx.update(jnp.ones(1), state)
      >>> u, state = tx.update(jnp.ones(1), state)
      >>> u
      Array([1.5], dtype=float32)
    """
    fn = validate.who("trace")
    # Unlike an average's decay, 1 is meaningful here: the sum of all updates
    # (optax's tests use trace(1.0) as an accumulator).
    validate.number(fn, "decay", decay, low=0.0, high=1.0)
    validate.boolean(fn, "nesterov", nesterov)

    def init(params: Params) -> TraceState:
        validate.params(fn, params)
        return TraceState(trace=zeros_like(params, accumulator_dtype))

    def update(
        updates: Updates, state: TraceState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, TraceState]:
        validate.updates(
            fn,
            updates,
            params,
            state.trace,
            name="trace state.trace",
            dtypes="kind" if accumulator_dtype is not None else "exact",
        )

        def leaf(g: jax.Array, old: jax.Array) -> tuple[jax.Array, jax.Array]:
            # Kept in the wider of the update and accumulator dtypes until the end.
            v = up(g) + decay * up(old)
            out = (up(g) + decay * v if nesterov else v).astype(g.dtype)
            return out, v.astype(old.dtype)

        out, new_trace = leafwise(leaf, updates, state.trace, outputs=2)
        return out, TraceState(trace=new_trace)

    return GradientTransformation(init, update)


class EmaState(NamedTuple):
    """State of :func:`ema`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    ema: Any  # like params (dtype: accumulator_dtype or the param's)


def ema(
    decay: Any, debias: bool = True, accumulator_dtype: Any = None
) -> GradientTransformation:
    r"""Exponential moving average of past updates, optionally debiased.

    .. math::
       m_t = \beta\, m_{t-1} + (1-\beta)\, u_t, \qquad
       u_t \leftarrow m_t / (1 - \beta^t) \;\;\text{(debiased)}\;\; \text{or } m_t

    with :math:`m_0 = 0`; the debiasing is Adam's bias correction (Kingma & Ba
    2015, section 3).

    Args:
      decay: :math:`\beta \in [0, 1)`.
      debias: divide by :math:`1-\beta^t`.
      accumulator_dtype: dtype of :math:`m` (default: each param's dtype).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`EmaState`.

    Raises:
      ValueError: ``decay`` is outside :math:`[0, 1)`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.ema(decay=0.9)
      >>> u, state = tx.update(jnp.full(1, 2.0), tx.init(jnp.zeros(1)))
      >>> u  # debiased: the first average equals the first update
      Array([2.], dtype=float32)
    """
    fn = validate.who("ema")
    validate.number(fn, "decay", decay, **DECAY)
    validate.boolean(fn, "debias", debias)

    def init(params: Params) -> EmaState:
        validate.params(fn, params)
        return EmaState(count=zero_count(), ema=zeros_like(params, accumulator_dtype))

    def update(
        updates: Updates, state: EmaState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmaState]:
        validate.updates(
            fn,
            updates,
            params,
            state.ema,
            name="ema state.ema",
            dtypes="kind" if accumulator_dtype is not None else "exact",
        )
        count = safe_increment(state.count)
        bc = bias_correction(decay, count) if debias else None

        def leaf(
            g: jax.Array, old: jax.Array, bc: jax.Array | None
        ) -> tuple[jax.Array, jax.Array]:
            m = ema_of_updates(g, old, decay)
            out = (m if bc is None else m / bc.astype(m.dtype)).astype(g.dtype)
            return out, m.astype(old.dtype)

        out, new_ema = leafwise(leaf, updates, state.ema, scalars=(bc,), outputs=2)
        return out, EmaState(count=count, ema=new_ema)

    return GradientTransformation(init, update)
