"""AdaGrad: per-coordinate steps that shrink with the sum of past squares."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_learning_rate, scale_by_rss

__all__ = ["adagrad"]


@register(
    year=2011,
    optax=Counterpart(
        "optax.adagrad",
        {"initial_accumulator_value": 0.1, "eps": 1e-7, "eps_in_sqrt": True},
    ),
    pytorch=Counterpart("torch.optim.Adagrad"),
    examples=[
        Example(
            "adagrad",
            {
                "learning_rate": 0.05,
                "initial_accumulator_value": 0.1,
                "eps": 1e-7,
                "eps_in_sqrt": True,
            },
            scheduled=("learning_rate",),
        ),
        Example("adagrad_paper", {"learning_rate": 0.05}, parity=False),
    ],
    presets=[Preset("adagrad", 0.05)],
)
@validate.named("adagrad")
def adagrad(
    learning_rate: ScalarOrSchedule,
    initial_accumulator_value: Any = 0.0,
    eps: Any = 1e-10,
    *,
    eps_in_sqrt: bool = False,
) -> GradientTransformation:
    r"""AdaGrad: per-coordinate steps shrinking with the sum of past squares.

    Duchi et al. 2011 (diagonal form, Figure 1 with :math:`H_t = \delta I +
    \mathrm{diag}(G_t)^{1/2}`):

    .. math::
       G_t = G_0 + \sum_{s=1}^{t} g_s^2, \qquad
       \theta_t = \theta_{t-1} - \eta_t \frac{g_t}{\sqrt{G_t} + \delta}

    with :math:`G_0 = 0` and :math:`\delta` = ``eps`` outside the root, as in
    the paper and PyTorch. optax and TensorFlow use :math:`G_0 = 0.1` and
    :math:`g_t / \sqrt{G_t + \epsilon}`: ``adagrad(η,
    initial_accumulator_value=0.1, eps=1e-7, eps_in_sqrt=True)``. A coordinate
    whose :math:`G_t` is 0 gets no update (not NaN, also with ``eps=0``).

    Chain: ``scale_by_rss(G_0, δ)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      initial_accumulator_value: :math:`G_0 \ge 0`.
      eps: :math:`\delta \ge 0`.
      eps_in_sqrt: put :math:`\delta` inside the root (optax's form).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adagrad(1.0, eps=0.0)
      >>> params = jnp.array([0.0])
      >>> updates, _ = tx.update(jnp.array([4.0]), tx.init(params), params)
      >>> updates  # -η g / sqrt(g^2)
      Array([-1.], dtype=float32)

    PyTorch: ``torch.optim.Adagrad(p, lr, eps=1e-10)`` is ``gradtx.adagrad(lr)``.

    References:
      Duchi, Hazan & Singer, *Adaptive Subgradient Methods for Online Learning
      and Stochastic Optimization*, JMLR 12, 2011,
      https://jmlr.org/papers/v12/duchi11a.html
    """
    return chain(
        scale_by_rss(initial_accumulator_value, eps, eps_in_sqrt=eps_in_sqrt),
        scale_by_learning_rate(learning_rate),
    )
