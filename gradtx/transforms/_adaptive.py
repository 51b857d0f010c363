"""Per-coordinate adaptive scaling: Adam, RMSProp (plain and centered), AdaGrad.

The update rules are written once, on the optimizers in
:mod:`gradtx.optimizers`; the building blocks here point to them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import _checks, _numerics
from gradtx._numerics import (
    abs_sq,
    full_like,
    safe_increment,
    up,
    zero_count,
    zeros_like,
)
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.errors import check_params
from gradtx.transforms._common import check_update_inputs

__all__ = [
    "ScaleByAdamState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByStddevState",
    "scale_by_adam",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_stddev",
]


def _check_decay(name: str, value: Any) -> None:
    _checks.check_number(name, value, low=0.0, high=1.0, high_open=True)


def _check_eps(name: str, value: Any) -> None:
    _checks.check_number(name, value, low=0.0)


def _check_rms_args(
    decay: Any, eps: Any, initial_scale: Any, eps_in_sqrt: Any, bias_correction: Any
) -> None:
    """The argument checks shared by scale_by_rms and scale_by_stddev."""
    _check_decay("decay", decay)
    _check_eps("eps", eps)
    _check_eps("initial_scale", initial_scale)
    _checks.check_bool("eps_in_sqrt", eps_in_sqrt)
    _checks.check_bool("bias_correction", bias_correction)


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
    nu: Any  # like params (the param's real dtype), second moment of |g|


def scale_by_adam(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""Scales updates by Adam's bias-corrected moment ratio (no learning rate).

    Produces :math:`\hat m_t / (\sqrt{\hat v_t + \epsilon_{root}} + \epsilon)`;
    see :func:`gradtx.adam` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon \ge 0`, added outside the square root (the paper's).
      eps_root: :math:`\epsilon_{root} \ge 0`, added inside the root (keeps
        meta-gradients through the update finite).
      mu_dtype: dtype of the first moment (e.g. ``jnp.bfloat16`` to save
        memory); default: each param's dtype.
      nesterov: use Dozat's Nesterov-accelerated form (NAdam).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adam()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    _check_decay("b1", b1)
    _check_decay("b2", b2)
    _check_eps("eps", eps)
    _check_eps("eps_root", eps_root)
    _checks.check_bool("nesterov", nesterov)

    def init(params: Params) -> ScaleByAdamState:
        check_params(params)
        return ScaleByAdamState(
            count=zero_count(),
            mu=zeros_like(params, mu_dtype),
            nu=zeros_like(params, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAdamState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAdamState]:
        check_update_inputs(
            updates, params, state.nu, name="scale_by_adam state.nu", dtypes="real"
        )
        count = safe_increment(state.count)
        bc1 = _numerics.bias_correction(b1, count)
        bc2 = _numerics.bias_correction(b2, count)
        bc1_next = (
            _numerics.bias_correction(b1, safe_increment(count)) if nesterov else None
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

        out, mu, nu = _numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc1, bc2, bc1_next), outputs=3
        )
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """State of :func:`scale_by_rms`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    nu: Any  # like params (the param's real dtype), EMA of |g|^2


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
) -> GradientTransformation:
    r"""Divides updates by the root of an EMA of their squares (RMSProp).

    Produces :math:`u / \sqrt{v_t + \epsilon}` (or :math:`u / (\sqrt{v_t} +
    \epsilon)` with ``eps_in_sqrt=False``); see :func:`gradtx.rmsprop`.

    Args:
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon \ge 0`.
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: add :math:`\epsilon` inside the root (Graves 2013, the
        default) or outside (PyTorch).
      bias_correction: divide :math:`v_t` by :math:`1-\rho^t`, as Adam does.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByRmsState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_rms(decay=0.75, eps=0.0)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # 2 / sqrt(0.25 * 4)
      Array([2.], dtype=float32)
    """
    _check_rms_args(decay, eps, initial_scale, eps_in_sqrt, bias_correction)
    debias = bias_correction

    def init(params: Params) -> ScaleByRmsState:
        check_params(params)
        return ScaleByRmsState(
            count=zero_count(), nu=full_like(params, initial_scale, real=True)
        )

    def update(
        updates: Updates, state: ScaleByRmsState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ScaleByRmsState]:
        check_update_inputs(
            updates, params, state.nu, name="scale_by_rms state.nu", dtypes="real"
        )
        count = safe_increment(state.count)
        bc = _numerics.bias_correction(decay, count) if debias else None

        def leaf(
            g: jax.Array, old: jax.Array, bc: jax.Array | None
        ) -> tuple[jax.Array, jax.Array]:
            v = _moment2(g, old, decay)
            v_hat = v if bc is None else v / bc.astype(v.dtype)
            return _rms_scale(g, v_hat, eps, eps_in_sqrt), v.astype(old.dtype)

        out, nu = _numerics.leafwise(leaf, updates, state.nu, scalars=(bc,), outputs=2)
        return out, ScaleByRmsState(count=count, nu=nu)

    return GradientTransformation(init, update)


