"""Nesterov-accelerated Adam: NAdam (with Dozat's warming momentum), NAdamW
(decoupled weight decay) and Adan."""

from __future__ import annotations

import functools
from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_adan,
    scale_by_learning_rate,
    scale_by_nadam,
)
from gradtx.tree import Mask, decay_mask

__all__ = ["adan", "nadam", "nadamw"]

# The mask of an example: decay every param but the biases.
_NOT_BIASES = functools.partial(decay_mask, no_decay_names={"bias"}, min_ndim=0)
# optax's nadam is Adam with Nesterov momentum: a constant mu_t = b1.
_CONSTANT_MOMENTUM = {"momentum_decay": None}


def _nadam_scaling(
    b1: Any,
    b2: Any,
    eps: Any,
    eps_root: Any,
    mu_dtype: Any,
    nesterov: bool,
    momentum_decay: Any,
) -> GradientTransformation:
    """NAdam's scaling: Dozat's schedule, a constant momentum, or plain Adam."""
    fn = validate.who("nadam")
    validate.boolean(fn, "nesterov", nesterov)
    if momentum_decay is not None:
        validate.number(fn, "momentum_decay", momentum_decay, low=0.0)
    if not nesterov or momentum_decay is None:
        return scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov)
    return scale_by_nadam(
        b1, b2, eps, eps_root, mu_dtype, momentum_decay=momentum_decay
    )


@register(
    year=2016,
    optax=Counterpart("optax.nadam", _CONSTANT_MOMENTUM),
    pytorch=Counterpart("torch.optim.NAdam"),
    examples=[
        Example("nadam", {"learning_rate": 0.05, **_CONSTANT_MOMENTUM}),
        Example(
            "nadam_momentum_decay",
            {"learning_rate": 0.05},
            parity=False,
            scheduled=("learning_rate",),
        ),
    ],
    # Chosen by `gradtx compare --learning-rates 1e-3 3e-3 1e-2 3e-2 0.1
    # --epochs 5 --seeds 1` (the best test accuracy).
    presets=[Preset("nadam", 1e-2, default_run=False)],
)
@validate.named("nadam")
def nadam(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = True,
    momentum_decay: Any = 4e-3,
) -> GradientTransformation:
    r"""NAdam: Adam with Nesterov momentum (Dozat 2016, Algorithm 2).

    With the warming momentum schedule :math:`\mu_t = \beta_1 (1 -
    \tfrac12\, 0.96^{t \psi})` (:math:`\psi` = ``momentum_decay``; Dozat's
    0.004, as in Keras's and PyTorch's NAdam):

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, |g_t|^2,

    .. math::
       \hat m_t = \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i} +
       \frac{(1-\mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i}, \qquad
       \theta_t = \theta_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{v_t / (1-\beta_2^t)
       + \epsilon_{root}} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t` counted from 1. The momentum
    starts at :math:`\beta_1/2` and approaches :math:`\beta_1` (halfway after
    about 4,200 steps with :math:`\psi = 0.004`).

    ``momentum_decay=None`` is Algorithm 2 with a constant :math:`\mu_t =
    \beta_1`, i.e. ``adam(η, nesterov=True)``: ``optax.nadam(lr)`` is
    ``gradtx.nadam(lr, momentum_decay=None)``. ``nesterov=False`` is
    :func:`adam` (kept from optax's signature).

    Chain: ``scale_by_nadam(β1, β2, ε, ε_root, mu_dtype, momentum_decay=ψ)``
    (``scale_by_adam(..., nesterov=True)`` with ``momentum_decay=None``),
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      nesterov: Nesterov momentum (``False``: plain Adam).
      momentum_decay: :math:`\psi \ge 0`, or ``None`` for a constant
        :math:`\mu_t = \beta_1`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.nadam(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # (1 + μ_2 (1 - β1) / (1 - μ_1 μ_2)) η sign(g), μ_1 ≈ β1 / 2
      Array([-0.10564,  0.10564], dtype=float32)

    PyTorch: ``torch.optim.NAdam(p, lr, betas=(b1, b2), eps, momentum_decay=ψ)``
    is ``gradtx.nadam(lr, b1, b2, eps, momentum_decay=ψ)``.

    References:
      Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop,
      https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
    """
    return chain(
        _nadam_scaling(b1, b2, eps, eps_root, mu_dtype, nesterov, momentum_decay),
        scale_by_learning_rate(learning_rate),
    )


