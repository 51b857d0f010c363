"""RMSProp: divide the gradient by a running root mean square."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._momentum import momentum_stage, with_momentum
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_learning_rate, scale_by_rms, scale_by_stddev

__all__ = ["rmsprop"]


@register(
    year=2012,
    optax=Counterpart("optax.rmsprop"),
    pytorch=Counterpart(
        "torch.optim.RMSprop",
        {"decay": 0.99, "eps_in_sqrt": False, "momentum_after_lr": False},
    ),
    examples=[
        Example("rmsprop", {"learning_rate": 0.01}),
        Example(
            "rmsprop_centered_momentum",
            {
                "learning_rate": 0.05,
                "centered": True,
                "momentum": 0.9,
                "nesterov": True,
            },
            scheduled=("learning_rate",),
        ),
        Example(
            "rmsprop_pytorch",
            {
                "learning_rate": 0.01,
                "eps_in_sqrt": False,
                "momentum": 0.5,
                "momentum_after_lr": False,
            },
            parity=False,
        ),
    ],
    presets=[Preset("rmsprop", 1e-3)],
)
@validate.named("rmsprop")
def rmsprop(
    learning_rate: ScalarOrSchedule,
    decay: Any = 0.9,
    eps: Any = 1e-8,
    initial_scale: Any = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: Any = None,
    nesterov: bool = False,
    bias_correction: bool = False,
    *,
    momentum_after_lr: bool = True,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""RMSProp: divide the gradient by a running root mean square.

    Tieleman & Hinton 2012 (lecture 6e), with :math:`\epsilon` inside the root
    and the optional momentum applied to the scaled step, as in Graves 2013
    (eq. 38-41, which also gives the *centered* form):

    .. math::
       v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2, \qquad
       m_t = \rho\, m_{t-1} + (1-\rho)\, g_t \;\;(\text{centered only}),

    .. math::
       \Delta_t = \mu\, \Delta_{t-1} - \eta_t \frac{g_t}{\sqrt{v_t - m_t^2 +
       \epsilon}}, \qquad \theta_t = \theta_{t-1} + \Delta_t

    (drop :math:`m_t^2` when not centered; :math:`\mu = 0` without momentum).
    PyTorch's ``torch.optim.RMSprop`` puts :math:`\epsilon` outside the root,
    :math:`g_t / (\sqrt{v_t} + \epsilon)`, and applies the learning rate after
    the momentum: ``rmsprop(η, ρ, ε, eps_in_sqrt=False, momentum=μ,
    momentum_after_lr=False)``. Its default :math:`\rho` (``alpha``) is 0.99,
    not 0.9: ``torch.optim.RMSprop(p, lr)`` is ``rmsprop(lr, decay=0.99,
    eps_in_sqrt=False, momentum_after_lr=False)``.

    Chain: ``scale_by_rms`` (or ``scale_by_stddev`` when centered),
    ``scale_by_learning_rate(η)``, ``trace(μ)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon > 0` (0 would divide 0 by 0 for a coordinate
        whose gradients have all been 0).
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: :math:`\epsilon` inside (default) or outside the root.
      centered: divide by a running standard deviation instead of the RMS.
      momentum: :math:`\mu \in [0, 1)`, or ``None``.
      nesterov: use Nesterov momentum (needs ``momentum``).
      bias_correction: debias the running averages, as Adam does.
      momentum_after_lr: the paper's order (True) or PyTorch's (False).
      nu_dtype: dtype of :math:`v`, a real floating dtype (default: each
        param's real dtype); computed in float32 or wider either way.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``nu_dtype`` is not a real floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.rmsprop(0.1, decay=0.75, eps=1e-12)
      >>> params = jnp.array([0.0])
      >>> updates, _ = tx.update(jnp.array([2.0]), tx.init(params), params)
      >>> updates  # -0.1 * 2 / sqrt(0.25 * 4)
      Array([-0.2], dtype=float32)

    References:
      Tieleman & Hinton, *Lecture 6.5 - RMSProp*, COURSERA: Neural Networks for
      Machine Learning, 2012.
      Graves, *Generating Sequences With Recurrent Neural Networks*, 2013,
      https://arxiv.org/abs/1308.0850
    """
    validate.boolean("rmsprop", "centered", centered)
    block = scale_by_stddev if centered else scale_by_rms
    return with_momentum(
        "rmsprop",
        block(
            decay, eps, initial_scale, eps_in_sqrt, bias_correction, nu_dtype=nu_dtype
        ),
        scale_by_learning_rate(learning_rate),
        momentum_stage("rmsprop", momentum, nesterov),
        momentum_after_lr,
    )
