"""Prodigy: Adam with a step size estimated on the fly (parameter-free)."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_prodigy

__all__ = ["prodigy"]

_OPTAX_FORM = {"bias_correction": True, "eps_updated_estimate": True}


@register(
    year=2023,
    optax=Counterpart("optax.contrib.prodigy", _OPTAX_FORM),
    pytorch=None,
    complex_params=False,
    examples=[
        Example(
            "prodigy",
            {"learning_rate": 1.0, "weight_decay": 0.01, **_OPTAX_FORM},
            scheduled=("learning_rate",),
        ),
        # The paper's form: no bias correction (the first steps differ most).
        Example("prodigy_paper", {"learning_rate": 1.0}, parity=False),
    ],
    # Learning rate (a multiplier of the estimate, 1 in the paper): the best
    # test accuracy of 0.1 ... 3 with `gradtx compare` on the digits (5
    # epochs, 1 seed; 1 gave 96.9%, 0.3 97.2%).
    presets=[Preset("prodigy", 0.3, default_run=False)],
)
@validate.named("prodigy")
def prodigy(
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
    r"""Prodigy: Adam whose step size estimates the distance to the solution.

    Mishchenko & Defazio 2023, Algorithm 3 (Adam version), with
    :math:`d_0` = ``estim_lr0`` and :math:`x_0` the params given to ``init``:

    .. math::
       m_{k+1} = \beta_1 m_k + (1-\beta_1)\, d_k g_k, \qquad
       v_{k+1} = \beta_2 v_k + (1-\beta_2)\, d_k^2 g_k^2,

    .. math::
       r_{k+1} = \beta_3 r_k + \gamma_k d_k^2 \langle g_k, x_0 - x_k\rangle,
       \qquad s_{k+1} = \beta_3 s_k + \gamma_k d_k^2 g_k,

    .. math::
       d_{k+1} = \max\!\Big(d_k,\ c\, \frac{r_{k+1}}{\lVert s_{k+1}\rVert_1}
       \Big), \qquad
       x_{k+1} = x_k - \gamma_k d_k \Big(\frac{m_{k+1}}{\sqrt{v_{k+1}} +
       d_k \epsilon} + \lambda x_k\Big)

    with :math:`\beta_3 = \sqrt{\beta_2}` by default (the paper's
    :math:`(1-\beta_3)` factors cancel in the ratio and are left out, as in
    the authors' code and optax) and :math:`\lambda` a decoupled weight
    decay. While every gradient has been 0, :math:`d` stays :math:`d_0`.
    :math:`\gamma_k` is a schedule around 1 (the authors recommend a cosine
    decay), not a step size to tune; ``estim_lr_coef`` :math:`c` scales the
    estimate. Real params only.

    Chain: ``scale_by_prodigy`` (the whole rule: the learning rate enters the
    estimate).

    Args:
      learning_rate: :math:`\gamma_k \ge 0`, a scalar or a schedule.
      betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
      beta3: :math:`\beta_3 \in [0, 1)`, or ``None``: :math:`\sqrt{\beta_2}`.
      eps: :math:`\epsilon > 0`.
      estim_lr0: :math:`d_0 > 0`.
      estim_lr_coef: :math:`c > 0`.
      weight_decay: :math:`\lambda \ge 0`.
      safeguard_warmup: leave :math:`\gamma_k` out of :math:`s` (for warmups).
      bias_correction: multiply the step by :math:`\sqrt{1-\beta_2^{k+1}} /
        (1-\beta_1^{k+1})` (optax's).
      eps_updated_estimate: :math:`\epsilon\, d_{k+1}` in the denominator
        (optax's and the authors' code) instead of :math:`\epsilon\, d_k`.

    Returns:
      A :class:`~gradtx.GradientTransformation` (its ``update`` needs the
      params).

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: a param is complex (at ``init``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.prodigy()
      >>> params = jnp.array([1.0, -1.0])
      >>> state = tx.init(params)
      >>> for _ in range(20):
      ...     u, state = tx.update(params, state, params)  # the gradient of |x|^2/2
      ...     params = params + u
      >>> bool(state.estim_lr > 1e-3)  # the estimate grew from 1e-6
      True

    optax: ``optax.contrib.prodigy(lr, betas, beta3, eps, estim_lr0,
    estim_lr_coef, weight_decay, safeguard_warmup)`` is ``gradtx.prodigy(lr,
    betas, beta3, eps, estim_lr0, estim_lr_coef, weight_decay,
    safeguard_warmup, bias_correction=True, eps_updated_estimate=True)``
    (except that optax's estimate becomes NaN while every gradient is 0).
    PyTorch has no Prodigy; the authors' PyTorch code, ``prodigyopt.Prodigy(p,
    lr, betas, beta3, eps=eps, weight_decay=λ, d0=d0, d_coef=c,
    use_bias_correction=b, safeguard_warmup=s)``, is ``gradtx.prodigy(lr,
    betas, beta3, eps, d0, c, λ, s, bias_correction=b,
    eps_updated_estimate=True)``.

    References:
      Mishchenko & Defazio, *Prodigy: An Expeditiously Adaptive Parameter-Free
      Learner*, ICML 2024 (arXiv 2023), https://arxiv.org/abs/2306.06101
    """
    return scale_by_prodigy(
        learning_rate,
        betas,
        beta3,
        eps,
        estim_lr0,
        estim_lr_coef,
        weight_decay,
        safeguard_warmup,
        bias_correction=bias_correction,
        eps_updated_estimate=eps_updated_estimate,
    )
