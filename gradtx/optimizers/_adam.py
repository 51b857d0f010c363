"""Adam and AdamW (with NAdam's Nesterov momentum as an option)."""

from __future__ import annotations

import functools
from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import add_decayed_weights, scale_by_adam, scale_by_learning_rate
from gradtx.tree import Mask, decay_mask

__all__ = ["adam", "adamw"]

# The mask of an example: decay every param but the biases.
_NOT_BIASES = functools.partial(decay_mask, no_decay_names={"bias"}, min_ndim=0)


@register(
    year=2015,
    optax=Counterpart("optax.adam"),
    pytorch=Counterpart("torch.optim.Adam"),
    examples=[
        Example("adam", {"learning_rate": 0.05}),
        Example(
            "adam_schedule_nesterov",
            {"learning_rate": 0.05, "nesterov": True},
            scheduled=("learning_rate",),
        ),
    ],
    presets=[Preset("adam", 3e-3)],
)
@validate.named("adam")
def adam(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""Adam, with the bias correction of Kingma & Ba 2015 (Algorithm 1).

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, |g_t|^2,

    .. math::
       \hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad
       \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
       \theta_t = \theta_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t +
       \epsilon_{root}} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t` counted from 1. :math:`\epsilon` is
    outside the root, as in the paper, PyTorch and optax. With
    ``nesterov=True`` (NAdam, Dozat 2016), :math:`\hat m_t = \beta_1 m_t /
    (1-\beta_1^{t+1}) + (1-\beta_1) g_t / (1-\beta_1^t)`.

    Chain: ``scale_by_adam(β1, β2, ε, ε_root)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0`` (else a
        coordinate whose gradients have all been 0 gets 0/0).
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      nesterov: use NAdam's Nesterov momentum.
      nu_dtype: dtype of :math:`v`, a real floating dtype (default: each
        param's real dtype). The moments are computed in float32 or wider
        whatever their storage; with bfloat16 params, ``mu_dtype=jnp.float32,
        nu_dtype=jnp.float32`` keeps them as a float32 run would (see
        :func:`gradtx.master_weights` for the params themselves).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` or ``nu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adam(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.01]), tx.init(params), params)
      >>> updates  # the first step has size η in each coordinate
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: ``torch.optim.Adam(p, lr, betas=(b1, b2), eps)`` is
    ``gradtx.adam(lr, b1, b2, eps)``.

    References:
      Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
      https://arxiv.org/abs/1412.6980
      Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop,
      https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
    """
    return chain(
        scale_by_adam(
            b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov, nu_dtype=nu_dtype
        ),
        scale_by_learning_rate(learning_rate),
    )


@register(
    year=2019,
    optax=Counterpart("optax.adamw"),
    pytorch=Counterpart("torch.optim.AdamW", {"weight_decay": 0.01}),
    decoupled_weight_decay=True,
    examples=[
        Example("adamw", {"learning_rate": 0.05, "weight_decay": 0.1}),
        Example(
            "adamw_schedule_mask",
            {"learning_rate": 0.05, "weight_decay": 0.05, "mask": _NOT_BIASES},
            scheduled=("learning_rate", "weight_decay"),
        ),
    ],
    # PyTorch's default decay: AdamW's point is its decay.
    presets=[Preset("adamw", 3e-3, weight_decay=1e-2)],
)
@validate.named("adamw")
def adamw(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Mask | None = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    Loshchilov & Hutter 2019, Algorithm 2, with the schedule multiplier
    :math:`\eta_t` carrying the learning rate:

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{\hat m_t}{\sqrt{\hat v_t +
       \epsilon_{root}} + \epsilon} + \lambda\, \theta_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` as in :func:`adam`. The decay
    :math:`\lambda\theta` never enters :math:`m` or :math:`v`, so every weight
    shrinks by the same factor :math:`1 - \eta_t\lambda` whatever its gradient
    history; Adam with an L2 term in the loss (or
    ``chain(add_decayed_weights(λ), adam(η))``) instead divides the decay by
    :math:`\sqrt{\hat v_t}`, so weights with large gradients are barely
    regularized. As in PyTorch and optax, :math:`\lambda` is multiplied by the
    learning rate; the paper's fully decoupled :math:`\lambda'` (independent of
    the peak learning rate :math:`\alpha`) is ``weight_decay = λ' / α``.

    Chain: ``scale_by_adam``, ``add_decayed_weights(λ, mask)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0`` (else a
        coordinate whose gradients have all been 0 gets 0/0).
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); a pytree of
        bools or a function of the params. ``None``: all.
      nesterov: use NAdam's Nesterov momentum.
      nu_dtype: dtype of :math:`v`, as in :func:`adam`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` or ``nu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adamw(0.1, weight_decay=0.5)
      >>> params = jnp.array([2.0])
      >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(params), params)
      >>> updates  # -0.1 * (1 + 0.5 * 2)
      Array([-0.2], dtype=float32)

    PyTorch: ``torch.optim.AdamW(p, lr, betas, eps, weight_decay)`` is
    ``gradtx.adamw(lr, b1, b2, eps, weight_decay=weight_decay)``. PyTorch's
    default decay is 1e-2, optax's and gradtx's 1e-4: ``torch.optim.AdamW(p,
    lr)`` is ``gradtx.adamw(lr, weight_decay=0.01)``.

    References:
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
      https://arxiv.org/abs/1711.05101
    """
    return chain(
        scale_by_adam(
            b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov, nu_dtype=nu_dtype
        ),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )
