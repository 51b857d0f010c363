"""Adam variants whose denominator is a running maximum: AdaMax, AdaMaxW
(decoupled weight decay) and AMSGrad."""

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
    scale_by_adamax,
    scale_by_amsgrad,
    scale_by_learning_rate,
)
from gradtx.tree import Mask, decay_mask

__all__ = ["adamax", "adamaxw", "amsgrad"]

# The mask of an example: decay every param but the biases.
_NOT_BIASES = functools.partial(decay_mask, no_decay_names={"bias"}, min_ndim=0)


@register(
    year=2015,
    optax=Counterpart("optax.adamax"),
    pytorch=Counterpart("torch.optim.Adamax"),
    examples=[
        Example("adamax", {"learning_rate": 0.05}, scheduled=("learning_rate",)),
    ],
    # Chosen by `gradtx compare --learning-rates 1e-3 3e-3 1e-2 3e-2 0.1
    # --epochs 5 --seeds 1` (the best test accuracy).
    presets=[Preset("adamax", 3e-2, default_run=False)],
)
@validate.named("adamax")
def adamax(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
) -> GradientTransformation:
    r"""AdaMax: Adam with the infinity norm (Kingma & Ba 2015, Algorithm 2).

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon),

    .. math::
       \theta_t = \theta_{t-1} - \frac{\eta_t}{1-\beta_1^t}\, \frac{m_t}{u_t}

    with :math:`m_0 = u_0 = 0` and :math:`t` counted from 1. The paper's
    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` has no :math:`\epsilon`; as in
    optax and PyTorch it is added to :math:`|g_t|` inside the maximum, which
    keeps :math:`u_t > 0` for a coordinate whose gradients have all been 0.
    :math:`u_t` needs no bias correction. For complex params :math:`|g_t|` is
    the modulus.

    Chain: ``scale_by_adamax(β1, β2, ε)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`, the decay of the running maximum.
      eps: :math:`\epsilon > 0`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adamax(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # the first step has size η in each coordinate
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: ``torch.optim.Adamax(p, lr, betas=(b1, b2), eps)`` is
    ``gradtx.adamax(lr, b1, b2, eps)`` (for complex params PyTorch takes the
    real and imaginary parts as separate params). Its ``weight_decay`` is an
    L2 term: ``chain(add_decayed_weights(λ), adamax(lr))``.

    References:
      Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
      https://arxiv.org/abs/1412.6980
    """
    return chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate(learning_rate))


@register(
    year=2019,
    optax=Counterpart("optax.adamaxw"),
    pytorch=None,
    decoupled_weight_decay=True,
    examples=[
        Example(
            "adamaxw",
            {"learning_rate": 0.05, "weight_decay": 0.1, "mask": _NOT_BIASES},
        ),
    ],
    # Chosen by a learning-rate sweep (see adamax), at AdamW's preset decay.
    presets=[Preset("adamaxw", 3e-2, weight_decay=1e-2, default_run=False)],
)
@validate.named("adamaxw")
def adamaxw(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Mask | None = None,
) -> GradientTransformation:
    r"""AdaMax with weight decay decoupled from the gradient (as AdamW).

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{m_t}{(1-\beta_1^t)\,
       u_t} + \lambda\, \theta_{t-1} \right)

    with :math:`m_t, u_t` as in :func:`adamax`: Loshchilov & Hutter's
    decoupled weight decay (2019, Algorithm 2) on AdaMax, with :math:`\lambda`
    multiplied by the learning rate as in :func:`adamw`.

    Chain: ``scale_by_adamax``, ``add_decayed_weights(λ, mask)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`.
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); a pytree of
        bools or a function of the params. ``None``: all.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adamaxw(0.1, weight_decay=0.5)
      >>> params = jnp.array([2.0])
      >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(params), params)
      >>> updates  # -0.1 * (1 + 0.5 * 2)
      Array([-0.2], dtype=float32)

    PyTorch: no counterpart (``torch.optim.Adamax``'s ``weight_decay`` is a
    coupled L2 term).

    References:
      Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
      https://arxiv.org/abs/1412.6980
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
      https://arxiv.org/abs/1711.05101
    """
    return chain(
        scale_by_adamax(b1, b2, eps),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )


_CORRECTED = {"bias_correction_mu": True, "bias_correction_nu": True}


@register(
    year=2018,
    optax=Counterpart("optax.amsgrad", _CORRECTED),
    pytorch=Counterpart("torch.optim.Adam", {**_CORRECTED, "correct_after_max": True}),
    examples=[
        Example(
            "amsgrad",
            {"learning_rate": 0.05, **_CORRECTED},
            scheduled=("learning_rate",),
        ),
    ],
    # Chosen by a learning-rate sweep (see adamax), in the paper's form.
    presets=[Preset("amsgrad", 3e-3, default_run=False)],
)
@validate.named("amsgrad")
def amsgrad(
    learning_rate: ScalarOrSchedule,
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
    r"""AMSGrad: Adam whose second moment never decreases (Reddi et al. 2018).

    Algorithm 2 of the paper, with a constant :math:`\beta_1` and the
    schedule :math:`\eta_t` as the step size:

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, |g_t|^2,

    .. math::
       \hat v_t = \max(\hat v_{t-1}, v_t), \qquad
       \theta_t = \theta_{t-1} - \eta_t \frac{m_t}{\sqrt{\hat v_t +
       \epsilon_{root}} + \epsilon}

    with :math:`m_0 = v_0 = \hat v_0 = 0`. The maximum keeps the effective
    step :math:`\eta_t / \sqrt{\hat v_t}` from growing, which fixes Adam's
    non-convergence on the paper's counter-examples. The paper has no bias
    correction, so its first steps are about :math:`(1-\beta_1) /
    \sqrt{1-\beta_2} \approx 3` times those of the corrected forms.

    optax corrects both moments, the second one before the maximum
    (:math:`\hat v_t = \max(\hat v_{t-1}, v_t / (1-\beta_2^t))`, :math:`m_t /
    (1-\beta_1^t)`): ``optax.amsgrad(lr)`` is ``gradtx.amsgrad(lr,
    bias_correction_mu=True, bias_correction_nu=True)``. PyTorch (and
    TensorFlow) correct the maximum of the raw :math:`v_t` by the current
    step's :math:`1-\beta_2^t`: add ``correct_after_max=True``.

    Chain: ``scale_by_amsgrad(β1, β2, ε, ε_root, mu_dtype, ...)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      bias_correction_mu: divide :math:`m_t` by :math:`1-\beta_1^t`.
      bias_correction_nu: divide :math:`v_t` by :math:`1-\beta_2^t` before the
        maximum.
      correct_after_max: with ``bias_correction_nu``, correct the maximum of
        the raw :math:`v_t` instead (PyTorch's form).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range, or ``correct_after_max``
        without ``bias_correction_nu``.
      TypeError: ``mu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.amsgrad(0.1, b2=0.99)
      >>> params = jnp.array([1.0])
      >>> updates, _ = tx.update(jnp.array([2.0]), tx.init(params), params)
      >>> updates  # -0.1 * (0.1 * 2) / sqrt(0.01 * 4): the paper's first step
      Array([-0.1], dtype=float32)

    PyTorch: ``torch.optim.Adam(p, lr, betas=(b1, b2), eps, amsgrad=True)`` is
    ``gradtx.amsgrad(lr, b1, b2, eps, bias_correction_mu=True,
    bias_correction_nu=True, correct_after_max=True)``.

    References:
      Reddi, Kale & Kumar, *On the Convergence of Adam and Beyond*, ICLR 2018,
      https://openreview.net/forum?id=ryQu7f-RZ
    """
    return chain(
        scale_by_amsgrad(
            b1,
            b2,
            eps,
            eps_root,
            mu_dtype,
            bias_correction_mu,
            bias_correction_nu,
            correct_after_max=correct_after_max,
        ),
        scale_by_learning_rate(learning_rate),
    )
