"""AdEMAMix: Adam's momentum mixed with a much slower one."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import (
    add_decayed_weights,
    scale_by_ademamix,
    scale_by_learning_rate,
)
from gradtx.tree import Mask

__all__ = ["ademamix"]


@register(
    year=2025,
    optax=Counterpart("optax.contrib.ademamix"),
    pytorch=None,
    decoupled_weight_decay=True,
    examples=[
        Example(
            "ademamix",
            {"learning_rate": 0.05, "b3": 0.999, "alpha": 5.0, "weight_decay": 0.1},
            scheduled=("b3", "alpha"),
        ),
    ],
    # Chosen by `gradtx compare --learning-rates 1e-3 3e-3 1e-2 3e-2 0.1
    # --epochs 5 --seeds 1` (the best test accuracy), with b3 = 0.999: 220
    # steps are too few for the slow average of b3 = 0.9999 (the paper's
    # advice for short runs, its Appendix C.1.5).
    presets=[Preset("ademamix", 1e-2, kwargs={"b3": 0.999}, default_run=False)],
)
@validate.named("ademamix")
def ademamix(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    b3: ScalarOrSchedule = 0.9999,
    alpha: ScalarOrSchedule = 5.0,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 0.0,
    mask: Mask | None = None,
) -> GradientTransformation:
    r"""AdEMAMix: AdamW with a mixture of a fast and a slow momentum.

    Pagliardini et al. 2025, Algorithm 1. A single EMA cannot both follow
    the recent gradients and remember old ones; AdEMAMix adds a slow EMA
    :math:`m_2` (:math:`\beta_3 = 0.9999`: a half-life of about 7,000 steps)
    to Adam's fast one:

    .. math::
       m_{1,t} = \beta_1 m_{1,t-1} + (1-\beta_1)\, g_t, \qquad
       m_{2,t} = \beta_{3,t}\, m_{2,t-1} + (1-\beta_{3,t})\, g_t, \qquad
       \nu_t = \beta_2 \nu_{t-1} + (1-\beta_2)\, |g_t|^2,

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{m_{1,t} / (1-\beta_1^t)
       + \alpha_t\, m_{2,t}}{\sqrt{\nu_t / (1-\beta_2^t) + \epsilon_{root}} +
       \epsilon} + \lambda\, \theta_{t-1} \right)

    with zero initial states; :math:`m_2` is not corrected for bias, so it
    fills slowly. ``b3`` and ``alpha`` may be schedules of the step count (0
    at the first step), as in optax. The paper warms both up over
    :math:`T_{\alpha} = T_{\beta_3}` steps (often the whole run), which
    large :math:`\beta_3` needs to stay stable: :math:`\alpha_t` linearly
    from 0 (``alpha=gradtx.linear_schedule(0.0, α, T)``), and
    :math:`\beta_{3,t}` so that its half-life :math:`\ln \tfrac12 / \ln
    \beta` grows linearly from :math:`\beta_1`'s to :math:`\beta_3`'s.
    :math:`\lambda` is multiplied by the learning rate, as in :func:`adamw`.

    Chain: ``scale_by_ademamix(β1, β2, β3, α, ε, ε_root, mu_dtype)``,
    ``add_decayed_weights(λ, mask)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      b3: :math:`\beta_3 \in [0, 1)`, a scalar or a schedule.
      alpha: :math:`\alpha \ge 0`, a scalar or a schedule.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m_1, m_2` (default: each param's).
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); ``None``: all.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter (or a schedule's value) is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.ademamix(0.1, b3=0.5, alpha=gradtx.linear_schedule(0.0, 5.0, 100))
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # alpha_0 = 0: the first step is Adam's, -η sign(g)
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: no counterpart in ``torch.optim``.

    References:
      Pagliardini, Ablin & Grangier, *The AdEMAMix Optimizer: Better, Faster,
      Older*, ICLR 2025, https://arxiv.org/abs/2409.03137
    """
    return chain(
        scale_by_ademamix(b1, b2, b3, alpha, eps, eps_root, mu_dtype),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )
