"""Prodigy's building block: Adam whose step size is a running estimate of
the distance to the solution (D-adaptation).

The update rule is written once, on :func:`gradtx.prodigy`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import abs_sq, real_dtype, safe_increment, up, zero_count
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms._moments import DECAY
from gradtx.transforms._variant_checks import refuse_complex

__all__ = ["ProdigyState", "scale_by_prodigy"]

_NEEDS_PARAMS = (
    "scale_by_prodigy estimates the distance from the initial params; pass the "
    "params to update: tx.update(grads, state, params)."
)


class ProdigyState(NamedTuple):
    """State of :func:`scale_by_prodigy` (optax.contrib's field names).

    The scalars are float32, or float64 when a param is.
    """

    exp_avg: Any  # like params, m: EMA of d g
    exp_avg_sq: Any  # like params, v: EMA of (d g)^2
    grad_sum: Any  # like params, s: the weighted sum of gradients
    params0: Any  # like params, x0: the params given to init
    estim_lr: jax.Array  # [], d: the distance estimate
    numerator_weighted: jax.Array  # [], r: the weighted sum of <g, x0 - x>
    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)


def _scalar_dtype(params: Params) -> Any:
    """float32, or float64 if a param is: the dtype of the global estimates."""
    dtypes = [
        numerics.compute_dtype(real_dtype(jnp.result_type(x)))
        for x in jax.tree.leaves(params)
    ]
    return jnp.result_type(jnp.float32, *dtypes)


def scale_by_prodigy(
    learning_rate: ScalarOrSchedule = 1.0,
    betas: tuple[Any, Any] = (0.9, 0.999),
    beta3: Any = None,
    eps: Any = 1e-8,
    estim_lr0: Any = 1e-6,
    estim_lr_coef: Any = 1.0,
    weight_decay: Any = 0.0,
    safeguard_warmup: bool = False,
    *,
    bias_correction: bool = False,
    eps_updated_estimate: bool = False,
) -> GradientTransformation:
    r"""Prodigy's whole step (Mishchenko & Defazio, Algorithm 3), ready to add.

    The distance estimate :math:`d` sets the step size of Adam's direction,
    and the learning rate :math:`\gamma_t` enters the estimate itself, so the
    learning rate and the decoupled weight decay are part of this block: its
    output is the update (already negated), as ``optax.contrib.prodigy``'s.
    See :func:`gradtx.prodigy` for the rule.

    Args:
      learning_rate: :math:`\gamma_t \ge 0`, a scalar or a schedule (1 with
        an optional decay: Prodigy estimates the step size itself).
      betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
      beta3: :math:`\beta_3 \in [0, 1)`, the decay of the estimate's sums;
        ``None``: :math:`\sqrt{\beta_2}`.
      eps: :math:`\epsilon > 0`, added to :math:`\sqrt{v}` times :math:`d`.
      estim_lr0: :math:`d_0 > 0`, the initial (under-)estimate.
      estim_lr_coef: :math:`> 0`, multiplies each new estimate.
      weight_decay: :math:`\lambda \ge 0`, decoupled (AdamW's, times
        :math:`\gamma_t d_t`).
      safeguard_warmup: leave :math:`\gamma_t` out of :math:`s`, so that a
        warmup does not inflate the estimate.
      bias_correction: multiply the step by Adam's :math:`\sqrt{1-\beta_2^k}
        / (1-\beta_1^k)` (optax's; the paper has none).
      eps_updated_estimate: add :math:`\epsilon\, d_{k+1}` (the updated
        estimate, optax's and the authors' code) instead of :math:`\epsilon
        d_k` (the paper's).

    Returns:
      A :class:`~gradtx.GradientTransformation` (needs ``params``; real params
      only) with state :class:`ProdigyState`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: a param is complex (at ``init``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_prodigy()
      >>> params = jnp.array([1.0, -1.0])
      >>> state = tx.init(params)
      >>> u, state = tx.update(params, state, params)  # the gradient of |x|^2 / 2
      >>> state.estim_lr  # at x0, <g, x0 - x> = 0: no sign of the distance yet
      Array(1.e-06, dtype=float32)
      >>> params = params + u
      >>> u, state = tx.update(params, state, params)
      >>> bool(state.estim_lr > 1e-6)  # now it grows
      True
    """
    fn = validate.who("scale_by_prodigy")
    validate.number(fn, "learning_rate", learning_rate, low=0.0, allow_schedule=True)
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise validate.error(
            ValueError, fn, f"betas must be a pair (beta1, beta2), got {betas!r}."
        )
    beta1, beta2 = betas
    validate.number(fn, "betas[0]", beta1, **DECAY)
    validate.number(fn, "betas[1]", beta2, **DECAY)
    if beta3 is None:
        beta3 = beta2**0.5
    validate.number(fn, "beta3", beta3, **DECAY)
    validate.number(fn, "eps", eps, low=0.0, low_open=True)
    validate.number(fn, "estim_lr0", estim_lr0, low=0.0, low_open=True)
    validate.number(fn, "estim_lr_coef", estim_lr_coef, low=0.0, low_open=True)
    validate.number(fn, "weight_decay", weight_decay, low=0.0)
    validate.boolean(fn, "safeguard_warmup", safeguard_warmup)
    validate.boolean(fn, "bias_correction", bias_correction)
    validate.boolean(fn, "eps_updated_estimate", eps_updated_estimate)

    def init(params: Params) -> ProdigyState:
        validate.params(fn, params)
        refuse_complex(
            fn,
            params,
            "Prodigy's distance estimate <g, x0 - x> / |s|_1 is defined for real "
            "params.",
        )
        dtype = _scalar_dtype(params)
        # Each field its own buffers, and params0 a copy: a state that shares
        # buffers (with itself or the params) cannot be donated (make_step).
        return ProdigyState(
            exp_avg=numerics.zeros_like(params),
            exp_avg_sq=numerics.zeros_like(params),
            grad_sum=numerics.zeros_like(params),
            params0=jax.tree.map(lambda p: jnp.array(p, copy=True), params),
            estim_lr=jnp.asarray(estim_lr0, dtype),
            numerator_weighted=jnp.zeros((), dtype),
            count=zero_count(),
        )

    def moments(
        g: jax.Array,
        m: jax.Array,
        v: jax.Array,
        s: jax.Array,
        p0: jax.Array,
        p: jax.Array,
        d: jax.Array,
        s_weight: jax.Array,
    ) -> tuple[jax.Array, ...]:
        x = up(g)
        dg = d.astype(x.dtype) * x
        new_m = beta1 * up(m) + (1 - beta1) * dg
        new_v = beta2 * up(v) + (1 - beta2) * abs_sq(dg)
        new_s = beta3 * up(s) + s_weight.astype(x.dtype) * dg / estim_lr0
        dot = jnp.sum(x * (up(p0) - up(p))).astype(d.dtype)
        l1 = jnp.sum(jnp.abs(new_s)).astype(d.dtype)
        return (
            new_m.astype(m.dtype),
            new_v.astype(v.dtype),
            new_s.astype(s.dtype),
            dot,
            l1,
        )

    def step(
        g: jax.Array, m: jax.Array, v: jax.Array, p: jax.Array, dlr: Any, d_eps: Any
    ) -> jax.Array:
        m, v, p = up(m), up(v), up(p)
        dlr, d_eps = dlr.astype(m.dtype), d_eps.astype(m.dtype)
        out = dlr * m / (jnp.sqrt(v) + d_eps * eps) + weight_decay * dlr * p
        return (-out).astype(g.dtype)

    def update(
        updates: Updates, state: ProdigyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ProdigyState]:
        validate.updates(
            fn,
            updates,
            params,
            state.exp_avg,
            name="scale_by_prodigy state.exp_avg",
            needs_params=_NEEDS_PARAMS,
        )
        d, r = state.estim_lr, state.numerator_weighted
        dt = d.dtype
        count = safe_increment(state.count)
        gamma: Any
        if callable(learning_rate):
            gamma = validate.scheduled_value(
                fn, "learning_rate", learning_rate, state.count, low=0.0
            )
        else:
            gamma = learning_rate
        if bias_correction:  # in float64 under x64, as numerics.bias_correction
            bc1 = numerics.bias_correction(beta1, count)
            bc = jnp.sqrt(numerics.bias_correction(beta2, count)) / bc1
            dlr = d * (jnp.asarray(gamma, dt) * bc).astype(dt)
        else:
            dlr = d * jnp.asarray(gamma, dt)
        # s grows by gamma d^2 g / d0 (safeguard_warmup: d^2 g / d0); r alike.
        s_weight = d if safeguard_warmup else dlr
        m, v, s, dots, l1s = numerics.leafwise(
            moments,
            updates,
            state.exp_avg,
            state.exp_avg_sq,
            state.grad_sum,
            state.params0,
            params,
            scalars=(d, s_weight),
            outputs=5,
        )
        r = beta3 * r + (d / estim_lr0) * dlr * _total(dots, dt)
        denominator = _total(l1s, dt)
        # All gradients 0 so far: no information, keep d (optax divides 0 by 0).
        safe = jnp.where(denominator > 0, denominator, 1)
        new_d = jnp.where(
            denominator > 0, jnp.maximum(d, estim_lr_coef * r / safe), d
        ).astype(dt)
        # The paper's d_k, but taken once the sums over the params are done,
        # so that XLA updates the params in place (it copies them otherwise).
        waited = jnp.where(denominator >= 0, d, new_d)
        d_eps = new_d if eps_updated_estimate else waited
        out = numerics.leafwise(step, updates, m, v, params, scalars=(dlr, d_eps))
        return out, ProdigyState(
            exp_avg=m,
            exp_avg_sq=v,
            grad_sum=s,
            params0=state.params0,
            estim_lr=new_d,
            numerator_weighted=r.astype(dt),
            count=count,
        )

    return GradientTransformation(init, update)


def _total(parts: Any, dtype: Any) -> jax.Array:
    """The sum of per-leaf scalars (0 for an empty tree)."""
    leaves = jax.tree.leaves(parts)
    if not leaves:
        return jnp.zeros((), dtype)
    return jnp.sum(jnp.stack(leaves))
