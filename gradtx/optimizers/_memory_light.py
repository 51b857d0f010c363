"""Memory-light adaptive methods: Adafactor (a factored second moment) and SM3
(one accumulator per slice of each axis)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import GradientTransformation, chain
from gradtx.optimizers._info import Counterpart, Example, Preset
from gradtx.optimizers._registry import register
from gradtx.schedules import ScalarOrSchedule, Schedule
from gradtx.transforms import (
    add_decayed_weights,
    clip_by_block_rms,
    ema,
    scale,
    scale_by_factored_rms,
    scale_by_learning_rate,
    scale_by_param_block_rms,
    scale_by_sm3,
)
from gradtx.tree import Mask

__all__ = ["adafactor", "sm3"]


def _rsqrt_capped(learning_rate: ScalarOrSchedule | None) -> Schedule:
    r""":math:`\min(\eta_t, 1/\sqrt{t})` with :math:`t` counted from 1."""

    def schedule(count: Any) -> Any:
        lr = learning_rate(count) if callable(learning_rate) else learning_rate
        t = jnp.asarray(count, jnp.result_type(float)) + 1
        return jnp.minimum(1.0 if lr is None else lr, jax.lax.rsqrt(t))

    return schedule


@register(
    year=2018,
    optax=Counterpart("optax.adafactor"),
    pytorch=Counterpart(
        "torch.optim.Adafactor",
        {
            "min_dim_size_to_factor": 1,
            "eps": None,
            "rsqrt_cap": True,
            "eps_clamp": True,
        },
    ),
    examples=[
        # Small leaves: factor every matrix, as large models' would be.
        Example(
            "adafactor",
            {"learning_rate": 0.05, "min_dim_size_to_factor": 2},
            scheduled=("learning_rate",),
        ),
        Example(
            "adafactor_pytorch",
            {
                "learning_rate": 0.3,
                "min_dim_size_to_factor": 1,
                "eps": None,
                "rsqrt_cap": True,
                "eps_clamp": True,
            },
            parity=False,
        ),
    ],
    # Learning rate: the best test accuracy of 1e-3 ... 0.1 with `gradtx
    # compare` on the digits (5 epochs, 1 seed).
    presets=[Preset("adafactor", 3e-2, default_run=False)],
)
@validate.named("adafactor")
def adafactor(
    learning_rate: ScalarOrSchedule | None = None,
    min_dim_size_to_factor: int = 128,
    decay_rate: Any = 0.8,
    decay_offset: Any = 0,
    multiply_by_parameter_scale: bool = True,
    clipping_threshold: Any = 1.0,
    momentum: Any = None,
    dtype_momentum: Any = jnp.float32,
    weight_decay_rate: ScalarOrSchedule | None = None,
    eps: Any = 1e-30,
    factored: bool = True,
    weight_decay_mask: Mask | None = None,
    *,
    rsqrt_cap: bool = False,
    eps_clamp: bool = False,
    min_scale: Any = 1e-3,
) -> GradientTransformation:
    r"""Adafactor: Adam-like steps from a factored second moment, in :math:`O(n+m)`.

    Shazeer & Stern 2018, Algorithms 4 (matrices) and 5 (other leaves), with
    :math:`\beta_1 = 0`: for an :math:`n \times m` gradient :math:`G_t`,

    .. math::
       \hat\beta_{2,t} = 1 - t^{-c}, \qquad
       R_t = \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,
       \mathrm{mean}_{cols}(G_t^2 + \epsilon_1), \qquad
       C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,
       \mathrm{mean}_{rows}(G_t^2 + \epsilon_1),

    .. math::
       U_t = G_t \Big/ \sqrt{R_t C_t^\top / \mathrm{mean}(R_t)}, \qquad
       \hat U_t = U_t / \max(1, \mathrm{RMS}(U_t)/d), \qquad
       \theta_t = \theta_{t-1} - \rho_t \max(\epsilon_2,
       \mathrm{RMS}(\theta_{t-1}))\, \hat U_t

    (a vector keeps the full running mean :math:`V_t` of :math:`g_t^2 +
    \epsilon_1` instead). The paper's *relative step size* is the factor
    :math:`\max(\epsilon_2, \mathrm{RMS}(\theta))`
    (``multiply_by_parameter_scale``); :math:`\rho_t` is the learning rate,
    for which the paper uses :math:`\min(10^{-2}, 1/\sqrt{t})`:
    ``adafactor(1e-2, rsqrt_cap=True)``. As in optax (the authors' later
    code), a leaf is factored over its two largest dims when the smaller is
    at least ``min_dim_size_to_factor`` (the paper factors every matrix:
    ``min_dim_size_to_factor=1``); ``momentum`` adds an EMA of the steps,
    ``weight_decay_rate`` a decay :math:`w\, \theta_{t-1}` not scaled by the
    learning rate.

    Chain: ``scale_by_factored_rms``, ``clip_by_block_rms(d)``,
    ``scale_by_learning_rate(ρ, flip_sign=False)``,
    ``scale_by_param_block_rms(ε2)``, ``ema(momentum, debias=False)``,
    ``add_decayed_weights(w)``, ``scale(-1)`` (the optional ones when set).

    Args:
      learning_rate: :math:`\rho_t \ge 0`, a scalar or a schedule; ``None``:
        1 (optax's: no scaling).
      min_dim_size_to_factor: an int :math:`\ge 0` (see above).
      decay_rate: :math:`c \ge 0` of :math:`\hat\beta_{2,t}` (PyTorch's
        ``beta2_decay`` is :math:`-c`).
      decay_offset: :math:`\ge 0`, subtracted from :math:`t - 1` (restarts
        the decay schedule when fine-tuning).
      multiply_by_parameter_scale: the relative step size (the paper's).
      clipping_threshold: :math:`d > 0` (the paper's 1), or ``None``: no
        clipping.
      momentum: :math:`\beta_1 \in [0, 1)`, or ``None``.
      dtype_momentum: dtype of the momentum (``None``: each param's; complex
        params need a complex one).
      weight_decay_rate: :math:`w \ge 0`, a scalar or a schedule, or ``None``.
      eps: :math:`\epsilon_1 > 0`, added to :math:`G^2`; with ``eps_clamp``,
        may be ``None``: each param's machine epsilon.
      factored: factor the second moment of matrices at all.
      weight_decay_mask: which params to decay (see :func:`gradtx.masked`).
      rsqrt_cap: use :math:`\min(\rho_t, 1/\sqrt{t})` (PyTorch's).
      eps_clamp: accumulate :math:`G^2` without :math:`\epsilon_1` and clamp
        instead, :math:`\max(R C^\top / \max(\mathrm{mean}(R), \epsilon_1),
        \epsilon_1^2)` (PyTorch's).
      min_scale: :math:`\epsilon_2 \ge 0` of the relative step size.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``decay_rate`` or another number is not a number.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adafactor(0.1)
      >>> params = jnp.array([2.0, -2.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.5]), tx.init(params), params)
      >>> updates  # -0.1 * RMS(params) * sign(g): the first step is relative
      Array([-0.2,  0.2], dtype=float32)

    optax: ``optax.adafactor`` takes the same arguments and is the default.
    PyTorch: ``torch.optim.Adafactor(p, lr, beta2_decay=-c, eps=(ε1, ε2), d,
    weight_decay=λ)`` is ``gradtx.adafactor(lr, decay_rate=c,
    clipping_threshold=d, weight_decay_rate=lr * λ, eps=ε1, min_scale=ε2,
    min_dim_size_to_factor=1, rsqrt_cap=True, eps_clamp=True)``; its default
    ``ε1`` is ``eps=None``. For params of rank 3 or more, PyTorch factors the
    last two dims (a layout-dependent choice: PyTorch's convolution kernels
    are ``(out, in, h, w)``, Flax's ``(h, w, in, out)``), gradtx the two
    largest.

    References:
      Shazeer & Stern, *Adafactor: Adaptive Learning Rates with Sublinear
      Memory Cost*, ICML 2018, https://arxiv.org/abs/1804.04235
    """
    # The arguments the blocks name otherwise (epsilon, step_offset, ...).
    fn = "adafactor"
    validate.boolean(fn, "multiply_by_parameter_scale", multiply_by_parameter_scale)
    validate.boolean(fn, "rsqrt_cap", rsqrt_cap)
    validate.boolean(fn, "eps_clamp", eps_clamp)
    if learning_rate is not None:
        validate.number(
            fn, "learning_rate", learning_rate, low=0.0, allow_schedule=True
        )
    validate.number(fn, "decay_offset", decay_offset, low=0.0)
    if eps is None and not eps_clamp:
        raise validate.error(
            ValueError,
            fn,
            "eps=None (each param's machine epsilon, PyTorch's default) is for "
            "PyTorch's clamped form: pass eps_clamp=True too, or a number such as "
            "1e-30.",
        )
    if eps is not None:
        validate.number(fn, "eps", eps, low=0.0, low_open=True)
    if clipping_threshold is not None:
        validate.number(
            fn, "clipping_threshold", clipping_threshold, low=0.0, low_open=True
        )
    validate.optional_number(
        fn, "momentum", momentum, low=0.0, high=1.0, high_open=True
    )
    if weight_decay_rate is not None:
        validate.number(
            fn, "weight_decay_rate", weight_decay_rate, low=0.0, allow_schedule=True
        )
    parts = [
        scale_by_factored_rms(
            factored,
            decay_rate,
            decay_offset,
            min_dim_size_to_factor,
            eps,
            eps_clamp=eps_clamp,
        )
    ]
    if clipping_threshold is not None:
        parts.append(clip_by_block_rms(clipping_threshold))
    if rsqrt_cap:
        capped = _rsqrt_capped(learning_rate)
        parts.append(scale_by_learning_rate(capped, flip_sign=False))
    elif learning_rate is not None:
        parts.append(scale_by_learning_rate(learning_rate, flip_sign=False))
    if multiply_by_parameter_scale:
        parts.append(scale_by_param_block_rms(min_scale))
    if momentum is not None:
        parts.append(ema(momentum, debias=False, accumulator_dtype=dtype_momentum))
    if weight_decay_rate is not None:
        parts.append(add_decayed_weights(weight_decay_rate, weight_decay_mask))
    parts.append(scale(-1.0))
    return chain(*parts)


@register(
    year=2019,
    optax=Counterpart("optax.sm3", {"eps": 1e-8}),
    pytorch=None,
    # optax.sm3 fails on scalar params (the catalogue has one): its parity is
    # tested in tests/optimizers/test_memory_light.py.
    examples=[Example("sm3", {"learning_rate": 0.1}, parity=False)],
    # Learning rate: the best test accuracy of 1e-3 ... 1 with `gradtx
    # compare` on the digits (5 epochs, 1 seed).
    presets=[Preset("sm3", 0.1, default_run=False)],
)
@validate.named("sm3")
def sm3(
    learning_rate: ScalarOrSchedule,
    momentum: Any = 0.9,
    *,
    eps: Any = 0.0,
) -> GradientTransformation:
    r"""SM3: AdaGrad whose accumulators cover the params, sublinear in memory.

    Anil, Gupta, Koren & Singer 2019, SM3-II, with the cover of a leaf of rank
    :math:`k \ge 2` by its slices along each axis (a matrix's rows and
    columns: :math:`n + m` accumulators for :math:`nm` params):

    .. math::
       \nu_t(i) = \min_{r \ni i} \mu_{t-1}(r) + g_t(i)^2, \qquad
       \mu_t(r) = \max_{i \in r} \nu_t(i),

    .. math::
       m_t = \beta\, m_{t-1} + (1-\beta)\, \frac{g_t}{\sqrt{\nu_t}}, \qquad
       \theta_t = \theta_{t-1} - \eta\, m_t

    with :math:`0/0 = 0`; vectors and scalars keep one accumulator per entry
    (AdaGrad). :math:`\nu_t \ge g_t^2`, so each coordinate moves at most
    :math:`\eta` per step. The momentum :math:`\beta` is the one of the
    paper's experiments (0.9); ``momentum=None`` is the plain method. For
    complex params the squares are :math:`|g|^2`.

    Chain: ``scale_by_sm3(β, 1, ε)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      momentum: :math:`\beta \in [0, 1)`, or ``None``.
      eps: :math:`\epsilon \ge 0` inside the root, :math:`g / \sqrt{\nu +
        \epsilon}` (the paper: none).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.sm3(0.1, momentum=None)
      >>> params = jnp.zeros((2, 2))
      >>> updates, _ = tx.update(jnp.array([[3.0, 0.0], [-4.0, 1.0]]),
      ...                        tx.init(params), params)
      >>> updates  # the first step is -η sign(g)
      Array([[-0.1, -0. ],
             [ 0.1, -0.1]], dtype=float32)

    optax: ``optax.sm3(lr, momentum)`` is ``gradtx.sm3(lr, momentum,
    eps=1e-8)`` for params of rank 1 or more (optax fails on scalars).

    References:
      Anil, Gupta, Koren & Singer, *Memory-Efficient Adaptive Optimization*,
      NeurIPS 2019, https://arxiv.org/abs/1901.11150
    """
    validate.optional_number(
        "sm3", "momentum", momentum, low=0.0, high=1.0, high_open=True
    )
    b1 = 0.0 if momentum is None else momentum
    return chain(scale_by_sm3(b1, 1.0, eps), scale_by_learning_rate(learning_rate))
