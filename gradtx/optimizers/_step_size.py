"""Polyak SGD: a step size from the loss value (SPS)."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_learning_rate, scale_by_polyak

__all__ = ["polyak_sgd"]


@register(
    year=2021,
    optax=Counterpart("optax.polyak_sgd", {"scaling_in_norm": True}),
    pytorch=None,
    examples=[Example("polyak_sgd", {"max_learning_rate": 0.5, "f_min": -1.0})],
    # The comparison tool passes each batch's loss as value; its learning
    # rate is max_learning_rate here. 1.0 (optax's default): 96.7% after 5
    # epochs, 1 seed, as 3.0; 0.3 gave 96.1%, 0.1 95.3%.
    presets=[Preset("polyak_sgd", 1.0, default_run=False)],
)
@validate.named("polyak_sgd")
def polyak_sgd(
    max_learning_rate: Any = 1.0,
    scaling: ScalarOrSchedule = 1.0,
    f_min: Any = 0.0,
    eps: Any = 0.0,
    variant: str = "sps",
    *,
    scaling_in_norm: bool = False,
) -> GradientTransformation:
    r"""SGD with the stochastic Polyak step size (SPS\ :sub:`max`).

    Loizou, Vaswani, Hadj Laradji & Lacoste-Julien 2021 (SPS\ :sub:`max` with
    :math:`c = 1`), after Polyak 1987; the loss value :math:`f(\theta_t)` is
    passed to ``update`` as ``value``:

    .. math::
       \gamma_t = \min\!\left\{\frac{f(\theta_t) - f^\star}{\lVert g_t\rVert^2 +
       \epsilon},\ \gamma_{\max}\right\}, \qquad
       \theta_{t+1} = \theta_t - s_t\, \gamma_t\, g_t

    with :math:`\lVert g\rVert` the global norm, :math:`s_t` the ``scaling``
    (a constant or a schedule) and :math:`\gamma_t = 0` where the
    denominator is 0. ``variant="sps+"`` uses :math:`(f(\theta_t) -
    f^\star)_+` (Garrigos et al. 2023). :math:`f^\star` is a lower bound of
    the loss: 0 for losses that can reach 0 (interpolating models).

    ``scaling_in_norm=True`` is optax's form (``optax.polyak_sgd``, whose
    docstring shows the formula above): it scales the gradient first, so the
    step sees :math:`\lVert s_t g_t\rVert^2`, :math:`s_t \min\{(f -
    f^\star)/(s_t^2 \lVert g_t\rVert^2 + \epsilon), \gamma_{\max}\}\, g_t`
    (the same for :math:`s = 1`).

    Chain: ``scale_by_polyak(f*, γ_max, ε, variant)``,
    ``scale_by_learning_rate(s)`` (the reverse with ``scaling_in_norm``).

    Args:
      max_learning_rate: :math:`\gamma_{\max} > 0`.
      scaling: :math:`s \ge 0`, a scalar or a schedule.
      f_min: :math:`f^\star`, a finite number.
      eps: :math:`\epsilon \ge 0`.
      variant: ``"sps"`` or ``"sps+"``.
      scaling_in_norm: optax's order (see above).

    Returns:
      A :class:`~gradtx.GradientTransformation` whose ``update`` needs
      ``value=``, the loss at the params.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: at update time, no ``value``.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> loss = lambda x: jnp.sum(x**2)  # f* = 0: one step reaches it
      >>> tx = gradtx.polyak_sgd(max_learning_rate=10.0)
      >>> x = jnp.array([1.0, -2.0])
      >>> value, grad = jax.value_and_grad(loss)(x)
      >>> u, _ = tx.update(grad, tx.init(x), x, value=value)
      >>> x + u  # gamma = 5 / 20: x - 0.25 * 2x
      Array([ 0.5, -1. ], dtype=float32)

    PyTorch: none in ``torch.optim``.

    References:
      Loizou, Vaswani, Hadj Laradji & Lacoste-Julien, *Stochastic Polyak
      Step-size for SGD: An Adaptive Learning Rate for Fast Convergence*,
      AISTATS 2021, https://arxiv.org/abs/2002.10542
      Polyak, *Introduction to Optimization*, Optimization Software, 1987.
      Garrigos, Gower & Schaipp, *Function value learning: Adaptive learning
      rates based on the Polyak stepsize and function splitting in ERM*, 2023,
      https://arxiv.org/abs/2307.14528
    """
    validate.boolean("polyak_sgd", "scaling_in_norm", scaling_in_norm)
    validate.number("polyak_sgd", "scaling", scaling, low=0.0, allow_schedule=True)
    polyak = scale_by_polyak(
        f_min=f_min, max_learning_rate=max_learning_rate, eps=eps, variant=variant
    )
    lr = scale_by_learning_rate(scaling)
    return chain(lr, polyak) if scaling_in_norm else chain(polyak, lr)
