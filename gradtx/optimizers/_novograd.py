"""NovoGrad: normalized gradients with a second moment per layer."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_learning_rate, scale_by_novograd

__all__ = ["novograd"]


@register(
    year=2019,
    optax=Counterpart("optax.novograd"),
    pytorch=None,
    examples=[
        Example(
            "novograd",
            {"learning_rate": 0.02, "b2": 0.9, "weight_decay": 1e-2},
            scheduled=("learning_rate",),
        )
    ],
    # The best of 1e-3-0.1 (5 epochs on digits, gradtx compare).
    presets=[Preset("novograd", 3e-2, default_run=False)],
)
@validate.named("novograd")
def novograd(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.25,
    eps: Any = 1e-6,
    eps_root: Any = 0.0,
    weight_decay: Any = 0.0,
) -> GradientTransformation:
    r"""NovoGrad: gradients normalized per layer, momentum, weight decay.

    Ginsburg et al. 2019, Algorithm 1. For each layer (a leaf) with weights
    :math:`w` and gradient :math:`g`, a scalar second moment and a momentum:

    .. math::
       v_t = \beta_2 v_{t-1} + (1-\beta_2) \lVert g_t\rVert^2, \qquad
       m_t = \beta_1 m_{t-1} + \frac{g_t}{\sqrt{v_t + \epsilon_{root}} +
       \epsilon} + \lambda w_{t-1}, \qquad
       w_t = w_{t-1} - \eta_t m_t

    started with :math:`v_1 = \lVert g_1\rVert^2` and :math:`m_1 = g_1 /
    (\sqrt{v_1} + \epsilon) + \lambda w_0` (the paper's first step has no
    :math:`\epsilon`; it only keeps a zero gradient from dividing 0 by 0). The
    decay :math:`\lambda w` enters after the normalization, so it is not
    rescaled by the gradient's size. One scalar :math:`v` per layer: half of
    Adam's memory.

    Chain: ``scale_by_novograd(β1, β2, ε, ε_root, λ)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)` (the paper's experiments: 0.95).
      b2: :math:`\beta_2 \in [0, 1)` (optax's default 0.25; the paper's
        experiments: 0.98).
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0``.
      eps_root: :math:`\epsilon_{root} \ge 0`.
      weight_decay: :math:`\lambda \ge 0`, a number (needs ``params`` when
        not 0).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.novograd(0.1, eps=1e-12)
      >>> params = jnp.zeros(2)
      >>> u, _ = tx.update(jnp.array([3.0, -4.0]), tx.init(params), params)
      >>> u.round(4)  # -0.1 * g / |g|
      Array([-0.06,  0.08], dtype=float32)

    PyTorch: none in ``torch.optim``.

    References:
      Ginsburg, Castonguay, Hrinchuk, Kuchaiev, Lavrukhin, Leary, Li, Nguyen,
      Zhang & Cohen, *Stochastic Gradient Methods with Layer-wise Adaptive
      Moments for Training of Deep Networks*, 2019,
      https://arxiv.org/abs/1905.11286
    """
    return chain(
        scale_by_novograd(
            b1=b1, b2=b2, eps=eps, eps_root=eps_root, weight_decay=weight_decay
        ),
        scale_by_learning_rate(learning_rate),
    )
