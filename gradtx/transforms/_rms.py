"""Scaling by a root mean square of the updates: RMSProp (``scale_by_rms``),
centered RMSProp (``scale_by_stddev``) and AdaGrad (``scale_by_rss``).

The update rules are written once, on :func:`gradtx.rmsprop` and
:func:`gradtx.adagrad`; the building blocks here point to them.
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
from gradtx.transforms._moments import (
    DECAY,
    EPS_ZERO,
    NU_DTYPE_WHY,
    ema_of_squares,
    ema_of_updates,
)

__all__ = [
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByStddevState",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_stddev",
]


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
    validate.number(fn, "decay", decay, **DECAY)
    validate.number(fn, "eps", eps, low=0.0)
    if validate.concrete_float(eps) == 0.0:
        raise validate.error(ValueError, fn, EPS_ZERO.format(alt="", eps=eps, fix=""))
    validate.number(fn, "initial_scale", initial_scale, low=0.0)
    validate.boolean(fn, "eps_in_sqrt", eps_in_sqrt)
    validate.boolean(fn, "bias_correction", bias_correction)
    validate.dtype(
        fn, "nu_dtype", nu_dtype, kind="real", optional=True, why=NU_DTYPE_WHY
    )


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
            v = ema_of_squares(g, old, decay)
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
            m = m_hat = ema_of_updates(g, m_old, decay)
            v = v_hat = ema_of_squares(g, v_old, decay)
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
    fn = validate.who("scale_by_rss")
    validate.number(fn, "initial_accumulator_value", initial_accumulator_value, low=0.0)
    validate.number(fn, "eps", eps, low=0.0)
    validate.boolean(fn, "eps_in_sqrt", eps_in_sqrt)

    def init(params: Params) -> ScaleByRssState:
        validate.params(fn, params)
        return ScaleByRssState(
            sum_of_squares=full_like(params, initial_accumulator_value, real=True)
        )

    def update(
        updates: Updates, state: ScaleByRssState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ScaleByRssState]:
        validate.updates(
            fn,
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

        out, sos = numerics.leafwise(leaf, updates, state.sum_of_squares, outputs=2)
        return out, ScaleByRssState(sum_of_squares=sos)

    return GradientTransformation(init, update)
