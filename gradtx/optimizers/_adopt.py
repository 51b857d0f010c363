"""ADOPT: Adam that converges with any second-moment decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import scale_by_adopt, scale_by_learning_rate

__all__ = ["adopt"]


@register(
    year=2024,
    optax=Counterpart("optax.contrib.adopt"),
    pytorch=None,
    complex_params=False,
    examples=[Example("adopt", {"learning_rate": 0.05})],
    # Chosen by `gradtx compare --learning-rates 1e-3 3e-3 1e-2 3e-2 0.1
    # --epochs 5 --seeds 1` (the best test accuracy).
    presets=[Preset("adopt", 1e-2, default_run=False)],
)
@validate.named("adopt")
def adopt(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.9999,
    eps: Any = 1e-6,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    use_clipping: bool = True,
    clip_value_fn: Callable[[jax.Array], Any] | None = None,
) -> GradientTransformation:
    r"""ADOPT: the gradient is normalized before the momentum, by the previous
    second moment (Taniguchi et al. 2024).

    Adam's step :math:`m_t / \sqrt{v_t}` correlates the current gradient
    with its own normalizer, which is why Adam needs a :math:`\beta_2` tuned
    to the problem to converge. ADOPT divides each gradient by the second
    moment *before* it (which does not contain it) and only then averages:

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, \mathrm{clip}\!\left(
       \frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)},\ c_t\right), \qquad
       \theta_t = \theta_{t-1} - \eta_t\, m_t,

    .. math::
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2

    with :math:`v_0 = g_0^2` and :math:`m_0 = 0`: the first call only
    measures :math:`g_0` and returns a zero update. The clipping to
    :math:`[-c_t, c_t]`, :math:`c_t = t^{1/4}`, is the paper's stabilized
    form (its experiments' and its code's default); ``use_clipping=False`` is
    Algorithm 2 without it. ``nesterov=True`` steps along
    :math:`\beta_1 m_t + (1-\beta_1)\, \mathrm{clip}(\cdot)`.

    Complex params are refused with clipping (an elementwise clip is not
    defined for them).

    Chain: ``scale_by_adopt(β1, β2, ε, mu_dtype, ...)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`, the floor of :math:`\sqrt{v}`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      nesterov: use Nesterov momentum.
      use_clipping: clip the normalized gradient to :math:`[-c_t, c_t]`.
      clip_value_fn: :math:`c_t` as a function of the int32 step count
        :math:`t` (0 at the first call); ``None``: :math:`t^{1/4}`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``clip_value_fn`` is not callable, ``mu_dtype`` is not a
        floating dtype, or (with clipping) a param is complex (at ``init``).

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adopt(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> state = tx.init(params)
      >>> updates, state = tx.update(jnp.array([3.0, -0.5]), state, params)
      >>> updates  # the first call measures v_0 = g_0^2
      Array([-0.,  0.], dtype=float32)
      >>> updates, state = tx.update(jnp.array([3.0, -0.5]), state, params)
      >>> updates  # -η (1 - β1) clip(g_1 / |g_0|, 1)
      Array([-0.01,  0.01], dtype=float32)

    PyTorch: no counterpart in ``torch.optim``.

    References:
      Taniguchi, Harada, Minegishi, Oshima, Jeong, Nagahara, Iiyama, Suzuki,
      Iwasawa & Matsuo, *ADOPT: Modified Adam Can Converge with Any β2 with
      the Optimal Rate*, NeurIPS 2024, https://arxiv.org/abs/2411.02853
    """
    return chain(
        scale_by_adopt(
            b1,
            b2,
            eps,
            mu_dtype,
            nesterov=nesterov,
            use_clipping=use_clipping,
            clip_value_fn=clip_value_fn,
        ),
        scale_by_learning_rate(learning_rate),
    )
