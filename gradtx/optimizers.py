r"""The classic optimizers, each a short :func:`~gradtx.chain` of building blocks.

Every optimizer here can be taken apart: its docstring names the chain, and
the state is the tuple of the blocks' states. Where frameworks disagree on a
detail, the default follows the paper, and a keyword gives the other form; the
docstring of each optimizer shows the PyTorch equivalent.
"""

from __future__ import annotations

from typing import Any

from gradtx import _checks
from gradtx.combinators._masking import Mask
from gradtx.core import GradientTransformation, chain, identity
from gradtx.schedules import ScalarOrSchedule
from gradtx.transforms import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_rss,
    scale_by_stddev,
    trace,
)

__all__ = ["adagrad", "adam", "adamw", "rmsprop", "sgd"]


def _momentum(
    momentum: Any, nesterov: bool, accumulator_dtype: Any = None
) -> GradientTransformation:
    _checks.check_optional_number(
        "momentum", momentum, low=0.0, high=1.0, high_open=True
    )
    _checks.check_bool("nesterov", nesterov)
    if momentum is None:
        if nesterov:
            raise ValueError(
                "nesterov=True needs a momentum, e.g. momentum=0.9; got momentum=None."
            )
        return identity()
    return trace(momentum, nesterov=nesterov, accumulator_dtype=accumulator_dtype)


def _with_momentum(
    scaling: GradientTransformation | None,
    lr: GradientTransformation,
    momentum: GradientTransformation,
    momentum_after_lr: bool,
) -> GradientTransformation:
    _checks.check_bool("momentum_after_lr", momentum_after_lr)
    head = () if scaling is None else (scaling,)
    if momentum_after_lr:
        return chain(*head, lr, momentum)
    return chain(*head, momentum, lr)


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
    return _with_momentum(
        None,
        scale_by_learning_rate(learning_rate),
        _momentum(momentum, nesterov, accumulator_dtype),
        momentum_after_lr,
    )


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


