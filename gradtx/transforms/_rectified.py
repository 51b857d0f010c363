"""RAdam's building block: Adam with its early steps' variance rectified
(``scale_by_radam``). The update rule is written once, on :func:`gradtx.radam`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx._internal.numerics import safe_increment, up, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates
from gradtx.transforms._adam import ScaleByAdamState
from gradtx.transforms._moments import DECAY, ema_of_squares, ema_of_updates
from gradtx.transforms._variant_checks import check_eps

__all__ = ["scale_by_radam"]


def _rectification(b2: Any, count: jax.Array, threshold: Any) -> tuple[jax.Array, ...]:
    r"""Whether step ``count`` is rectified, the factor :math:`r_t`, and
    :math:`1/\sqrt{1-\beta_2^t}`, in the default float dtype.

    :math:`\rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t)` is the
    length of the approximated simple moving average (Liu et al. 2020, eq. 5).
    """
    dtype = jnp.result_type(float)
    # From b2 as given: a Python float's 1 - b2 is exact to double precision,
    # where float32's rounding of 0.999 would move rho_inf by 0.03.
    rho_inf = jnp.asarray(2 / (1 - b2) - 1, dtype)
    t = count.astype(dtype)
    b2t = jnp.asarray(b2, dtype) ** t
    rho = rho_inf - 2 * t * b2t / (1 - b2t)
    rectified = rho > threshold
    # Where it is not rectified, rho may be <= 4 and rho_inf too: give the
    # (unused) factor safe operands, so that neither it nor its gradient is NaN.
    num = jnp.where(rectified, (rho - 4) * (rho - 2) * rho_inf, 1)
    den = jnp.where(rectified, (rho_inf - 4) * (rho_inf - 2) * rho, 1)
    return rectified, jnp.sqrt(num / den), jax.lax.rsqrt(1 - b2t)


def scale_by_radam(
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    threshold: Any = 4.0,
    *,
    nesterov: bool = False,
    eps_before_bias_correction: bool = False,
) -> GradientTransformation:
    r"""Scales updates by Rectified Adam's ratio (no learning rate).

    Produces :math:`r_t \hat m_t / (\sqrt{\hat v_t + \epsilon_{root}} +
    \epsilon)` once the approximated moving average is long enough,
    :math:`\rho_t > \rho_{thr}`, and :math:`\hat m_t` (momentum SGD) before;
    see :func:`gradtx.radam` for the full rule and its reference.

    Args:
      b1: :math:`\beta_1 \in [0, 1)`, decay of the first moment.
      b2: :math:`\beta_2 \in [0, 1)`, decay of the second moment.
      eps: :math:`\epsilon > 0`, outside the root; 0 only with ``eps_root >
        0``.
      eps_root: :math:`\epsilon_{root} \ge 0`, inside the root.
      threshold: :math:`\rho_{thr} \ge 4`: steps with :math:`\rho_t >
        \rho_{thr}` are rectified (the paper's 4; optax and PyTorch use 5).
      nesterov: use Dozat's Nesterov form of :math:`\hat m_t` (as in
        :func:`gradtx.adam`).
      eps_before_bias_correction: add :math:`\epsilon` to :math:`\sqrt{v_t}`
        before dividing by :math:`\sqrt{1-\beta_2^t}`, i.e. use
        :math:`\epsilon / \sqrt{1-\beta_2^t}` (PyTorch's and Liu et al.'s code).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ScaleByAdamState`.

    Raises:
      ValueError: a hyperparameter is out of range (a ``threshold`` below 4
        would take the root of a negative :math:`r_t^2`).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.scale_by_radam()
      >>> u, _ = tx.update(jnp.array([0.5, -2.0]), tx.init(jnp.zeros(2)))
      >>> u  # the first steps are not rectified: m_hat = g
      Array([ 0.5, -2.0], dtype=float32)
    """
    fn = validate.who("scale_by_radam")
    validate.number(fn, "b1", b1, **DECAY)
    validate.number(fn, "b2", b2, **DECAY)
    check_eps(fn, eps, eps_root)
    validate.number(
        fn,
        "threshold",
        threshold,
        low=4.0,
        hint="The rectification factor needs rho_t > 4 (Liu et al. 2020, eq. 7).",
    )
    validate.boolean(fn, "nesterov", nesterov)
    validate.boolean(fn, "eps_before_bias_correction", eps_before_bias_correction)

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
            fn, updates, params, state.nu, name="scale_by_radam state.nu", dtypes="real"
        )
        count = safe_increment(state.count)
        bc1 = numerics.bias_correction(b1, count)
        bc2 = numerics.bias_correction(b2, count)
        bc1_next = numerics.nesterov_bias_correction(b1, count, nesterov)
        rectified, r, inv_sqrt_bc2 = _rectification(b2, count, threshold)
        # eps, as added to sqrt(v_hat): eps / sqrt(1 - b2^t) in PyTorch's form.
        eps_hat = eps * inv_sqrt_bc2 if eps_before_bias_correction else eps

        def leaf(
            g: jax.Array,
            m_old: jax.Array,
            v_old: jax.Array,
            bc1: jax.Array,
            bc2: jax.Array,
            bc1_next: jax.Array | None,
            rectified: jax.Array,
            r: jax.Array,
            eps_hat: Any,
        ) -> tuple[jax.Array, jax.Array, jax.Array]:
            m = ema_of_updates(g, m_old, b1)
            v = ema_of_squares(g, v_old, b2)
            if bc1_next is None:
                m_hat = m / bc1.astype(m.dtype)
            else:
                m_hat = b1 * (m / bc1_next.astype(m.dtype)) + (1 - b1) * (
                    up(g) / bc1.astype(m.dtype)
                )
            v_hat = v / bc2.astype(v.dtype)
            real = v.dtype
            denom = jnp.sqrt(v_hat + eps_root) + jnp.asarray(eps_hat, real)
            adaptive = r.astype(real) * m_hat / denom
            out = jnp.where(rectified, adaptive, m_hat).astype(g.dtype)
            return out, m.astype(m_old.dtype), v.astype(v_old.dtype)

        out, mu, nu = numerics.leafwise(
            leaf,
            updates,
            state.mu,
            state.nu,
            scalars=(bc1, bc2, bc1_next, rectified, r, eps_hat),
            outputs=3,
        )
        return out, ScaleByAdamState(count=count, mu=mu, nu=nu)

    return GradientTransformation(init, update)