@register(
    year=2019,
    optax=Counterpart("optax.nadamw", _CONSTANT_MOMENTUM),
    pytorch=Counterpart("torch.optim.NAdam", {"weight_decay": 0.0}),
    decoupled_weight_decay=True,
    examples=[
        Example(
            "nadamw",
            {
                "learning_rate": 0.05,
                "weight_decay": 0.1,
                "mask": _NOT_BIASES,
                **_CONSTANT_MOMENTUM,
            },
        ),
    ],
    # Chosen by a learning-rate sweep (see nadam), at AdamW's preset decay.
    presets=[Preset("nadamw", 1e-2, weight_decay=1e-2, default_run=False)],
)
@validate.named("nadamw")
def nadamw(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Mask | None = None,
    *,
    nesterov: bool = True,
    momentum_decay: Any = 4e-3,
) -> GradientTransformation:
    r"""NAdamW: NAdam with weight decay decoupled from the gradient.

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{\hat m_t}{\sqrt{\hat v_t
       + \epsilon_{root}} + \epsilon} + \lambda\, \theta_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` as in :func:`nadam` (Dozat 2016) and the
    decay of :func:`adamw` (Loshchilov & Hutter 2019), :math:`\lambda`
    multiplied by the learning rate. ``optax.nadamw(lr)`` is
    ``gradtx.nadamw(lr, momentum_decay=None)`` (a constant momentum).

    Chain: ``scale_by_nadam`` (``scale_by_adam(..., nesterov=True)`` with
    ``momentum_decay=None``), ``add_decayed_weights(λ, mask)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); a pytree of
        bools or a function of the params. ``None``: all.
      nesterov: Nesterov momentum (``False``: :func:`adamw`).
      momentum_decay: :math:`\psi \ge 0`, or ``None`` for a constant
        :math:`\mu_t = \beta_1`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.nadamw(0.1, weight_decay=0.5)
      >>> params = jnp.array([2.0])
      >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(params), params)
      >>> updates  # -0.1 * (1 + 0.5 * 2)
      Array([-0.2], dtype=float32)

    PyTorch: ``torch.optim.NAdam(p, lr, betas, eps, weight_decay=λ,
    momentum_decay=ψ, decoupled_weight_decay=True)`` is ``gradtx.nadamw(lr,
    b1, b2, eps, weight_decay=λ, momentum_decay=ψ)``; PyTorch's default decay
    is 0 (``gradtx.nadamw(lr, weight_decay=0)``, which is :func:`nadam`).

    References:
      Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop,
      https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
      https://arxiv.org/abs/1711.05101
    """
    return chain(
        _nadam_scaling(b1, b2, eps, eps_root, mu_dtype, nesterov, momentum_decay),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


@register(
    year=2024,
    optax=Counterpart("optax.adan", {"diff_weight": 0.08}),
    pytorch=None,
    decoupled_weight_decay=True,
    examples=[
        Example(
            "adan",
            {"learning_rate": 0.05, "weight_decay": 0.02, "mask": _NOT_BIASES},
            parity=False,  # optax weights the differences by 1 - b2
        ),
    ],
    # Chosen by a learning-rate sweep (see nadam).
    presets=[Preset("adan", 3e-2, default_run=False)],
)
@validate.named("adan")
def adan(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.98,
    b2: Any = 0.92,
    b3: Any = 0.99,
    eps: Any = 1e-8,
    eps_root: Any = 1e-8,
    weight_decay: ScalarOrSchedule = 0.0,
    mask: Mask | None = None,
    *,
    diff_weight: Any = None,
) -> GradientTransformation:
    r"""Adan: adaptive Nesterov momentum without a look-ahead gradient.

    Xie et al. 2024, Algorithm 1, with the decays written as in Adam
    (:math:`\beta_1 = 0.98` here is the paper's :math:`1 - 0.02`) and the
    bias corrections of the authors' code. With :math:`d_t = g_t - g_{t-1}`
    (:math:`d_1 = 0`) and :math:`\omega = \beta_2` (the paper's :math:`1 -
    \beta_2`):

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \quad
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, d_t, \quad
       n_t = \beta_3 n_{t-1} + (1-\beta_3)\, |g_t + \omega\, d_t|^2,

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{\hat m_t + \omega\,
       \hat v_t}{\sqrt{\hat n_t + \epsilon_{root}} + \epsilon} +
       \lambda\, \theta_{t-1} \right)

    where hats divide by :math:`1 - \beta^t` of their decay. The paper starts
    the averages from the first gradient (:math:`m_0 = g_0`, :math:`n_0 =
    g_0^2`) where its authors' code starts them at 0 and corrects for bias,
    as here; and it decays the weights by a proximal step, :math:`\theta \leftarrow
    (\theta - \eta u) / (1 + \eta\lambda)`, where gradtx decays as
    :func:`adamw` does (the code's ``no_prox=True``; equal to first order in
    :math:`\eta\lambda`).

    optax weights the differences by :math:`1-\beta_2 = 0.08` instead of
    :math:`\beta_2 = 0.92`: ``optax.adan(lr)`` is ``gradtx.adan(lr,
    diff_weight=0.08)``.

    Chain: ``scale_by_adan(β1, β2, β3, ε, ε_root, diff_weight=ω)``,
    ``add_decayed_weights(λ, mask)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      b3: :math:`\beta_3 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); ``None``: all.
      diff_weight: :math:`\omega \ge 0`; ``None`` is ``b2``.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adan(0.1, eps_root=0.0)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # no difference yet: the first step is -η sign(g)
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: no counterpart in ``torch.optim`` (the authors' ``Adan(p, lr,
    betas=(b1, b2, b3), eps, weight_decay=λ, no_prox=True)`` is
    ``gradtx.adan(lr, b1, b2, b3, eps, eps_root=0.0, weight_decay=λ)``).

    References:
      Xie, Zhou, Li, Lin & Yan, *Adan: Adaptive Nesterov Momentum Algorithm
      for Faster Optimizing Deep Models*, IEEE TPAMI 2024,
      https://arxiv.org/abs/2208.06677
    """
    return chain(
        scale_by_adan(b1, b2, b3, eps, eps_root, diff_weight=diff_weight),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )
