"""Averaged SGD: SGD with a decaying step size, and the running average of its
iterates kept for evaluation (Polyak-Juditsky averaging)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule, Schedule
from gradtx.transforms import (
    add_decayed_weights,
    asgd_eval_params,
    polyak_averaging,
    scale_by_learning_rate,
)

__all__ = ["asgd"]


def _asgd_step_size(
    learning_rate: ScalarOrSchedule, lambd: Any, alpha: Any
) -> Schedule:
    r""":math:`\eta_t = \eta / (1 + \lambda \eta t)^\alpha` (0-based :math:`t`)."""

    def schedule(count: Any) -> Any:
        lr = learning_rate(count) if callable(learning_rate) else learning_rate
        t = jnp.asarray(count, jnp.result_type(float))
        return lr / (1 + lambd * lr * t) ** alpha

    return schedule


def _eval_params(state: Any, params: Any) -> Any:
    """ASGD's average ``ax`` (the registry's evaluation params)."""
    del params
    return asgd_eval_params(state)


@register(
    eval_params=_eval_params,
    year=1992,
    optax=None,
    pytorch=Counterpart("torch.optim.ASGD"),
    # A small t0, so that the catalogue's few steps are averaged.
    examples=[
        Example(
            "asgd",
            {"learning_rate": 0.05, "lambd": 1e-3, "t0": 2.0, "weight_decay": 0.01},
        )
    ],
    # Learning rate: the best test accuracy of 1e-3 ... 3 with `gradtx
    # compare` on the digits (5 epochs, 1 seed; PyTorch's t0: no averaging).
    presets=[Preset("asgd", 1.0, default_run=False)],
)
@validate.named("asgd")
def asgd(
    learning_rate: ScalarOrSchedule,
    lambd: Any = 1e-4,
    alpha: Any = 0.75,
    t0: Any = 1e6,
    weight_decay: Any = 0.0,
) -> GradientTransformation:
    r"""Averaged SGD, as ``torch.optim.ASGD``: a decaying step, averaged iterates.

    Polyak & Juditsky 1992 average the iterates of SGD; the step size and the
    start of the averaging are Bottou's (2012, section 5.3), as in PyTorch:

    .. math::
       \eta_t = \frac{\eta}{(1 + \lambda \eta (t-1))^{\alpha}}, \qquad
       \theta_t = \theta_{t-1} - \eta_t \big(g_t + (\lambda + w)\,
       \theta_{t-1}\big),

    .. math::
       \bar\theta_t = \bar\theta_{t-1} + \mu_t (\theta_t - \bar\theta_{t-1}),
       \qquad \mu_t = \frac{1}{\max(1,\ t - 1 - t_0)}

    (:math:`t` counted from 1). :math:`\lambda` is the strength of the L2
    regularization Bottou's schedule assumes, so it also decays the weights
    (PyTorch's ``lambd``, 1e-4 by default); :math:`w` is an extra coupled L2
    weight decay. :math:`\bar\theta_t = \theta_t` until step :math:`t_0 + 2`;
    then it is the mean of the iterates since. Training goes on from
    :math:`\theta`; evaluate at :math:`\bar\theta`, read with
    :func:`gradtx.asgd_eval_params` (``gradtx.tree_get(state,
    "PolyakAveragingState").ax``). PyTorch's default :math:`t_0 = 10^6` means
    no averaging in most runs: pass e.g. the number of steps of one epoch.

    Chain: ``add_decayed_weights(λ + w)``, ``scale_by_learning_rate(η_t)``,
    ``polyak_averaging(t0)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule (then
        :math:`\eta_t` uses its value at each step).
      lambd: :math:`\lambda \ge 0`.
      alpha: :math:`\alpha \ge 0`, the power of the step's decay.
      t0: :math:`t_0 \ge 0`, the step after which averaging starts.
      weight_decay: :math:`w \ge 0`.

    Returns:
      A :class:`~gradtx.GradientTransformation` (its ``update`` needs the
      params).

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.asgd(0.1, lambd=0.0, t0=0)
      >>> params = jnp.array([0.0])
      >>> state = tx.init(params)
      >>> for _ in range(3):  # params 0.1, 0.2, 0.3
      ...     u, state = tx.update(jnp.array([-1.0]), state, params)
      ...     params = params + u
      >>> gradtx.asgd_eval_params(state)  # the mean of the last two
      Array([0.25], dtype=float32)

    PyTorch: ``torch.optim.ASGD(p, lr, lambd, alpha, t0, weight_decay)`` is
    ``gradtx.asgd(lr, lambd, alpha, t0, weight_decay)``; its state's ``ax`` is
    ``gradtx.asgd_eval_params(state)``. optax has no ASGD.

    References:
      Polyak & Juditsky, *Acceleration of Stochastic Approximation by
      Averaging*, SIAM Journal on Control and Optimization 1992,
      https://doi.org/10.1137/0330046
      Bottou, *Stochastic Gradient Descent Tricks*, Neural Networks: Tricks of
      the Trade 2012, https://doi.org/10.1007/978-3-642-35289-8_25
    """
    validate.number(
        "asgd", "learning_rate", learning_rate, low=0.0, allow_schedule=True
    )
    validate.number("asgd", "lambd", lambd, low=0.0)
    validate.number("asgd", "alpha", alpha, low=0.0)
    validate.number("asgd", "weight_decay", weight_decay, low=0.0)
    return chain(
        add_decayed_weights(lambd + weight_decay),
        scale_by_learning_rate(_asgd_step_size(learning_rate, lambd, alpha)),
        polyak_averaging(t0),
    )
