"""Cosine decay, warmup + cosine decay, and joining schedules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.schedules._common import (
    _FINITE_POSITIVE,
    _LENGTH,
    Schedule,
    _cosine,
    _finite,
    _join,
    _polynomial,
)


def cosine_decay_schedule(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    alpha: ArrayLike = 0.0,
    exponent: ArrayLike = 1.0,
) -> Schedule:
    r"""Returns a half-cosine decay from ``init_value`` to ``alpha * init_value``.

    With :math:`I, T, \alpha, p` the arguments and :math:`\tau = \min(t, T)`:

    .. math::
      v(t) = I \left[(1 - \alpha)
        \left(\tfrac{1}{2}(1 + \cos(\pi \tau / T))\right)^{p} + \alpha\right]

    Args:
      init_value: the value at step 0.
      decay_steps: the length of the decay, > 0.
      alpha: the final value as a fraction of ``init_value``, in [0, 1].
      exponent: the power :math:`p > 0` of the cosine factor.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.cosine_decay_schedule(1.0, decay_steps=100, alpha=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 10_000)]
      [1.0, 0.55, 0.1, 0.1]

    References:
      Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
      Restarts*, ICLR 2017, https://arxiv.org/abs/1608.03983
    """
    fn = "cosine_decay_schedule"
    _finite(fn, init_value=init_value)
    validate.number(fn, "decay_steps", decay_steps, **_LENGTH)
    validate.number(fn, "alpha", alpha, low=0.0, high=1.0)
    validate.number(fn, "exponent", exponent, **_FINITE_POSITIVE)
    return _cosine(init_value, alpha * init_value, decay_steps, exponent)


def warmup_cosine_decay_schedule(
    init_value: ArrayLike,
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    decay_steps: ArrayLike,
    end_value: ArrayLike = 0.0,
    exponent: ArrayLike = 1.0,
) -> Schedule:
    r"""Returns a linear warmup to ``peak_value``, then a cosine decay.

    ``decay_steps`` is the whole length, warmup included (as in optax). With
    :math:`I, P, W, T, E, p` the arguments and :math:`\tau = \min(t - W, T - W)`:

    .. math::
      v(t) = \begin{cases}
        I + (P - I) \, t / W & t < W \\
        E + (P - E) \left(\tfrac{1}{2}(1 + \cos(\pi \tau / (T - W)))\right)^{p}
          & t \ge W
      \end{cases}

    Args:
      init_value: the value at step 0.
      peak_value: the value at step ``warmup_steps``.
      warmup_steps: the length of the warmup, >= 0.
      decay_steps: the total length, > ``warmup_steps``.
      end_value: the value from step ``decay_steps`` on.
      exponent: the power :math:`p > 0` of the cosine factor.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> import gradtx
      >>> s = gradtx.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10,
      ...     decay_steps=110, end_value=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110, 10_000)]
      [0.0, 0.5, 1.0, 0.55, 0.1, 0.1]

    References:
      Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1
      Hour*, 2017, https://arxiv.org/abs/1706.02677 (warmup); for the decay,
      see :func:`cosine_decay_schedule`.
    """
    fn = "warmup_cosine_decay_schedule"
    _finite(fn, init_value=init_value, peak_value=peak_value, end_value=end_value)
    validate.number(fn, "warmup_steps", warmup_steps, low=0)
    validate.number(fn, "decay_steps", decay_steps, **_LENGTH)
    validate.number(fn, "exponent", exponent, **_FINITE_POSITIVE)
    warm = validate.concrete_float(warmup_steps)
    total = validate.concrete_float(decay_steps)
    if warm is not None and total is not None and not warm < total:
        raise validate.error(
            ValueError,
            fn,
            "decay_steps must be greater than warmup_steps (it counts the warmup "
            f"too), got decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}.",
        )
    warmup = _polynomial(init_value, peak_value, 1, warmup_steps, 0)
    length = cast(Any, decay_steps) - warmup_steps
    decay = _cosine(peak_value, end_value, length, exponent)
    return _join([warmup, decay], [warmup_steps])


def join_schedules(
    schedules: Sequence[Schedule], boundaries: Sequence[int]
) -> Schedule:
    r"""Returns a schedule that runs ``schedules`` one after another.

    Each schedule restarts from count 0 at its boundary: with :math:`b_0 = 0`
    and :math:`i` the last index with :math:`b_i \le t`,

    .. math::
      v(t) = s_i(t - b_i)

    Args:
      schedules: the schedules to run, one more than ``boundaries``.
      boundaries: the steps at which to switch to the next schedule,
        non-negative ints in strictly increasing order.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: ``len(schedules) != len(boundaries) + 1``, or boundaries
        that are negative or not strictly increasing.
      TypeError: a schedule is not callable or a boundary is not an int.

    Example:
      >>> import gradtx
      >>> warmup = gradtx.linear_schedule(0.0, 1.0, 10)
      >>> s = gradtx.join_schedules([warmup, gradtx.constant_schedule(0.5)], [10])
      >>> [float(s(t)) for t in (0, 5, 10, 1000)]
      [0.0, 0.5, 0.5, 0.5]
    """
    fn = "join_schedules"
    schedules = list(schedules)
    bounds = validate.step_boundaries(fn, "boundaries", boundaries)
    if len(schedules) != len(bounds) + 1:
        raise validate.error(
            ValueError,
            fn,
            "schedules must hold one more schedule than boundaries, got "
            f"len(schedules)={len(schedules)}, len(boundaries)={len(bounds)}.",
        )
    for i, s in enumerate(schedules):
        if not callable(s):
            raise validate.error(
                TypeError, fn, f"schedules[{i}] must be a schedule, got {s!r}."
            )
    return _join(schedules, bounds)
