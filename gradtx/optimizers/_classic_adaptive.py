"""Classic adaptive step sizes: AdaDelta (no learning rate to tune) and Rprop
(step sizes driven by gradient signs alone)."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain, identity
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import (
    add_decayed_weights,
    scale,
    scale_by_adadelta,
    scale_by_learning_rate,
    scale_by_rprop,
)
from gradtx.tree import Mask

__all__ = ["adadelta", "rprop"]


@register(
    year=2012,
    optax=Counterpart("optax.adadelta"),
    pytorch=Counterpart("torch.optim.Adadelta"),
    examples=[Example("adadelta", {"learning_rate": 1.0})],
    # Learning rate: the best test accuracy of 0.03 ... 30 (Zeiler's 1
    # included) with `gradtx compare` on the digits, 5 epochs, 1 seed.
    presets=[Preset("adadelta", 3.0, default_run=False)],
)
@validate.named("adadelta")
def adadelta(
    learning_rate: ScalarOrSchedule | None = None,
    rho: Any = 0.9,
    eps: Any = 1e-6,
    weight_decay: ScalarOrSchedule = 0.0,
    weight_decay_mask: Mask | None = None,
) -> GradientTransformation:
    r"""AdaDelta: steps whose units follow from running RMS of steps and gradients.

    Zeiler 2012, Algorithm 1:

    .. math::
       E[g^2]_t = \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t^2, \qquad
       \Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}
                       {\sqrt{E[g^2]_t + \epsilon}}\, g_t,

    .. math::
       E[\Delta^2]_t = \rho\, E[\Delta^2]_{t-1} + (1-\rho)\, \Delta_t^2,
       \qquad \theta_t = \theta_{t-1} - \eta_t \Delta_t

    with :math:`E[g^2]_0 = E[\Delta^2]_0 = 0`. The paper has no learning rate
    (:math:`\eta = 1`, the default here and PyTorch's); with one,
    :math:`E[\Delta^2]` still accumulates the unscaled :math:`\Delta`, as in
    optax and PyTorch. ``weight_decay`` adds :math:`\lambda \theta_{t-1}` to
    the gradient first (coupled L2, as both). For complex params the squares
    are :math:`|\cdot|^2`.

    Chain: ``add_decayed_weights(λ, weight_decay_mask)``,
    ``scale_by_adadelta(ρ, ε)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule; ``None``: 1.
      rho: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon > 0`, inside both roots (with 0 the first step,
        and so every step, is 0).
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      weight_decay_mask: which params to decay (see :func:`gradtx.masked`);
        ``None``: all.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adadelta(rho=0.5, eps=1.0)
      >>> params = jnp.array([0.0])
      >>> updates, _ = tx.update(jnp.array([2.0]), tx.init(params), params)
      >>> updates  # -sqrt(0 + 1) / sqrt(0.5 * 4 + 1) * 2
      Array([-1.1547005], dtype=float32)

    optax: ``optax.adadelta(lr, rho, eps, weight_decay)`` is
    ``gradtx.adadelta(lr, rho, eps, weight_decay)`` (with ``learning_rate=None``
    optax ascends: its ``scale_by_learning_rate(None)`` is the identity).
    PyTorch: ``torch.optim.Adadelta(p, lr, rho, eps, weight_decay)`` is
    ``gradtx.adadelta(lr, rho, eps, weight_decay)``.

    References:
      Zeiler, *ADADELTA: An Adaptive Learning Rate Method*, 2012,
      https://arxiv.org/abs/1212.5701
    """
    decay = add_decayed_weights(weight_decay, weight_decay_mask)
    if weight_decay_mask is None and validate.concrete_float(weight_decay) == 0.0:
        decay = identity()  # the same updates, without a pass over the params
    return chain(
        decay,
        scale_by_adadelta(rho, eps),
        scale_by_learning_rate(1.0 if learning_rate is None else learning_rate),
    )


@register(
    year=1993,
    optax=None,  # optax.rprop applies each step one step late (see the README)
    pytorch=Counterpart("torch.optim.Rprop", {"backtracking": False}),
    examples=[Example("rprop", {"learning_rate": 0.01})],
    # Learning rate (the initial step size): the best test accuracy of 1e-3
    # ... 1 with `gradtx compare` on the digits, 5 epochs, 1 seed; over the
    # default 10 epochs, 3 seeds: 94.1% (3e-2: 93.4%, 1e-2: 88.3%), best after
    # 1-2 epochs. Rprop is a full-batch method: minibatch gradients flip signs
    # often, and its training loss grows after the first epoch at every rate.
    presets=[Preset("rprop", 0.1, default_run=False)],
)
@validate.named("rprop")
def rprop(
    learning_rate: Any,
    eta_minus: Any = 0.5,
    eta_plus: Any = 1.2,
    min_step_size: Any = 1e-6,
    max_step_size: Any = 50.0,
    *,
    backtracking: bool = True,
) -> GradientTransformation:
    r"""Rprop: a step size per coordinate, adapted to the signs of its gradients.

    Riedmiller & Braun 1993, Figure 2 (Rprop with weight-backtracking): with
    :math:`p_t = g_t\, g_{t-1}`,

    .. math::
       \Delta_t = \mathrm{clip}\big(\Delta_{t-1} \cdot
       \{\eta^+ \text{ if } p_t > 0;\ \eta^- \text{ if } p_t < 0;\ 1\},\
       \Delta_{min}, \Delta_{max}\big),

    .. math::
       \theta_t = \theta_{t-1} - \Delta_t \operatorname{sign}(g_t)
       \;\; (p_t \ge 0), \qquad
       \theta_t = \theta_{t-1} + \Delta_{t-1} \operatorname{sign}(g_{t-1})
       \;\; (p_t < 0,\ \text{the last step undone}),

    with :math:`\Delta_0` = ``learning_rate``; after a sign flip the stored
    gradient is set to 0, so the next step neither grows nor shrinks
    :math:`\Delta`. ``backtracking=False`` skips the step instead of undoing
    the last one (Igel & Hüsken's iRprop⁻, PyTorch's ``torch.optim.Rprop``).
    Only the signs of the gradients matter, so Rprop suits full-batch
    training; complex params are two real coordinates each (as in PyTorch).

    Chain: ``scale_by_rprop(Δ0, η⁻, η⁺, Δmin, Δmax)``, ``scale(-1)``.

    Args:
      learning_rate: :math:`\Delta_0 > 0`, the initial step size (a number,
        not a schedule: the step sizes adapt themselves).
      eta_minus: :math:`\eta^- \in (0, 1)`.
      eta_plus: :math:`\eta^+ > 1`.
      min_step_size: :math:`\Delta_{min} > 0`.
      max_step_size: :math:`\Delta_{max} \ge \Delta_{min}`.
      backtracking: undo the last step after a sign flip (the paper's); False
        skips the step (PyTorch's).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``learning_rate`` is a schedule.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.rprop(0.1)
      >>> params = jnp.array([0.0, 0.0])
      >>> state = tx.init(params)
      >>> u, state = tx.update(jnp.array([1.0, 1.0]), state, params)
      >>> u, state = tx.update(jnp.array([1.0, -1.0]), state, params)
      >>> u  # -0.1 * 1.2; the flipped coordinate's step is undone
      Array([-0.12,  0.1 ], dtype=float32)

    optax: ``optax.rprop`` returns at each step the previous step's update
    (its first update is 0), which no argument here reproduces.
    PyTorch: ``torch.optim.Rprop(p, lr, etas=(η⁻, η⁺), step_sizes=(Δmin,
    Δmax))`` is ``gradtx.rprop(lr, η⁻, η⁺, Δmin, Δmax, backtracking=False)``.

    References:
      Riedmiller & Braun, *A Direct Adaptive Method for Faster Backpropagation
      Learning: The RPROP Algorithm*, IEEE ICNN 1993,
      https://doi.org/10.1109/ICNN.1993.298623
      Igel & Hüsken, *Improving the Rprop Learning Algorithm*, NC 2000,
      https://citeseerx.ist.psu.edu/doc/10.1.1.17.1332
    """
    return chain(
        scale_by_rprop(
            learning_rate,
            eta_minus,
            eta_plus,
            min_step_size,
            max_step_size,
            backtracking=backtracking,
        ),
        scale(-1.0),
    )
