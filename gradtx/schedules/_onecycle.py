"""Piecewise interpolation and the one-cycle schedules (optax's and PyTorch's)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from gradtx._internal import validate
from gradtx.schedules._common import (
    _FINITE_POSITIVE,
    Schedule,
    _cosine,
    _dtype,
    _finite,
    _join,
    _lerp,
    _polynomial,
)


def _interpolate(kind: str, values: Sequence[Any], bounds: Sequence[Any]) -> Schedule:
    """``values[i]`` at step ``bounds[i - 1]`` (0 for i = 0), joined by ``kind``."""
    starts = [0, *bounds]
    pieces: list[Schedule] = []
    for i, end in enumerate(bounds):
        steps = end - starts[i]
        if kind == "linear":
            pieces.append(_polynomial(values[i], values[i + 1], 1, steps, 0))
        else:
            pieces.append(_cosine(values[i], values[i + 1], steps, 1.0))
    last = values[-1]
    pieces.append(lambda count: jnp.full(jnp.shape(count), last, _dtype(last)))
    return _join(pieces, bounds)


def piecewise_interpolate_schedule(
    interpolate_type: str,
    init_value: ArrayLike,
    boundaries_and_scales: Mapping[int, float] | None = None,
) -> Schedule:
    r"""Returns an interpolation between values scaled at each given step.

    The value at boundary :math:`b_i` is :math:`v_i = I \prod_{j \le i} s_j`
    (the scales compound, as in :func:`piecewise_constant_schedule`), with
    :math:`b_0 = 0, v_0 = I`; between boundaries, with
    :math:`p = (t - b_i) / (b_{i+1} - b_i)`,

    .. math::
      v(t) = v_i + (v_{i+1} - v_i) \, p \;\; \text{(linear)}, \quad
      v(t) = v_{i+1} + \tfrac{1}{2}(v_i - v_{i+1})(1 + \cos \pi p)
        \;\; \text{(cosine)}

    and :math:`v(t)` is the last value from the last boundary on.

    Args:
      interpolate_type: ``'linear'`` or ``'cosine'``.
      init_value: the value at step 0.
      boundaries_and_scales: ``{step: scale}``, steps non-negative ints, scales
        finite and >= 0. Note that the interpolation runs between the
        compounded values, not between the scales.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: a negative step or scale, a value that is not finite, or an
        unknown ``interpolate_type`` (also one that is not a string, as in
        optax).
      TypeError: ``boundaries_and_scales`` is not a mapping of ints to numbers.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.piecewise_interpolate_schedule('linear', 1.0,
      ...     {4: 0.1, 8: 0.01})
      >>> [round(float(s(t)), 6) for t in (0, 2, 4, 6, 8, 10)]
      [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
    """
    fn = "piecewise_interpolate_schedule"
    if not isinstance(interpolate_type, str):  # a ValueError, as optax's
        raise validate.error(
            ValueError,
            fn,
            "interpolate_type must be one of 'linear', 'cosine', got "
            f"{interpolate_type!r}.",
        )
    kind = validate.choice(
        fn, "interpolate_type", interpolate_type, ["linear", "cosine"]
    )
    _finite(fn, init_value=init_value)
    scales = {} if boundaries_and_scales is None else boundaries_and_scales
    if not isinstance(scales, Mapping):
        raise validate.error(
            TypeError, fn, f"boundaries_and_scales must be a dict, got {scales!r}."
        )
    name = "the steps (keys) of boundaries_and_scales"
    bounds = sorted(validate.step_boundaries(fn, name, scales, increasing=False))
    values: list[Any] = [init_value]
    for b in bounds:
        where = f"boundaries_and_scales[{b}]"
        validate.number(fn, where, scales[b], low=0, high_open=True)
        values.append(values[-1] * scales[b])
    return _interpolate(kind, values, bounds)


def _onecycle_steps(fn: str, transition_steps: Any, peak_value: Any) -> None:
    validate.plain_number(fn, "transition_steps", transition_steps, low=1, integer=True)
    _finite(fn, peak_value=peak_value)


def _phase_ends(fn: str, names: str, ends: list[int]) -> None:
    """Raises unless the rounded phase ends are strictly increasing."""
    if any(a >= b for a, b in itertools.pairwise(ends)):
        raise validate.error(
            ValueError,
            fn,
            f"{names} must end the phases at strictly increasing steps, got steps "
            f"{ends} (each is int(pct * transition_steps)); optax merges the "
            "phases that fall on one step.",
        )


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: ArrayLike,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""Returns optax's one-cycle schedule: a cosine rise, then a cosine fall.

    :func:`piecewise_interpolate_schedule` (``'cosine'``) through the values
    :math:`P / d`, :math:`P`, :math:`P / (d f)` at steps 0,
    :math:`S = \lfloor p_s T \rfloor` and :math:`T`, with
    :math:`T, P, p_s, d, f` the arguments; :math:`P / (d f)` from :math:`T` on.
    (For PyTorch's ``OneCycleLR``, whose phases end a step earlier, see
    :func:`one_cycle_schedule`.)

    Args:
      transition_steps: the length :math:`T` of the cycle, an int >= 1.
      peak_value: the value at step :math:`S`.
      pct_start: the fraction of the cycle spent rising, in [0, 1).
      div_factor: the start value is ``peak_value / div_factor``; > 0.
      final_div_factor: the final value is the start value divided by it; > 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.cosine_onecycle_schedule(100, 1.0, pct_start=0.5,
      ...     div_factor=10.0, final_div_factor=10.0)
      >>> [round(float(s(t)), 4) for t in (0, 25, 50, 100, 1000)]
      [0.1, 0.55, 1.0, 0.01, 0.01]

    References:
      Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks
      Using Large Learning Rates*, 2017, https://arxiv.org/abs/1708.07120
    """
    fn = "cosine_onecycle_schedule"
    _onecycle_steps(fn, transition_steps, peak_value)
    validate.number(fn, "pct_start", pct_start, low=0, high=1, high_open=True)
    validate.number(fn, "div_factor", div_factor, **_FINITE_POSITIVE)
    validate.number(fn, "final_div_factor", final_div_factor, **_FINITE_POSITIVE)
    start = peak_value / div_factor
    values = [start, peak_value, start / final_div_factor]
    return _interpolate(
        "cosine", values, [int(pct_start * transition_steps), transition_steps]
    )


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: ArrayLike,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    r"""Returns optax's three-phase linear one-cycle schedule.

    :func:`piecewise_interpolate_schedule` (``'linear'``) through the values
    :math:`P / d`, :math:`P`, :math:`P / d`, :math:`P / (d f)` at steps 0,
    :math:`\lfloor p_s T \rfloor`, :math:`\lfloor p_f T \rfloor` and :math:`T`,
    with :math:`T, P, p_s, p_f, d, f` the arguments; :math:`P / (d f)` from
    :math:`T` on. Those steps must be strictly increasing (optax silently
    merges phases that fall on one step; gradtx raises).

    Args:
      transition_steps: the length :math:`T` of the cycle, an int >= 1.
      peak_value: the value at step :math:`\lfloor p_s T \rfloor`.
      pct_start: the fraction of the cycle spent rising, in [0, 1).
      pct_final: the fraction of the cycle spent rising and falling back to
        the start value, in (``pct_start``, 1).
      div_factor: the start value is ``peak_value / div_factor``; > 0.
      final_div_factor: the final value is the start value divided by it; > 0.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite, or two phases
        end on one step.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.linear_onecycle_schedule(100, 1.0, pct_start=0.2,
      ...     pct_final=0.8, div_factor=10.0, final_div_factor=10.0)
      >>> [round(float(s(t)), 4) for t in (0, 20, 50, 80, 100, 1000)]
      [0.1, 1.0, 0.55, 0.1, 0.01, 0.01]

    References:
      Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks
      Using Large Learning Rates*, 2017, https://arxiv.org/abs/1708.07120
    """
    fn = "linear_onecycle_schedule"
    _onecycle_steps(fn, transition_steps, peak_value)
    validate.number(fn, "pct_start", pct_start, low=0, high=1, high_open=True)
    validate.number(fn, "pct_final", pct_final, low=0, high=1, high_open=True)
    validate.number(fn, "div_factor", div_factor, **_FINITE_POSITIVE)
    validate.number(fn, "final_div_factor", final_div_factor, **_FINITE_POSITIVE)
    ends = [int(pct_start * transition_steps), int(pct_final * transition_steps)]
    _phase_ends(fn, "pct_start and pct_final", [*ends, transition_steps])
    start = peak_value / div_factor
    values = [start, peak_value, start, start / final_div_factor]
    return _interpolate("linear", values, [*ends, transition_steps])


def _anneal(cos: bool, v0: Any, v1: Any, t: jax.Array, t0: float, t1: float) -> Any:
    """From ``v0`` at ``t0`` to ``v1`` at ``t1`` (``t`` float, in between)."""
    span = (t1 - t0) or 1.0  # 0 only in a phase that is never selected
    done, left = (t - t0) / span, (t1 - t) / span
    if not cos:
        return _lerp(v0, v1, left, done, t.dtype)
    # (1 + cos(pi d)) / 2 = cos(pi d / 2)^2 = sin(pi (1 - d) / 2)^2: each from
    # its accurate fraction, as in cosine_decay_schedule.
    early = done <= 0.5
    angle = jnp.pi / 2 * jnp.where(early, done, left)
    sin2, cos2 = jnp.sin(angle) ** 2, jnp.cos(angle) ** 2
    return _lerp(
        v0, v1, jnp.where(early, cos2, sin2), jnp.where(early, sin2, cos2), t.dtype
    )


def one_cycle_schedule(
    max_lr: ArrayLike,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""Returns PyTorch's ``OneCycleLR`` learning rate, step by step.

    With :math:`M, T, p` the first arguments, the start value
    :math:`I = M / d` and the final value :math:`I / f`, the phases end at
    steps :math:`e_1 = pT - 1` and :math:`e_2 = T - 1` (two phases:
    :math:`I \to M \to I / f`), or :math:`e_1 = pT - 1`, :math:`e_2 = 2pT - 2`,
    :math:`e_3 = T - 1` (``three_phase``: :math:`I \to M \to I \to I / f`).
    In the first phase :math:`i` with :math:`t \le e_i` (:math:`e_0 = 0`),
    with :math:`q = (t - e_{i-1}) / (e_i - e_{i-1})`, from :math:`a` to :math:`b`:

    .. math::
      v(t) = b + \tfrac{1}{2}(a - b)(1 + \cos \pi q) \;\; \text{('cos')}, \quad
      v(t) = a + (b - a) \, q \;\; \text{('linear')}

    The value holds :math:`I / f` from step :math:`T - 1` on (PyTorch raises
    past step :math:`T`, and at step :math:`T`, after the last update, it
    extrapolates the last phase). Only the learning rate is scheduled, not
    the momentum. (optax's :func:`cosine_onecycle_schedule` ends its phases at
    :math:`\lfloor pT \rfloor` and :math:`T` instead.)

    Args:
      max_lr: the peak value :math:`M`.
      total_steps: the number of steps :math:`T`, an int >= 1.
      pct_start: the fraction :math:`p` of the steps spent rising, in [0, 1];
        ``pct_start * total_steps`` must not be exactly 1 (the first phase
        would have length 0: PyTorch divides by zero).
      anneal_strategy: ``'cos'`` or ``'linear'``.
      div_factor: the start value is ``max_lr / div_factor``; > 0.
      final_div_factor: the final value is the start value divided by it; > 0.
      three_phase: whether to fall back to the start value before the final
        decay (Smith's original schedule) instead of decaying straight to
        the final value.

    Returns:
      A schedule ``count -> value``.

    Raises:
      ValueError: an argument is out of range or not finite.
      TypeError: an argument has the wrong type.

    Example:
      >>> from gradtx import schedules
      >>> s = schedules.one_cycle_schedule(1.0, total_steps=50, pct_start=0.2,
      ...     anneal_strategy='linear', div_factor=10.0, final_div_factor=10.0)
      >>> [round(float(s(t)), 4) for t in (0, 9, 49, 1000)]
      [0.1, 1.0, 0.01, 0.01]

    References:
      Smith & Topin, *Super-Convergence: Very Fast Training of Neural Networks
      Using Large Learning Rates*, 2017, https://arxiv.org/abs/1708.07120;
      ``torch.optim.lr_scheduler.OneCycleLR``.
    """
    fn = "one_cycle_schedule"
    _finite(fn, max_lr=max_lr)
    validate.plain_number(fn, "total_steps", total_steps, low=1, integer=True)
    validate.number(fn, "pct_start", pct_start, low=0, high=1)
    strategy = validate.choice(
        fn, "anneal_strategy", anneal_strategy, ["cos", "linear"]
    )
    validate.number(fn, "div_factor", div_factor, **_FINITE_POSITIVE)
    validate.number(fn, "final_div_factor", final_div_factor, **_FINITE_POSITIVE)
    validate.boolean(fn, "three_phase", three_phase)
    rise = float(pct_start * total_steps)
    if rise == 1:
        raise validate.error(
            ValueError,
            fn,
            f"pct_start * total_steps must not be 1 (the rise would last 0 steps), "
            f"got pct_start={pct_start!r}, total_steps={total_steps!r}.",
        )
    init = max_lr / div_factor
    final = init / final_div_factor
    if three_phase:
        phases = [(rise - 1, init, max_lr), (2 * rise - 2, max_lr, init)]
    else:
        phases = [(rise - 1, init, max_lr)]
    phases.append((total_steps - 1.0, phases[-1][2], final))

    def schedule(count: ArrayLike) -> jax.Array:
        dtype = _dtype(max_lr)
        t = jnp.clip(jnp.asarray(count), 0, total_steps - 1).astype(dtype)
        values = []
        start = 0.0
        for end, a, b in phases:
            values.append(_anneal(strategy == "cos", a, b, t, start, end))
            start = end
        value = values[-1]
        for (end, _, _), v in reversed(
            list(zip(phases[:-1], values[:-1], strict=True))
        ):
            value = jnp.where(t <= end, v, value)
        return value

    return schedule
