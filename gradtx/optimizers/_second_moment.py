"""Adam with another second moment: AdaBelief and Yogi."""

from __future__ import annotations

from typing import Any

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_belief, scale_by_learning_rate, scale_by_yogi

__all__ = ["adabelief", "yogi"]


@register(
    year=2020,
    optax=Counterpart("optax.adabelief"),
    pytorch=None,
    examples=[
        Example(
            "adabelief",
            {"learning_rate": 0.05, "nesterov": True},
            scheduled=("learning_rate",),
        ),
    ],
    # Chosen by `gradtx compare --learning-rates 1e-3 3e-3 1e-2 3e-2 0.1
    # --epochs 5 --seeds 1` (the best test accuracy; 1e-2 ties, with a higher
    # training loss).
    presets=[Preset("adabelief", 3e-2, default_run=False)],
)
@validate.named("adabelief")
def adabelief(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-16,
    eps_root: Any = 1e-16,
    *,
    nesterov: bool = False,
) -> GradientTransformation:
    r"""AdaBelief: Adam scaled by the belief in the gradient (Zhuang et al. 2020).

    Algorithm 2 of the paper: the second moment is that of the prediction
    error :math:`g_t - m_t`, so the step is large where the gradient is
    close to its running mean (high belief) and small where it is not.

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       s_t = \beta_2 s_{t-1} + (1-\beta_2)\, |g_t - m_t|^2 + \epsilon_{root},

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \frac{m_t / (1-\beta_1^t)}{\sqrt{s_t /
       (1-\beta_2^t)} + \epsilon}

    with :math:`m_0 = s_0 = 0`. The paper adds the same :math:`\epsilon` in
    both places; the defaults (:math:`10^{-16}` each, so that
    :math:`\sqrt{\epsilon_{root}}` is Adam's :math:`10^{-8}`) are its
    authors' package's and optax's. ``nesterov=True`` uses Dozat's form of
    :math:`\hat m_t`, as in :func:`adam`.

    Chain: ``scale_by_belief(β1, β2, ε, ε_root, nesterov=...)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon \ge 0`.
      eps_root: :math:`\epsilon_{root} \ge 0`; not both 0 (constant
        gradients have no prediction error: 0/0).
      nesterov: use Nesterov momentum.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adabelief(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # m_1 = 0.1 g, so g - m_1 = 0.9 g: the step is η / 0.9
      Array([-0.11111,  0.11111], dtype=float32)

    PyTorch: no counterpart in ``torch.optim``.

    References:
      Zhuang, Tang, Ding, Tatikonda, Dvornek, Papademetris & Duncan,
      *AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
      Gradients*, NeurIPS 2020, https://arxiv.org/abs/2010.07468
    """
    return chain(
        scale_by_belief(b1, b2, eps, eps_root, nesterov=nesterov),
        scale_by_learning_rate(learning_rate),
    )


@register(
    year=2018,
    optax=Counterpart("optax.yogi"),
    pytorch=None,
    examples=[Example("yogi", {"learning_rate": 0.05})],
    # Chosen by a learning-rate sweep (see adabelief).
    presets=[Preset("yogi", 3e-2, default_run=False)],
)
@validate.named("yogi")
def yogi(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-3,
) -> GradientTransformation:
    r"""Yogi: Adam with an additive second moment (Zaheer et al. 2018).

    The second moment moves towards :math:`|g_t|^2` by a step of
    :math:`(1-\beta_2)|g_t|^2`, not by a fraction of the gap, so it grows no
    faster than Adam's and can shrink only slowly: the effective learning
    rate cannot jump up after a few small gradients.

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       v_t = v_{t-1} - (1-\beta_2)\, \mathrm{sign}(v_{t-1} - |g_t|^2)\,
       |g_t|^2,

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t
       / (1-\beta_2^t)} + \epsilon}

    with :math:`m_0 = v_0 = 10^{-6}` and the paper's :math:`\epsilon =
    10^{-3}`. The paper's Algorithm 2, written for its analysis, starts
    from :math:`v_0 = 0` without bias correction; the authors' TensorFlow
    implementation starts :math:`v` at :math:`10^{-6}` and corrects both
    moments, as optax does (optax starts :math:`m` there too), and so does
    gradtx. ``scale_by_yogi`` takes ``initial_accumulator_value``.

    Chain: ``scale_by_yogi(β1, β2, ε)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon \ge 0`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.yogi(0.1, eps=1e-8)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # the first step has size η in each coordinate
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: no counterpart in ``torch.optim``.

    References:
      Zaheer, Reddi, Sachan, Kale & Kumar, *Adaptive Methods for Nonconvex
      Optimization*, NeurIPS 2018,
      https://papers.nips.cc/paper/2018/hash/90365351ccc7437a1309dc64e4db32a3-Abstract.html
    """
    return chain(scale_by_yogi(b1, b2, eps), scale_by_learning_rate(learning_rate))
