"""Linear warmup followed by a constant or an exponential decay."""

from __future__ import annotations

import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.schedules._common import Schedule, _dtype, _finite, _join, _polynomial
from gradtx.schedules._decay import exponential_decay


def warmup_constant_schedule(
    init_value: ArrayLike, peak_value: ArrayLike, warmup_steps: ArrayLike
) -> Schedule:
    r"""Returns a linear warmup to ``peak_value``, then ``peak_value`` for good.

    With :math:`I, P, W` the arguments:

    .. math::
      v(t) = \begin{cases} I + (P - I) \, t / W & t < W \\ P & t \ge W \end{cases}

    ``warmup_steps=0`` gives ``peak_value`` from step 0 (optax, whose warmup is
    a :func:`linear_schedule` of length 0, holds ``init_value`` for good).

    Args:
      init_value: the value at step 0.
      peak_value: the value from step ``warmup_steps`` on.
      warmup_steps: the length of the warmup, >= 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.warmup_constant_schedule(0.0, 1.0, warmup_steps=10)
      >>> [float(s(t)) for t in (0, 5, 10, 10_000)]
      [0.0, 0.5, 1.0, 1.0]

    References:
      Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1
      Hour*, 2017, https://arxiv.org/abs/1706.02677
    """
    fn = "warmup_constant_schedule"
    _finite(fn, init_value=init_value, peak_value=peak_value)
    validate.number(fn, "warmup_steps", warmup_steps, low=0)
    warmup = _polynomial(init_value, peak_value, 1, warmup_steps, 0)

    def constant(count: ArrayLike) -> ArrayLike:
        return jnp.full(jnp.shape(count), peak_value, _dtype(peak_value))

    return _join([warmup, constant], [warmup_steps])


def warmup_exponential_decay_schedule(
    init_value: ArrayLike,
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike = 0,
    staircase: bool = False,
    end_value: ArrayLike | None = None,
) -> Schedule:
    r"""Returns a linear warmup to ``peak_value``, then an exponential decay.

    The decay is :func:`exponential_decay` from ``peak_value``, restarted at
    step ``warmup_steps`` (``transition_begin`` counts from there). With
    :math:`I, P, W, T, r, B` the arguments and :math:`k = \max(t - W - B, 0) / T`
    (rounded down when ``staircase``), bounded by ``end_value``:

    .. math::
      v(t) = \begin{cases}
        I + (P - I) \, t / W & t < W \\ P \, r^{k} & t \ge W \end{cases}

    Args:
      init_value: the value at step 0.
      peak_value: the value at step ``warmup_steps``.
      warmup_steps: the length of the warmup, >= 0.
      transition_steps: the length of one decay period, > 0 (optax returns a
        constant decay for a value <= 0; gradtx raises).
      decay_rate: the factor per period, > 0 (optax returns a constant decay
        for 0; gradtx raises).
      transition_begin: the number of steps held at ``peak_value`` after the
        warmup, >= 0.
      staircase: whether to decay once per period rather than smoothly.
      end_value: an optional bound, <= ``peak_value`` when ``decay_rate < 1``
        and >= ``peak_value`` otherwise.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.warmup_exponential_decay_schedule(0.0, 1.0,
      ...     warmup_steps=10, transition_steps=10, decay_rate=0.5)
      >>> [float(s(t)) for t in (0, 5, 10, 20, 30)]
      [0.0, 0.5, 1.0, 0.5, 0.25]

    References:
      Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1
      Hour*, 2017, https://arxiv.org/abs/1706.02677 (warmup).
    """
    fn = "warmup_exponential_decay_schedule"
    _finite(fn, init_value=init_value, peak_value=peak_value)
    validate.number(fn, "warmup_steps", warmup_steps, low=0)
    rate, peak = (
        validate.concrete_float(decay_rate),
        validate.concrete_float(peak_value),
    )
    end = None if end_value is None else validate.concrete_float(end_value)
    wrong_side = (
        rate is not None
        and peak is not None
        and end is not None
        and rate > 0
        and end != peak
        and (end > peak) == (rate < 1)
    )
    if wrong_side:
        assert rate is not None
        side, kind = ("<=", "lower") if rate < 1 else (">=", "upper")
        raise validate.error(
            ValueError,
            fn,
            f"end_value must be {side} peak_value when decay_rate is "
            f"{decay_rate!r} (it is a {kind} bound), got "
            f"end_value={end_value!r}, peak_value={peak_value!r}.",
        )
    with validate.named(fn):
        decay = exponential_decay(
            peak_value,
            transition_steps,
            decay_rate,
            transition_begin=transition_begin,
            staircase=staircase,
            end_value=end_value,
        )
    warmup = _polynomial(init_value, peak_value, 1, warmup_steps, 0)
    return _join([warmup, decay], [warmup_steps])
