"""Noisy SGD: SGD on gradients with annealed Gaussian noise."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import add_noise, scale_by_learning_rate

__all__ = ["noisy_sgd"]


@register(
    year=2015,
    optax=Counterpart("optax.noisy_sgd"),
    pytorch=None,
    examples=[
        Example(
            "noisy_sgd",
            {"learning_rate": 0.05, "eta": 0.05, "key": 0},
            scheduled=("learning_rate",),
        )
    ],
    # The best of 1e-3-1 (5 epochs on digits, gradtx compare). The key is
    # fixed: every seed of a comparison draws the same noise (the seeds still
    # differ in their initial weights and batch order).
    presets=[Preset("noisy_sgd", 0.3, kwargs={"key": 0}, default_run=False)],
)
@validate.named("noisy_sgd")
def noisy_sgd(
    learning_rate: ScalarOrSchedule,
    eta: Any = 0.01,
    gamma: Any = 0.55,
    key: Any = None,
    *,
    seed: int | None = None,
) -> GradientTransformation:
    r"""SGD with annealed Gaussian gradient noise.

    Neelakantan et al. 2015:

    .. math::
       \tilde g_t = g_t + \mathcal N(0, \sigma_t^2), \qquad
       \sigma_t^2 = \frac{\eta}{(1 + t)^\gamma}, \qquad
       \theta_t = \theta_{t-1} - \alpha_t \tilde g_t

    with :math:`t = 0, 1, \dots` the step and :math:`\alpha` the learning
    rate (the paper's :math:`\eta \in \{0.01, 0.3, 1\}`, :math:`\gamma =
    0.55`). The noise is drawn from ``key``, which the state carries on: the
    same key gives the same run, under ``jit`` and ``vmap`` too.

    Chain: ``add_noise(η, γ, key)``, ``scale_by_learning_rate(α)``.

    Args:
      learning_rate: :math:`\alpha \ge 0`, a scalar or a schedule.
      eta: :math:`\eta \ge 0`, the noise variance at the first step.
      gamma: :math:`\gamma \ge 0`, the annealing exponent.
      key: a PRNG key or an int seed; required (optax's default, None,
        stands for 0 with a warning).
      seed: optax's deprecated spelling of an int ``key``; give one of the two.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``key`` is missing or not a key.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> tx = gradtx.noisy_sgd(0.1, eta=0.0, key=jax.random.key(0))
      >>> tx.update(jnp.array([1.0]), tx.init(jnp.zeros(1)))[0]  # no noise
      Array([-0.1], dtype=float32)

    PyTorch: none in ``torch.optim``.

    References:
      Neelakantan, Vilnis, Le, Sutskever, Kaiser, Kurach & Martens, *Adding
      Gradient Noise Improves Learning for Very Deep Networks*, 2015,
      https://arxiv.org/abs/1511.06807
    """
    return chain(
        add_noise(eta, gamma, key, seed=seed), scale_by_learning_rate(learning_rate)
    )