def rmsprop(
    learning_rate: ScalarOrSchedule,
    decay: Any = 0.9,
    eps: Any = 1e-8,
    initial_scale: Any = 0.0,
    eps_in_sqrt: bool = True,
    centered: bool = False,
    momentum: Any = None,
    nesterov: bool = False,
    bias_correction: bool = False,
    *,
    momentum_after_lr: bool = True,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""RMSProp: divide the gradient by a running root mean square.

    Tieleman & Hinton 2012 (lecture 6e), with :math:`\epsilon` inside the root
    and the optional momentum applied to the scaled step, as in Graves 2013
    (eq. 38-41, which also gives the *centered* form):

    .. math::
       v_t = \rho\, v_{t-1} + (1-\rho)\, g_t^2, \qquad
       m_t = \rho\, m_{t-1} + (1-\rho)\, g_t \;\;(\text{centered only}),

    .. math::
       \Delta_t = \mu\, \Delta_{t-1} - \eta_t \frac{g_t}{\sqrt{v_t - m_t^2 +
       \epsilon}}, \qquad \theta_t = \theta_{t-1} + \Delta_t

    (drop :math:`m_t^2` when not centered; :math:`\mu = 0` without momentum).
    PyTorch's ``torch.optim.RMSprop`` puts :math:`\epsilon` outside the root,
    :math:`g_t / (\sqrt{v_t} + \epsilon)`, and applies the learning rate after
    the momentum: ``rmsprop(η, ρ, ε, eps_in_sqrt=False, momentum=μ,
    momentum_after_lr=False)``.

    Chain: ``scale_by_rms`` (or ``scale_by_stddev`` when centered),
    ``scale_by_learning_rate(η)``, ``trace(μ)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      decay: :math:`\rho \in [0, 1)`.
      eps: :math:`\epsilon > 0` (0 would divide 0 by 0 for a coordinate
        whose gradients have all been 0).
      initial_scale: :math:`v_0 \ge 0`.
      eps_in_sqrt: :math:`\epsilon` inside (default) or outside the root.
      centered: divide by a running standard deviation instead of the RMS.
      momentum: :math:`\mu \in [0, 1)`, or ``None``.
      nesterov: use Nesterov momentum (needs ``momentum``).
      bias_correction: debias the running averages, as Adam does.
      momentum_after_lr: the paper's order (True) or PyTorch's (False).
      nu_dtype: dtype of :math:`v`, a real floating dtype (default: each
        param's real dtype); computed in float32 or wider either way.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``nu_dtype`` is not a real floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.rmsprop(0.1, decay=0.75, eps=1e-12)
      >>> params = jnp.array([0.0])
      >>> updates, _ = tx.update(jnp.array([2.0]), tx.init(params), params)
      >>> updates  # -0.1 * 2 / sqrt(0.25 * 4)
      Array([-0.2], dtype=float32)

    References:
      Tieleman & Hinton, *Lecture 6.5 - RMSProp*, COURSERA: Neural Networks for
      Machine Learning, 2012.
      Graves, *Generating Sequences With Recurrent Neural Networks*, 2013,
      https://arxiv.org/abs/1308.0850
    """
    _checks.check_bool("centered", centered)
    block = scale_by_stddev if centered else scale_by_rms
    return _with_momentum(
        block(
            decay, eps, initial_scale, eps_in_sqrt, bias_correction, nu_dtype=nu_dtype
        ),
        scale_by_learning_rate(learning_rate),
        _momentum(momentum, nesterov),
        momentum_after_lr,
    )


def adam(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""Adam, with the bias correction of Kingma & Ba 2015 (Algorithm 1).

    .. math::
       m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
       v_t = \beta_2 v_{t-1} + (1-\beta_2)\, |g_t|^2,

    .. math::
       \hat m_t = \frac{m_t}{1-\beta_1^t}, \qquad
       \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
       \theta_t = \theta_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t +
       \epsilon_{root}} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t` counted from 1. :math:`\epsilon` is
    outside the root, as in the paper, PyTorch and optax. With
    ``nesterov=True`` (NAdam, Dozat 2016), :math:`\hat m_t = \beta_1 m_t /
    (1-\beta_1^{t+1}) + (1-\beta_1) g_t / (1-\beta_1^t)`.

    Chain: ``scale_by_adam(β1, β2, ε, ε_root)``, ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0`` (else a
        coordinate whose gradients have all been 0 gets 0/0).
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      nesterov: use NAdam's Nesterov momentum.
      nu_dtype: dtype of :math:`v`, a real floating dtype (default: each
        param's real dtype). The moments are computed in float32 or wider
        whatever their storage; with bfloat16 params, ``mu_dtype=jnp.float32,
        nu_dtype=jnp.float32`` keeps them as a float32 run would (see
        :func:`gradtx.master_weights` for the params themselves).

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` or ``nu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adam(0.1)
      >>> params = jnp.array([1.0, 1.0])
      >>> updates, _ = tx.update(jnp.array([3.0, -0.01]), tx.init(params), params)
      >>> updates  # the first step has size η in each coordinate
      Array([-0.1,  0.1], dtype=float32)

    PyTorch: ``torch.optim.Adam(p, lr, betas=(b1, b2), eps)`` is
    ``gradtx.adam(lr, b1, b2, eps)``.

    References:
      Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015,
      https://arxiv.org/abs/1412.6980
      Dozat, *Incorporating Nesterov Momentum into Adam*, ICLR 2016 workshop,
      https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ
    """
    return chain(
        scale_by_adam(
            b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov, nu_dtype=nu_dtype
        ),
        scale_by_learning_rate(learning_rate),
    )


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: Any = 0.9,
    b2: Any = 0.999,
    eps: Any = 1e-8,
    eps_root: Any = 0.0,
    mu_dtype: Any = None,
    weight_decay: ScalarOrSchedule = 1e-4,
    mask: Mask | None = None,
    *,
    nesterov: bool = False,
    nu_dtype: Any = None,
) -> GradientTransformation:
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    Loshchilov & Hutter 2019, Algorithm 2, with the schedule multiplier
    :math:`\eta_t` carrying the learning rate:

    .. math::
       \theta_t = \theta_{t-1} - \eta_t \left( \frac{\hat m_t}{\sqrt{\hat v_t +
       \epsilon_{root}} + \epsilon} + \lambda\, \theta_{t-1} \right)

    with :math:`\hat m_t, \hat v_t` as in :func:`adam`. The decay
    :math:`\lambda\theta` never enters :math:`m` or :math:`v`, so every weight
    shrinks by the same factor :math:`1 - \eta_t\lambda` whatever its gradient
    history; Adam with an L2 term in the loss (or
    ``chain(add_decayed_weights(λ), adam(η))``) instead divides the decay by
    :math:`\sqrt{\hat v_t}`, so weights with large gradients are barely
    regularized. As in PyTorch and optax, :math:`\lambda` is multiplied by the
    learning rate; the paper's fully decoupled :math:`\lambda'` (independent of
    the peak learning rate :math:`\alpha`) is ``weight_decay = λ' / α``.

    Chain: ``scale_by_adam``, ``add_decayed_weights(λ, mask)``,
    ``scale_by_learning_rate(η)``.

    Args:
      learning_rate: :math:`\eta \ge 0`, a scalar or a schedule.
      b1: :math:`\beta_1 \in [0, 1)`.
      b2: :math:`\beta_2 \in [0, 1)`.
      eps: :math:`\epsilon > 0`; 0 only with ``eps_root > 0`` (else a
        coordinate whose gradients have all been 0 gets 0/0).
      eps_root: :math:`\epsilon_{root} \ge 0`.
      mu_dtype: dtype of :math:`m` (default: each param's).
      weight_decay: :math:`\lambda \ge 0`, a scalar or a schedule.
      mask: which params to decay (see :func:`gradtx.masked`); a pytree of
        bools or a function of the params. ``None``: all.
      nesterov: use NAdam's Nesterov momentum.
      nu_dtype: dtype of :math:`v`, as in :func:`adam`.

    Returns:
      A :class:`~gradtx.GradientTransformation`.

    Raises:
      ValueError: a hyperparameter is out of range.
      TypeError: ``mu_dtype`` or ``nu_dtype`` is not a floating dtype.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.adamw(0.1, weight_decay=0.5)
      >>> params = jnp.array([2.0])
      >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(params), params)
      >>> updates  # -0.1 * (1 + 0.5 * 2)
      Array([-0.2], dtype=float32)

    PyTorch: ``torch.optim.AdamW(p, lr, betas, eps, weight_decay)`` is
    ``gradtx.adamw(lr, b1, b2, eps, weight_decay=weight_decay)``.

    References:
      Loshchilov & Hutter, *Decoupled Weight Decay Regularization*, ICLR 2019,
      https://arxiv.org/abs/1711.05101
    """
    return chain(
        scale_by_adam(
            b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov, nu_dtype=nu_dtype
        ),
        add_decayed_weights(weight_decay, mask),
        scale_by_learning_rate(learning_rate),
    )