class ScaleByStddevState(NamedTuple):
    """State of :func:`scale_by_stddev`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (the param's dtype), EMA of g
    nu: Any  # like params (the param's real dtype), EMA of |g|^2


def scale_by_stddev(
    decay: Any = 0.9,
    eps: Any = 1e-8,
    initial_scale: Any = 0.0,
    eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:
    r"""Divides updates by a running standard deviation (centered RMSProp).

    Produces :math:`u / \sqrt{v_t - |m_t|^2 + \epsilon}`, with :math:`m_t` the
    EMA of the updates and :math:`v_t` that of their squares (Graves 2013, eq.
    38-40); see :func:`gradtx.rmsprop` with ``centered=True``.

    Args:
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon \ge 0`.
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: add :math:`\epsilon` inside the root (Graves, the default)
        or outside (PyTorch).
      bias_correction: divide both EMAs by :math:`1-\rho^t`. Note that the
        first step's debiased variance is then exactly 0, so that step is
        :math:`u/\sqrt{\epsilon}` (or :math:`u/\epsilon`): pair it with a
        warmup or a larger ``eps``.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByStddevState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_stddev(decay=0.5, eps=0.0)
      >>> tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))[0]  # 2 / sqrt(2 - 1)
      Array([2.], dtype=float32)
    """
    _check_rms_args(decay, eps, initial_scale, eps_in_sqrt, bias_correction)
    debias = bias_correction

    def init(params: Params) -> ScaleByStddevState:
        check_params(params)
        return ScaleByStddevState(
            count=zero_count(),
            mu=zeros_like(params),
            nu=full_like(params, initial_scale, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByStddevState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByStddevState]:
        check_update_inputs(
            updates, params, state.mu, name="scale_by_stddev state.mu", dtypes="exact"
        )
        count = safe_increment(state.count)
        bc = _numerics.bias_correction(decay, count) if debias else None

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

        out, mu, nu = _numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc,), outputs=3
        )
        return out, ScaleByStddevState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)


class ScaleByRssState(NamedTuple):
    """State of :func:`scale_by_rss`."""

    sum_of_squares: Any  # like params (the param's real dtype), G_0 + sum |g|^2


def scale_by_rss(
    initial_accumulator_value: Any = 0.0,
    eps: Any = 1e-10,
    *,
    eps_in_sqrt: bool = False,
) -> GradientTransformation:
    r"""Divides updates by the root of the sum of all squared updates (AdaGrad).

    Produces :math:`u / (\sqrt{G_t} + \epsilon)` with :math:`G_t = G_0 +
    \sum_{s \le t} |g_s|^2` (Duchi et al. 2011; see :func:`gradtx.adagrad`).
    Coordinates whose :math:`G_t` is 0 get a 0 update, never NaN.

    Args:
      initial_accumulator_value: :math:`G_0 \ge 0` (paper and PyTorch: 0;
        optax and TensorFlow: 0.1).
      eps: :math:`\epsilon \ge 0` (paper's :math:`\delta`).
      eps_in_sqrt: add :math:`\epsilon` inside the root,
        :math:`u / \sqrt{G_t + \epsilon}` (optax's form) instead of outside
        (the paper's and PyTorch's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByRssState`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_rss(eps=0.0)
      >>> tx.update(jnp.array([-3.0, 0.0]), tx.init(jnp.zeros(2)))[0]
      Array([-1.,  0.], dtype=float32)
    """
    _check_eps("initial_accumulator_value", initial_accumulator_value)
    _check_eps("eps", eps)
    _checks.check_bool("eps_in_sqrt", eps_in_sqrt)

    def init(params: Params) -> ScaleByRssState:
        check_params(params)
        return ScaleByRssState(
            sum_of_squares=full_like(params, initial_accumulator_value, real=True)
        )

    def update(
        updates: Updates, state: ScaleByRssState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ScaleByRssState]:
        check_update_inputs(
            updates,
            params,
            state.sum_of_squares,
            name="scale_by_rss state.sum_of_squares",
            dtypes="real",
        )

        def leaf(g: jax.Array, old: jax.Array) -> tuple[jax.Array, jax.Array]:
            s = abs_sq(up(g)) + up(old)
            # A zero accumulator means every gradient so far was zero: the
            # update is 0. The safe denominator keeps gradients through this
            # where finite too.
            positive = s > 0
            scaled = _rms_scale(g, jnp.where(positive, s, 1), eps, eps_in_sqrt)
            out = jnp.where(positive, scaled, jnp.zeros_like(scaled))
            return out, s.astype(old.dtype)

        out, sos = _numerics.leafwise(leaf, updates, state.sum_of_squares, outputs=2)
        return out, ScaleByRssState(sum_of_squares=sos)

    return GradientTransformation(init, update)
