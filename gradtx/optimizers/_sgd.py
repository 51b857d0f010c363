"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._momentum import momentum_stage, with_momentum
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_learning_rate

__all__ = ["sgd"]

_LR = ("learning_rate",)


@register(
    year=1964,
    optax=Counterpart("optax.sgd", {"momentum_after_lr": False}),
    pytorch=Counterpart("torch.optim.SGD", {"momentum_after_lr": False}),
    examples=[
        Example("sgd", {"learning_rate": 0.05}),
        Example("sgd_schedule", {"learning_rate": 0.05}, scheduled=_LR),
        Example(
            "momentum",
            {"learning_rate": 0.05, "momentum": 0.9, "momentum_after_lr": False},
            scheduled=_LR,
        ),
        Example(
            "nesterov",
            {
                "learning_rate": 0.05,
                "momentum": 0.9,
                "nesterov": True,
                "momentum_after_lr": False,
            },
        ),
        Example(
            "momentum_paper",
            {"learning_rate": 0.05, "momentum": 0.9},
            parity=False,
            scheduled=_LR,
        ),
    ],
    presets=[
        Preset("sgd", 0.05),
        Preset("momentum", 0.05, kwargs={"momentum": 0.9}),
        Preset("nesterov", 0.05, kwargs={"momentum": 0.9, "nesterov": True}),
    ],
)
@validate.named("sgd")
def sgd(
    learning_rate: ScalarOrSchedule,
    momentum: Any = None,
    nesterov: bool = False,
    accumulator_dtype: Any = None,
    *,
    momentum_after_lr: bool = True,
) -> GradientTransformation:
    r"""Stochastic gradient descent, with optional (Nesterov) momentum.

    Without momentum, :math:`\theta_t = \theta_{t-1} - \eta_t g_t`. With
    momentum :math:`\mu` (Polyak 1964; Sutskever et al. 2013, eq. 1-2):

    .. math::
       v_t = \mu\, v_{t-1} - \eta_t\, g_t, \qquad \theta_t = \theta_{t-1} + v_t

    and with ``nesterov=True`` (Nesterov 1983, in the form of Sutskever et al.
    2013 that evaluates the gradient at the current params),
    :math:`\theta_t = \theta_{t-1} + \mu\, v_t - \eta_t\, g_t`.

    ``momentum_after_lr=False`` gives the form of PyTorch's ``torch.optim.SGD``
    and optax's ``sgd``, where the velocity sums raw gradients and the learning
    rate scales it: :math:`b_t = \mu b_{t-1} + g_t,\ \theta_t = \theta_{t-1} -
    \eta_t b_t`. The two agree for a constant learning rate; with a schedule,
    the paper's form lets a change of :math:`\eta` act gradually instead of
    rescaling the whole velocity at once.

    Chain: ``scale_by_learning_rate(η)``, then ``trace(μ, nesterov)`` (or the
    reverse with ``momentum_after_lr=False``).

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      momentum: :math:`\mu \in [0, 1)`, or ``None`` for plain SGD.
      nesterov: use Nesterov momentum (needs ``momentum``).
      accumulator_dtype: dtype of the velocity (default: each param's).
      momentum_after_lr: the paper's order (True) or PyTorch's (False).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range, or ``nesterov=True``
        without a momentum.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.sgd(0.1, momentum=0.9)
      >>> params = jnp.array([1.0])
      >>> updates, state = tx.update(jnp.array([2.0]), tx.init(params), params)
      >>> gradtx.apply_updates(params, updates)
      Array([0.8], dtype=float32)

    PyTorch: ``torch.optim.SGD(p, lr, momentum, nesterov=...)`` is
    ``gradtx.sgd(lr, momentum, nesterov, momentum_after_lr=False)``.

    References:
      Polyak, *Some methods of speeding up the convergence of iteration methods*,
      USSR Comp. Math. and Math. Physics 4(5), 1964.
      Sutskever, Martens, Dahl & Hinton, *On the importance of initialization
      and momentum in deep learning*, ICML 2013,
      https://proceedings.mlr.press/v28/sutskever13.html
    """
    return with_momentum(
        "sgd",
        None,
        scale_by_learning_rate(learning_rate),
        momentum_stage("sgd", momentum, nesterov, accumulator_dtype),
        momentum_after_lr,
    )
