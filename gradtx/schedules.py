"""Schedules: pure functions from the step count to a hyperparameter value.

A schedule maps ``count`` (an int, an int32 tracer, or an array of counts) to a
float array of its shape, is safe under ``jit`` and ``vmap``, and holds its final
value past the end. Values are float32, or float64 when a value argument is a
float64 array (x64 mode): Python numbers never force float64. Names follow
optax, but arguments are checked when a schedule is built (tracers pass): where
optax quietly returns a constant or clamps, gradtx raises ``ValueError``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from gradtx._checks import check_bool, check_number, concrete_float

Schedule: TypeAlias = Callable[[ArrayLike], ArrayLike]
ScalarOrSchedule: TypeAlias = float | jax.Array | Schedule

_CONSTANT_HINT = "(optax returns a constant schedule here; use constant_schedule.)"
_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True}
_FINITE_POSITIVE: dict[str, Any] = {"low": 0.0, "low_open": True, "high_open": True}


def _check(name: str, value: Any, *, hint: str = "", **bounds: Any) -> None:
    """Like ``check_number``, with ``hint`` appended to the ValueError."""
    try:
        check_number(name, value, **bounds)
    except ValueError as err:
        raise ValueError(f"{err} {hint}".rstrip()) from None


def _check_finite(**values: Any) -> None:
    for name, value in values.items():
        check_number(name, value, low=-math.inf, low_open=True, high_open=True)


def _check_boundaries(
    name: str, boundaries: Iterable[Any], increasing: bool = True
) -> list[Any]:
    """Checks that step boundaries are non-negative, strictly increasing ints."""
    bounds = list(boundaries)
    shown = "[" + ", ".join(str(b) for b in bounds) + "]"
    ints = [b for b in bounds if not isinstance(b, jax.core.Tracer)]
    for b in ints:
        if np.shape(b) != () or not np.issubdtype(np.asarray(b).dtype, np.integer):
            raise TypeError(f"{name} must be integer step counts, got {b!r}.")
    if any(int(b) < 0 for b in ints):
        raise ValueError(f"{name} must be non-negative, got {shown}.")
    if increasing and any(int(a) >= int(b) for a, b in itertools.pairwise(ints)):
        raise ValueError(f"{name} must be strictly increasing, got {shown}.")
    return bounds


def _dtype(*values: Any) -> Any:
    """float32, promoted only by values that are float64 arrays."""
    return jnp.result_type(jnp.float32, *(v for v in values if v is not None))


def _remaining(count: Any, steps: Any, dtype: Any) -> jax.Array:
    """The fraction of ``steps`` still ahead of ``count``: exactly 1, then 0.

    Both ends are exact even where XLA turns ``x / T`` into ``x * (1 / T)``:
    ``1 - t / T`` is exact at ``t = 0`` and ``(T - t) / T`` at ``t = T`` (an ulp
    off would give a warmup from 0 a negative start, and ``power=0.5`` would
    magnify it to ~1e-4 at the end), so each is used on its half.
    """
    tau = jnp.clip(jnp.asarray(count), 0, steps)
    left = (steps - tau).astype(dtype)  # subtracted while still exact ints
    steps = jnp.asarray(steps, dtype)
    steps = jnp.where(steps > 0, steps, 1)
    done = tau.astype(dtype) / steps
    return jnp.where(done <= 0.5, 1 - done, left / steps)


def _lerp(start: Any, end: Any, weight: jax.Array, dtype: Any) -> jax.Array:
    """``start`` at weight 1 and ``end`` at weight 0, both exactly."""
    return jnp.asarray(start, dtype) * weight + jnp.asarray(end, dtype) * (1 - weight)


def _polynomial(init: Any, end: Any, power: Any, steps: Any, begin: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, power)
        frac = _remaining(jnp.asarray(count) - begin, steps, dtype)
        p = power if isinstance(power, int) else jnp.asarray(power, dtype)
        return _lerp(init, end, frac**p, dtype)

    return schedule


def _cosine(init: Any, end: Any, steps: Any, exponent: Any) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init, end, exponent)
        # (1 + cos(pi t / T)) / 2 = sin(pi r / 2)^2 with r = 1 - t / T.
        half_cos = jnp.sin(jnp.pi / 2 * _remaining(count, steps, dtype)) ** 2
        return _lerp(init, end, half_cos ** jnp.asarray(exponent, dtype), dtype)

    return schedule


def _join(schedules: Sequence[Schedule], boundaries: Sequence[Any]) -> Schedule:
    def schedule(count: ArrayLike) -> jax.Array:
        c = jnp.asarray(count)
        value = jnp.asarray(schedules[0](c))
        for b, s in zip(boundaries, schedules[1:], strict=True):
            value = jnp.where(c < b, value, s(c - b))
        return value

    return schedule


def constant_schedule(value: ArrayLike) -> Schedule:
    """Returns a schedule that holds ``value`` at every step: :math:`v(t) = V`.

    Args:
      value: the value to hold, a finite real scalar.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: ``value`` is not finite or not a scalar.
      TypeError: ``value`` is not a number.

    Example:
      >>> s = constant_schedule(0.5)
      >>> float(s(0)), float(s(10_000))
      (0.5, 0.5)
    """
    _check_finite(value=value)
    return lambda count: jnp.full(jnp.shape(count), value, _dtype(value))


def polynomial_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    power: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> Schedule:
    r"""Returns a polynomial transition from ``init_value`` to ``end_value``.

    With :math:`I, E, P, T, B` the arguments in order:

    .. math::
      v(t) = (I - E) (1 - \tau / T)^{P} + E, \quad \tau = \min(\max(t - B, 0), T)

    Args:
      init_value: the value until step ``transition_begin``.
      end_value: the value from step ``transition_begin + transition_steps``.
      power: the power :math:`P > 0` (1 is linear).
      transition_steps: the length of the transition, > 0 (optax returns a
        constant schedule for a value <= 0; gradtx raises).
      transition_begin: the number of steps held at ``init_value``, >= 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> s = polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 1000)]
      [1.0, 0.25, 0.0, 0.0]
    """
    _check_finite(init_value=init_value, end_value=end_value)
    _check("power", power, **_FINITE_POSITIVE)
    _check("transition_steps", transition_steps, hint=_CONSTANT_HINT, **_POSITIVE)
    _check("transition_begin", transition_begin, low=0)
    return _polynomial(init_value, end_value, power, transition_steps, transition_begin)


def linear_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> Schedule:
    r"""Returns a linear transition from ``init_value`` to ``end_value``.

    :func:`polynomial_schedule` with ``power=1``:

    .. math::
      v(t) = I + (E - I) \, \tau / T, \quad \tau = \min(\max(t - B, 0), T)

    Args:
      init_value: the value :math:`I` until step ``transition_begin``.
      end_value: the value :math:`E` from the end of the transition on.
      transition_steps: the length :math:`T` of the transition, > 0.
      transition_begin: the number :math:`B` of steps held at ``init_value``.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument is not a number.

    Example:
      >>> s = linear_schedule(0.0, 1.0, transition_steps=10, transition_begin=5)
      >>> [float(s(t)) for t in (0, 5, 10, 15, 1000)]
      [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    return polynomial_schedule(
        init_value, end_value, 1, transition_steps, transition_begin
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
      >>> s = cosine_decay_schedule(1.0, decay_steps=100, alpha=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 50, 100, 10_000)]
      [1.0, 0.55, 0.1, 0.1]

    References:
      Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
      Restarts*, ICLR 2017, https://arxiv.org/abs/1608.03983
    """
    _check_finite(init_value=init_value)
    _check("decay_steps", decay_steps, hint=_CONSTANT_HINT, **_POSITIVE)
    _check("alpha", alpha, low=0.0, high=1.0)
    _check("exponent", exponent, **_FINITE_POSITIVE)
    return _cosine(init_value, alpha * init_value, decay_steps, exponent)


def exponential_decay(
    init_value: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike = 0,
    staircase: bool = False,
    end_value: ArrayLike | None = None,
) -> Schedule:
    r"""Returns ``init_value`` times ``decay_rate`` per ``transition_steps`` steps.

    With :math:`I, T, r, B` the arguments and :math:`k = \max(t - B, 0) / T`
    (rounded down when ``staircase``), clipped at ``end_value`` from below when
    :math:`r < 1` and from above when :math:`r \ge 1`:

    .. math::
      v(t) = I \, r^{k}

    Args:
      init_value: the value until step ``transition_begin``.
      transition_steps: the length of one period, > 0.
      decay_rate: the factor per period, > 0. Above 1 the value grows, without
        bound if there is no ``end_value``. (For ``transition_steps <= 0`` or
        ``decay_rate == 0`` optax returns a constant schedule; gradtx raises.)
      transition_begin: the number of steps held at ``init_value``, >= 0.
      staircase: whether to decay once per period rather than smoothly.
      end_value: an optional bound, <= ``init_value`` when ``decay_rate < 1``
        and >= ``init_value`` otherwise (else it would replace ``init_value``).

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> s = exponential_decay(1.0, transition_steps=10, decay_rate=0.5,
      ...                       staircase=True, end_value=0.2)
      >>> [float(s(t)) for t in (0, 9, 10, 20, 1000)]
      [1.0, 1.0, 0.5, 0.25, 0.2]
    """
    _check_finite(init_value=init_value)
    _check("transition_steps", transition_steps, hint=_CONSTANT_HINT, **_POSITIVE)
    hint = "(To drop to 0 at a given step, use piecewise_constant_schedule.)"
    _check("decay_rate", decay_rate, hint=hint, **_FINITE_POSITIVE)
    _check("transition_begin", transition_begin, low=0)
    check_bool("staircase", staircase)
    if end_value is not None:
        _check_finite(end_value=end_value)
        rate, init = concrete_float(decay_rate), concrete_float(init_value)
        end = concrete_float(end_value)
        if rate is not None and init is not None and end is not None:
            side, kind = ("<=", "lower") if rate < 1 else (">=", "upper")
            if end != init and (end > init) == (rate < 1):
                raise ValueError(
                    f"end_value must be {side} init_value when decay_rate is "
                    f"{decay_rate!r} (it is a {kind} bound), got "
                    f"end_value={end_value!r}, init_value={init_value!r}."
                )

    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init_value, decay_rate, end_value)
        elapsed = jnp.maximum(jnp.asarray(count) - transition_begin, 0)
        if staircase:  # floor_divide is exact; floor(x * (1 / T)) can miss by 1
            k = jnp.floor_divide(elapsed, transition_steps).astype(dtype)
        else:
            k = elapsed.astype(dtype) / jnp.asarray(transition_steps, dtype)
        rate = jnp.asarray(decay_rate, dtype)
        value = jnp.asarray(init_value, dtype) * rate**k
        if end_value is None:
            return value
        end = jnp.asarray(end_value, dtype)
        return jnp.where(rate < 1, jnp.maximum(value, end), jnp.minimum(value, end))

    return schedule


def piecewise_constant_schedule(
    init_value: ArrayLike, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    r"""Returns ``init_value`` multiplied by a scale from each given step on.

    With boundaries :math:`b_i` and scales :math:`s_i` (which compound:
    ``{100: 0.1, 200: 0.1}`` gives ``0.01 * init_value`` from step 200):

    .. math::
      v(t) = I \prod_{i \,:\, t \ge b_i} s_i

    Args:
      init_value: the value before the first boundary.
      boundaries_and_scales: ``{step: scale}``, steps non-negative ints, scales
        finite and >= 0 (a negative learning-rate scale flips the update).

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: a negative step or scale, or a value that is not finite.
      TypeError: ``boundaries_and_scales`` is not a mapping of ints to numbers.

    Example:
      >>> s = piecewise_constant_schedule(1.0, {100: 0.5, 200: 0.5})
      >>> [float(s(t)) for t in (0, 99, 100, 200, 10_000)]
      [1.0, 1.0, 0.5, 0.25, 0.25]
    """
    _check_finite(init_value=init_value)
    scales = {} if boundaries_and_scales is None else boundaries_and_scales
    if not isinstance(scales, Mapping):
        raise TypeError(f"boundaries_and_scales must be a dict, got {scales!r}.")
    name = "the steps (keys) of boundaries_and_scales"
    steps = sorted(_check_boundaries(name, scales, increasing=False), key=int)
    items = [(b, scales[b]) for b in steps]
    hint = "(A negative learning-rate scale flips the update.)"
    for b, s in items:
        _check(f"boundaries_and_scales[{b}]", s, hint=hint, low=0, high_open=True)

    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(init_value, *(s for _, s in items))
        c = jnp.asarray(count)
        value = jnp.full(c.shape, init_value, dtype)
        for b, s in items:
            value = jnp.where(c >= b, value * jnp.asarray(s, dtype), value)
        return value

    return schedule


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
      >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10,
      ...                                  decay_steps=110, end_value=0.1)
      >>> [round(float(s(t)), 4) for t in (0, 5, 10, 60, 110, 10_000)]
      [0.0, 0.5, 1.0, 0.55, 0.1, 0.1]

    References:
      Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1
      Hour*, 2017, https://arxiv.org/abs/1706.02677 (warmup); for the decay,
      see :func:`cosine_decay_schedule`.
    """
    _check_finite(init_value=init_value, peak_value=peak_value, end_value=end_value)
    _check("warmup_steps", warmup_steps, low=0)
    _check("decay_steps", decay_steps, hint=_CONSTANT_HINT, **_POSITIVE)
    _check("exponent", exponent, **_FINITE_POSITIVE)
    warm, total = concrete_float(warmup_steps), concrete_float(decay_steps)
    if warm is not None and total is not None and not warm < total:
        raise ValueError(
            "decay_steps must be greater than warmup_steps (it counts the warmup "
            f"too), got decay_steps={decay_steps!r}, warmup_steps={warmup_steps!r}."
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
      >>> s = join_schedules(
      ...     [linear_schedule(0.0, 1.0, 10), constant_schedule(0.5)], [10])
      >>> [float(s(t)) for t in (0, 5, 10, 1000)]
      [0.0, 0.5, 0.5, 0.5]
    """
    schedules = list(schedules)
    bounds = _check_boundaries("boundaries", boundaries)
    if len(schedules) != len(bounds) + 1:
        raise ValueError(
            "join_schedules needs one more schedule than boundaries, got "
            f"len(schedules)={len(schedules)}, len(boundaries)={len(bounds)}."
        )
    for i, s in enumerate(schedules):
        if not callable(s):
            raise TypeError(f"schedules[{i}] must be a schedule, got {s!r}.")
    return _join(schedules, bounds)
