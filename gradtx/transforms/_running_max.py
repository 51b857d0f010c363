"""Blocks whose denominator is a running maximum: AdaMax (``scale_by_adamax``,
the decayed maximum of :math:`|g|`) and AMSGrad (``scale_by_amsgrad``, the
maximum of Adam's second moment).

The update rules are written once, on :func:`gradtx.adamax` and
:func:`gradtx.amsgrad`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._adam import ScaleByAdamState, _first_moment_zeros
from gradtx.transforms._moments import DECAY, ema_of_squares, ema_of_updates
from gradtx.transforms._variant_checks import check_eps

__all__ = ["ScaleByAmsgradState", "scale_by_adamax", "scale_by_amsgrad"]


def scale_by_adamax(
    b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8
) -> GradientTransformation:
    r"""Scales updates by AdaMax's ratio :math:`\hat m_t / u_t` (no learning rate).

    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)` is the decayed
    maximum of the gradients' magnitudes (Kingma & Ba 2015, Algorithm 2); see
    :func:`gradtx.adamax` for the full rule. The state is
    :class:`ScaleByAdamState`, with ``nu`` holding :math:`u` (real for
    complex params: :math:`|g|` is the modulus).

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the running maximum.
      eps: :math:`\epsilon > 0`, added to :math:`|g_t|` inside the maximum.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState`.

    Raises:
      ValueError: a hyperparameter is out of range (``eps = 0`` included: a
        coordinate whose gradients have all been 0 would divide 0 by 0).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_adamax()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_adamax")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps)

    def init(params: Params) -> ScaleByAdamState:
        validate.params(fn, params)
        return ScaleByAdamState(
            count=zero_count(), mu=zeros_like(params), nu=zeros_like(params, real=True)
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
            state.nu,
            name="scale_by_adamax state.nu",
            dtypes="real",
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)

        def leaf(
            g: jax.Array, m_old: jax.Array, u_old: jax.Array, bc1: jax.Array
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            u = jnp.maximum(b2 * up(u_old), jnp.abs(up(g)) + eps)
            out = ((m / bc1.astype(m.dtype)) / u).astype(g.dtype)
            return out, m.astype(m_old.dtype), u.astype(u_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf, updates, state.mu, state.nu, scalars=(bc1,), outputs=3
        )
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)


class ScaleByAmsgradState(NamedTuple):
    """State of :func:`scale_by_amsgrad`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    mu: Any  # like params (dtype: mu_dtype or the param's), first moment
    nu: Any  # like params (the param's real dtype), second moment
    nu_max: Any  # like nu, the running maximum of (the corrected) nu


def scale_by_amsgrad(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    bias_correction_mu: bool = False,
    bias_correction_nu: bool = False,
    *,
    correct_after_max: bool = False,
) -> GradientTransformation:
    r"""Scales updates by AMSGrad's ratio, the max of the second moments below.

    Produces :math:`m_t / (\sqrt{\hat v_t + \epsilon_{root}} + \epsilon)` with
    :math:`\hat v_t = \max(\hat v_{t-1}, v_t)`; see :func:`gradtx.amsgrad`
    for the full rule, the bias corrections and their reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon > 0`, outside the root; 0 only with ``eps_root >
        0``.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      mu_dtype: dtype of the first moment (default: each param's).
      bias_correction_mu: divide :math:`m_t` by :math:`1-\beta_1^t` (optax's
        and PyTorch's form; the paper has no bias correction).
      bias_correction_nu: divide :math:`v_t` by :math:`1-\beta_2^t` before the
        maximum (optax's form).
      correct_after_max: with ``bias_correction_nu``, take the maximum of the
        raw :math:`v_t` and divide it by :math:`1-\beta_2^t` of the current
        step (PyTorch's ``Adam(amsgrad=True)``, also TensorFlow's).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAmsgradState`.

    Raises:
      ValueError: a hyperparameter is out of range, or ``correct_after_max``
        without ``bias_correction_nu``.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_amsgrad(bias_correction_mu=True,
      ...                              bias_correction_nu=True)
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # corrected, the first step is sign(g), up to eps
      Array([ 1., -1.], dtype=float32)
    """
    fn = validate.who("scale_by_amsgrad")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps, eps_root)
    validate.dtype(fn, "mu_dtype", mu_dtype, kind="inexact", optional=True)
    for name, flag in (
        ("bias_correction_mu", bias_correction_mu),
        ("bias_correction_nu", bias_correction_nu),
        ("correct_after_max", correct_after_max),
    ):
        validate.boolean(fn, name, flag)
    if correct_after_max and not bias_correction_nu:
        raise validate.error(
            ValueError,
            fn,
            "correct_after_max=True corrects the maximum of the second moments "
            "for bias, so it needs bias_correction_nu=True (PyTorch's form is "
            "bias_correction_mu=True, bias_correction_nu=True, "
            "correct_after_max=True).",
        )
    after = correct_after_max

    def init(params: Params) -> ScaleByAmsgradState:
        validate.params(fn, params)
        return ScaleByAmsgradState(
            count=zero_count(),
            mu=_first_moment_zeros(params, mu_dtype),
            nu=zeros_like(params, real=True),
            nu_max=zeros_like(params, real=True),
        )

    def update(
        updates: Updates,
        state: ScaleByAmsgradState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, ScaleByAmsgradState]:
        validate.updates(
            fn,
            updates,
            params,
            state.nu,
            name="scale_by_amsgrad state.nu",
            dtypes="real",
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count) if bias_correction_mu else None
        bc2 = numerics.bias_correction(b2, count) if bias_correction_nu else None

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            v_max_old: jax.Array,
            bc1: jax.Array | None,
            bc2: jax.Array | None,
        ) -> tuple[jax.Array, ...]:
            m = m_hat = ema_of_updates(g, m_old, b1)
            v = v_hat = ema_of_squares(g, v_old, b2)
            if bc1 is not None:
                m_hat = m / bc1.astype(m.dtype)
            if bc2 is not None and not after:
                v_hat = v / bc2.astype(v.dtype)
            v_max = jnp.maximum(up(v_max_old), v_hat)
            denom = v_max / bc2.astype(v.dtype) if after and bc2 is not None else v_max
            out = (m_hat / (jnp.sqrt(denom + eps_root) + eps)).astype(g.dtype)
            return (
                out,
                m.astype(m_old.dtype),
                v.astype(v_old.dtype),
                v_max.astype(v_max_old.dtype),
            )

        out, mu, nu, nu_max = numerics.leafwise(
            leaf,
            updates,
            state.mu,
            state.nu,
            state.nu_max,
            scalars=(bc1, bc2),
            outputs=4,
        )
        return out, ScaleByAmsgradState(count=count, mu=mu, nu=nu, nu_max=nu_max)

    return GradientTransformation(init, update)
