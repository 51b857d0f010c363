"""Periodic schedules: SGDR's warm restarts (optax's and PyTorch's), cyclic."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.schedules._common import (
    _FINITE_POSITIVE,
    Schedule,
    _cosine,
    _dtype,
    _finite,
    _join,
)
from gradtx.schedules._cosine import warmup_cosine_decay_schedule
from gradtx.schedules._decay import _log_rounding_error

_INT32_MAX = 2**31 - 1
_COSINE_KWARGS = frozenset(inspect.signature(warmup_cosine_decay_schedule).parameters)


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> Schedule:
    r"""Returns cycles of :func:`warmup_cosine_decay_schedule`, one after another.

    Cycle :math:`k` runs ``warmup_cosine_decay_schedule(**cosine_kwargs[k])``
    from step :math:`b_k = \sum_{j < k} T_j`, its count restarted at 0, with
    :math:`T_j` the ``decay_steps`` of cycle :math:`j`: :math:`v(t) = s_k(t - b_k)`
    for :math:`b_k \le t < b_{k+1}`, and the last cycle's final value after it.
    (For PyTorch's ``CosineAnnealingWarmRestarts``, see
    :func:`cosine_annealing_warm_restarts_schedule`.)

    Args:
      cosine_kwargs: the arguments of each cycle's
        :func:`warmup_cosine_decay_schedule`, at least one; ``decay_steps``
        (the cycle's length, warmup included) is required.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: no cycle, or a cycle's argument is out of range (the message
        names the cycle, e.g. ``cosine_kwargs[1]``).
      TypeError: a cycle is not a dict, lacks ``decay_steps`` or has an
        unknown key.

    Example:
      >>> from gradtx import schedules
      >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=5,
      ...     decay_steps=25)
      >>> s = schedules.sgdr_schedule([cycle, cycle])
      >>> [round(float(s(t)), 4) for t in (0, 5, 15, 25, 30, 50, 1000)]
      [0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 0.0]

    References:
      Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
      Restarts*, ICLR 2017, https://arxiv.org/abs/1608.03983
    """
    fn = "sgdr_schedule"
    cycles = list(cosine_kwargs)
    if not cycles:
        raise validate.error(
            ValueError, fn, "cosine_kwargs must hold at least one cycle, got none."
        )
    schedules: list[Schedule] = []
    boundaries: list[Any] = []
    step: Any = 0
    for i, kwargs in enumerate(cycles):
        where = f"cosine_kwargs[{i}]"
        if not isinstance(kwargs, Mapping):
            raise validate.error(
                TypeError, fn, f"{where} must be a dict, got {kwargs!r}."
            )
        unknown = sorted(set(kwargs) - _COSINE_KWARGS)
        if unknown or "decay_steps" not in kwargs:
            raise validate.error(
                TypeError,
                fn,
                f"{where} must hold decay_steps and arguments of "
                f"warmup_cosine_decay_schedule only, got keys {sorted(kwargs)}.",
            )
        with validate.named(f"{fn}: {where}"):
            schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step = step + kwargs["decay_steps"]
        boundaries.append(step)
    return _join(schedules, boundaries[:-1])


def cosine_annealing_warm_restarts_schedule(
    base_lr: ArrayLike, T_0: int, T_mult: int = 1, eta_min: ArrayLike = 0.0
) -> Schedule:
    r"""Returns PyTorch's ``CosineAnnealingWarmRestarts`` learning rate.

    Cycle :math:`n` lasts :math:`T_n = T_0 T_{mult}^n` steps; with
    :math:`t_c` the steps since it began, :math:`B` = ``base_lr`` and
    :math:`\eta` = ``eta_min``:

    .. math::
      v(t) = \eta + \tfrac{1}{2}(B - \eta)(1 + \cos(\pi t_c / T_n))

    The value jumps back to :math:`B` at each restart and never ends. Cycles
    are found exactly, with integer arithmetic (PyTorch's ``step(epoch)``
    takes a float logarithm). Unlike :func:`sgdr_schedule`, there is no
    warmup, and the value never reaches :math:`\eta`.

    Args:
      base_lr: the value at each restart.
      T_0: the length of the first cycle, an int >= 1.
      T_mult: the factor by which each cycle is longer than the last, an
        int >= 1.
      eta_min: the value the cosine tends to.

    Returns:
      A schedule ``count -> value`` (for int32 counts).

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.cosine_annealing_warm_restarts_schedule(1.0, T_0=10,
      ...     T_mult=2)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 20, 30, 70)]
      [1.0, 0.5, 1.0, 0.5, 1.0, 1.0]

    References:
      Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
      Restarts*, ICLR 2017, https://arxiv.org/abs/1608.03983;
      ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``.
    """
    fn = "cosine_annealing_warm_restarts_schedule"
    _finite(fn, base_lr=base_lr, eta_min=eta_min)
    validate.plain_number(fn, "T_0", T_0, low=1, integer=True)
    validate.plain_number(fn, "T_mult", T_mult, low=1, integer=True)
    if T_mult == 1:

        def schedule(count: ArrayLike) -> ArrayLike:
            c = jnp.maximum(jnp.asarray(count), 0)
            return _cosine(base_lr, eta_min, T_0, 1.0)(jnp.remainder(c, T_0))

        return schedule
    starts, lengths = [0], [int(T_0)]
    while starts[-1] + lengths[-1] <= _INT32_MAX:
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * int(T_mult))
    lengths = [min(n, _INT32_MAX) for n in lengths]

    def schedule_mult(count: ArrayLike) -> ArrayLike:
        c = jnp.maximum(jnp.asarray(count), 0)
        cycle = sum(((c >= s).astype(jnp.int32) for s in starts[1:]), jnp.int32(0))
        first = jnp.asarray(np.asarray(starts, np.int32))[cycle]
        length = jnp.asarray(np.asarray(lengths, np.int32))[cycle]
        return _cosine(base_lr, eta_min, length, 1.0)(c - first)

    return schedule_mult


def cyclic_schedule(
    base_lr: ArrayLike,
    max_lr: ArrayLike,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: ArrayLike = 1.0,
) -> Schedule:
    r"""Returns PyTorch's ``CyclicLR`` learning rate (Smith's cyclical rates).

    Each cycle rises linearly from :math:`B` = ``base_lr`` to :math:`M` =
    ``max_lr`` in :math:`U` = ``step_size_up`` steps and falls back in
    :math:`D` = ``step_size_down`` steps. With :math:`r = t \bmod (U + D)` and
    the cycle number :math:`c = \lfloor t / (U + D) \rfloor + 1`:

    .. math::
      v(t) = B + (M - B) \, h(r) \, a(t), \quad
      h(r) = \begin{cases} r / U & r \le U \\ (U + D - r) / D & r > U \end{cases}

    with :math:`a = 1` (``'triangular'``), :math:`a = 2^{1 - c}`
    (``'triangular2'``: the height halves each cycle) or :math:`a = \gamma^t`
    (``'exp_range'``). PyTorch's ``scale_fn``/``scale_mode`` and momentum
    cycling are not offered; its float step sizes are not accepted.

    Args:
      base_lr: the value at the start of each cycle.
      max_lr: the value at the top of the first cycle (the height is scaled
        by :math:`a`).
      step_size_up: the steps of the rise, an int >= 1.
      step_size_down: the steps of the fall, an int >= 1; by default
        ``step_size_up``.
      mode: ``'triangular'``, ``'triangular2'`` or ``'exp_range'``.
      gamma: the factor per step of ``'exp_range'``, > 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.cyclic_schedule(0.1, 1.0, step_size_up=10,
      ...     mode='triangular2')
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 20, 30, 40)]
      [0.1, 0.55, 1.0, 0.1, 0.55, 0.1]

    References:
      Smith, *Cyclical Learning Rates for Training Neural Networks*, WACV 2017,
      https://arxiv.org/abs/1506.01186; ``torch.optim.lr_scheduler.CyclicLR``.
    """
    fn = "cyclic_schedule"
    _finite(fn, base_lr=base_lr, max_lr=max_lr)
    validate.plain_number(fn, "step_size_up", step_size_up, low=1, integer=True)
    if step_size_down is not None:
        validate.plain_number(fn, "step_size_down", step_size_down, low=1, integer=True)
    modes = ["triangular", "triangular2", "exp_range"]
    mode = validate.choice(fn, "mode", mode, modes)
    validate.number(fn, "gamma", gamma, **_FINITE_POSITIVE)
    up = int(step_size_up)
    down = up if step_size_down is None else int(step_size_down)
    dtype = _dtype(base_lr, max_lr, gamma)
    rounding = _log_rounding_error(gamma, dtype)

    def schedule(count: ArrayLike) -> jax.Array:
        c = jnp.maximum(jnp.asarray(count), 0)
        r = jnp.remainder(c, up + down)
        rise = r.astype(dtype) / up
        fall = (up + down - r).astype(dtype) / down
        height = (jnp.asarray(max_lr, dtype) - base_lr) * jnp.where(r <= up, rise, fall)
        if mode == "triangular2":  # 2^(1 - c), exact
            height = height * jnp.exp2(-jnp.floor_divide(c, up + down).astype(dtype))
        elif mode == "exp_range":
            steps = c.astype(dtype)
            height = height * jnp.asarray(gamma, dtype) ** steps
            if rounding:  # gamma**t with the exact gamma: see exponential_decay
                height = height * jnp.exp(steps * jnp.asarray(rounding, dtype))
        return jnp.asarray(base_lr, dtype) + height

    return schedule
