"""Tests for gradtx.schedules: optax parity, closed forms, jit/vmap, validation.

The suite runs with ``jax_enable_x64`` and rank promotion set to raise (see
conftest.py). Every expected value comes from optax or from NumPy formulas
written from the math, never from gradtx itself.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import schedules as gs

f32 = np.float32
TOL: dict[str, Any] = {"rtol": 1e-6, "atol": 1e-7}

# Each case builds the same schedule with either library (same keyword names),
# its value arguments made with `v` (a float type), and the step where it ends.
Builder = Callable[[Any, Callable[[float], Any]], Any]
CASES: dict[str, tuple[Builder, int]] = {
    "constant": (lambda lib, v: lib.constant_schedule(value=v(0.3)), 0),
    "linear": (
        lambda lib, v: lib.linear_schedule(
            init_value=v(1.0), end_value=v(0.01), transition_steps=40
        ),
        40,
    ),
    "linear_up_begin": (
        lambda lib, v: lib.linear_schedule(
            init_value=v(0.0),
            end_value=v(2.0),
            transition_steps=30,
            transition_begin=10,
        ),
        40,
    ),
    "polynomial_p2": (
        lambda lib, v: lib.polynomial_schedule(
            init_value=v(1.0), end_value=v(0.01), power=2, transition_steps=50
        ),
        50,
    ),
    "polynomial_sqrt_begin": (
        lambda lib, v: lib.polynomial_schedule(
            init_value=v(0.5),
            end_value=v(0.1),
            power=v(0.5),
            transition_steps=25,
            transition_begin=7,
        ),
        32,
    ),
    "cosine": (
        lambda lib, v: lib.cosine_decay_schedule(init_value=v(0.1), decay_steps=40),
        40,
    ),
    "cosine_alpha_exp2": (
        lambda lib, v: lib.cosine_decay_schedule(
            init_value=v(2.0), decay_steps=25, alpha=v(0.1), exponent=v(2.0)
        ),
        25,
    ),
    "cosine_exp_half": (
        lambda lib, v: lib.cosine_decay_schedule(
            init_value=v(1.0), decay_steps=30, alpha=v(0.25), exponent=v(0.5)
        ),
        30,
    ),
    "exponential": (
        lambda lib, v: lib.exponential_decay(
            init_value=v(1.0), transition_steps=10, decay_rate=v(0.5)
        ),
        40,
    ),
    "exponential_staircase_begin": (
        lambda lib, v: lib.exponential_decay(
            init_value=v(0.8),
            transition_steps=7,
            decay_rate=v(0.6),
            transition_begin=5,
            staircase=True,
        ),
        40,
    ),
    "exponential_lower_bound": (
        lambda lib, v: lib.exponential_decay(
            init_value=v(1.0), transition_steps=5, decay_rate=v(0.7), end_value=v(0.2)
        ),
        30,
    ),
    "exponential_upper_bound_staircase": (
        lambda lib, v: lib.exponential_decay(
            init_value=v(0.01),
            transition_steps=4,
            decay_rate=v(2.0),
            transition_begin=3,
            staircase=True,
            end_value=v(0.5),
        ),
        30,
    ),
    "piecewise": (
        lambda lib, v: lib.piecewise_constant_schedule(
            init_value=v(1.0), boundaries_and_scales={10: v(0.5), 25: v(0.1), 40: v(0)}
        ),
        40,
    ),
    "piecewise_unsorted": (
        lambda lib, v: lib.piecewise_constant_schedule(
            init_value=v(0.3), boundaries_and_scales={30: v(2.0), 0: v(0.5)}
        ),
        30,
    ),
    "piecewise_none": (
        lambda lib, v: lib.piecewise_constant_schedule(init_value=v(0.7)),
        0,
    ),
    "warmup_cosine": (
        lambda lib, v: lib.warmup_cosine_decay_schedule(
            init_value=v(0.0),
            peak_value=v(1.0),
            warmup_steps=10,
            decay_steps=50,
            end_value=v(0.05),
        ),
        50,
    ),
    "warmup_cosine_no_warmup_exp2": (
        lambda lib, v: lib.warmup_cosine_decay_schedule(
            init_value=v(0.1),
            peak_value=v(1.0),
            warmup_steps=0,
            decay_steps=30,
            exponent=v(2.0),
        ),
        30,
    ),
    "warmup_cosine_exp_half": (
        lambda lib, v: lib.warmup_cosine_decay_schedule(
            init_value=v(0.2),
            peak_value=v(0.6),
            warmup_steps=7,
            decay_steps=33,
            end_value=v(0.1),
            exponent=v(0.5),
        ),
        33,
    ),
    "join": (
        lambda lib, v: lib.join_schedules(
            schedules=[
                lib.linear_schedule(v(0.0), v(1.0), 15),
                lib.cosine_decay_schedule(v(1.0), 15, alpha=v(0.2)),
                lib.constant_schedule(v(0.2)),
            ],
            boundaries=[15, 30],
        ),
        30,
    ),
}
IDS = list(CASES)


# Steps 0 .. (the latest end + 20), the same for every case.
COUNTS = np.arange(max(end for _, end in CASES.values()) + 21, dtype=np.int32)


def _at(schedule: Any, counts: Any) -> np.ndarray:
    """The values at int32 ``counts``, in one compiled call."""
    return np.asarray(jax.jit(schedule)(jnp.asarray(counts, jnp.int32)))


@functools.cache
def _batched(case: str) -> np.ndarray:
    """gradtx's values (float32 inputs) at COUNTS and at 2**31 - 1, jit of vmap."""
    schedule = CASES[case][0](gs, f32)
    counts = jnp.asarray([*COUNTS, 2**31 - 1], jnp.int32)
    return np.asarray(jax.jit(jax.vmap(schedule))(counts))


@pytest.mark.parametrize("case", IDS)
def test_parity_with_optax_and_clamped_far_past_the_end(case: str) -> None:
    build, end = CASES[case]
    # optax eagerly: jitted, its float32 transitions miss their ends (see below).
    expected = np.broadcast_to(build(optax, f32)(jnp.asarray(COUNTS)), COUNTS.shape)
    got = _batched(case)
    np.testing.assert_allclose(got[:-1], expected, **TOL)
    assert np.isfinite(got[-1])
    if not case.startswith("exponential"):  # these have no end step
        np.testing.assert_allclose(got[-1], got[end + 20], **TOL)


@pytest.mark.parametrize("case", IDS)
def test_jit_and_vmap_match_eager(case: str) -> None:
    build, end = CASES[case]
    schedule = build(gs, f32)
    counts = np.array([0, 1, end // 2, end, end + 7], np.int32)
    eager = np.array([float(schedule(int(c))) for c in counts])
    jitted = jax.jit(schedule)  # on a scalar int32 counter, as in an optimizer
    per_counter = np.array([jitted(jnp.int32(c)) for c in counts])
    assert per_counter.dtype == np.float32
    np.testing.assert_allclose(per_counter, eager, **TOL)
    np.testing.assert_allclose(_batched(case)[counts], eager, **TOL)


@pytest.mark.parametrize("case", IDS)
@pytest.mark.parametrize(
    ("make", "dtype"),
    [(float, jnp.float32), (f32, jnp.float32), (np.float64, jnp.float64)],
)
def test_dtype_and_shape(case: str, make: Any, dtype: Any) -> None:
    # Python floats never force float64 under x64; float64 arrays do.
    schedule = CASES[case][0](gs, make)
    for count, shape in [(jnp.int32(3), ()), (jnp.zeros(4, jnp.int32), (4,))]:
        out = jax.eval_shape(schedule, count)
        assert (out.dtype, out.shape) == (dtype, shape)


# ----------------------------------------------------------------- closed forms


def test_linear_closed_form() -> None:
    s = gs.linear_schedule(0.5, 2.5, transition_steps=20, transition_begin=10)
    got = _at(s, [0, 10, 15, 20, 30, 10**6])
    np.testing.assert_allclose(got, [0.5, 0.5, 1.0, 1.5, 2.5, 2.5], **TOL)


@pytest.mark.parametrize("power", [0.5, 1, 2, 3.0])
def test_polynomial_closed_form(power: float) -> None:
    init, end, steps, begin = 1.0, 0.1, 40, 4
    t = np.arange(60)
    tau = np.clip(t - begin, 0, steps)
    expected = (init - end) * (1 - tau / steps) ** power + end
    got = _at(gs.polynomial_schedule(init, end, power, steps, begin), t)
    np.testing.assert_allclose(got, expected, **TOL)


@pytest.mark.parametrize(("alpha", "exponent"), [(0.0, 1.0), (0.3, 1.0), (0.1, 2.0)])
def test_cosine_closed_form(alpha: float, exponent: float) -> None:
    init, steps = 2.0, 100
    s = gs.cosine_decay_schedule(init, steps, alpha=alpha, exponent=exponent)
    mid = init * ((1 - alpha) * 0.5**exponent + alpha)  # cos(pi / 2) = 0
    quarter = init * ((1 - alpha) * ((1 + math.sqrt(0.5)) / 2) ** exponent + alpha)
    got = _at(s, [0, 25, 50, 100, 10**7])
    expected = [init, quarter, mid, alpha * init, alpha * init]
    np.testing.assert_allclose(got, expected, **TOL)
    if exponent == 1.0:
        np.testing.assert_allclose(got[2], (init + alpha * init) / 2, **TOL)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_closed_form(staircase: bool) -> None:
    init, rate, period, begin = 3.0, 0.7, 8, 5
    s = gs.exponential_decay(init, period, rate, begin, staircase=staircase)
    k = np.arange(6)
    at_k = _at(s, begin + k * period)
    halfway = _at(s, begin + k * period + period // 2)
    np.testing.assert_allclose(at_k, init * rate**k, **TOL)
    np.testing.assert_allclose(halfway, init * rate ** (k + (not staircase) / 2), **TOL)
    np.testing.assert_allclose(_at(s, [0, begin]), [init, init], **TOL)


def test_exponential_end_value_bounds_both_ways() -> None:
    down = gs.exponential_decay(1.0, 1, 0.5, end_value=0.1)
    up = gs.exponential_decay(1.0, 1, 2.0, end_value=5.0)
    t = [2, 3, 4, 100]
    np.testing.assert_allclose(_at(down, t), [0.25, 0.125, 0.1, 0.1], **TOL)
    np.testing.assert_allclose(_at(up, t), [4.0, 5.0, 5.0, 5.0], **TOL)


def test_piecewise_closed_form() -> None:
    s = gs.piecewise_constant_schedule(2.0, {30: 0.1, 10: 0.5})
    got = _at(s, [0, 9, 10, 29, 30, 10**6])
    np.testing.assert_allclose(got, [2.0, 2.0, 1.0, 1.0, 0.1, 0.1], **TOL)


def test_warmup_cosine_closed_form() -> None:
    init, peak, end, warm, total = 0.1, 1.0, 0.2, 20, 120
    s = gs.warmup_cosine_decay_schedule(init, peak, warm, total, end_value=end)
    got = _at(s, [0, 10, 20, 70, 120, 10**6])
    expected = [init, (init + peak) / 2, peak, (peak + end) / 2, end, end]
    np.testing.assert_allclose(got, expected, **TOL)


def test_warmup_cosine_reaches_end_value_when_peak_is_zero() -> None:
    # optax computes alpha = end / peak and returns 0 here; the math says `end`.
    s = gs.warmup_cosine_decay_schedule(0.0, 0.0, 5, 15, end_value=0.5)
    np.testing.assert_allclose(_at(s, [5, 10, 15]), [0.0, 0.25, 0.5], **TOL)


def test_join_restarts_each_schedule_at_its_boundary() -> None:
    s = gs.join_schedules(
        [gs.constant_schedule(1.0), gs.linear_schedule(0.0, 1.0, 10)], [5]
    )
    got = _at(s, [0, 4, 5, 10, 15, 99])
    np.testing.assert_allclose(got, [1.0, 1.0, 0.0, 0.5, 1.0, 1.0], **TOL)


# --------------------------------------- exactness under jit (float32, x * 1/T)


def test_staircase_steps_exactly_at_period_boundaries_under_jit() -> None:
    # XLA rewrites x / T as x * (1 / T); floor() of that is one period late for
    # T = 41, 47, 55, ... (optax 0.2.8 shows this in float32).
    for period in (41, 47, 55, 61, 83, 97):
        s = gs.exponential_decay(1.0, period, 0.5, staircase=True)
        k = np.arange(7)
        np.testing.assert_array_equal(_at(s, k * period), 0.5**k)
        np.testing.assert_array_equal(_at(s, k * period - 1)[1:], 0.5 ** k[:-1])


def test_transitions_hit_both_ends_exactly_under_jit() -> None:
    cases = [
        (gs.polynomial_schedule(0.5, 0.1, 0.5, 25, 7), 7, 32, 0.5, 0.1),
        (gs.linear_schedule(0.0, 2.0, 30, 10), 10, 40, 0.0, 2.0),
        (gs.cosine_decay_schedule(1.0, 30, 0.25, 0.5), 0, 30, 1.0, 0.25),
        (gs.warmup_cosine_decay_schedule(0.0, 0.6, 7, 33, 0.1, 0.5), 0, 33, 0.0, 0.1),
    ]
    for s, start, stop, first, last in cases:
        got = _at(s, [start, stop])
        np.testing.assert_array_equal(got, np.array([first, last], np.float32))


# ------------------------------------------------------ tracers and jax arrays


def test_traced_hyperparameters() -> None:
    @jax.jit
    def values(init: jax.Array, steps: jax.Array, rate: jax.Array) -> jax.Array:
        c = jnp.arange(25, dtype=jnp.int32)
        return jnp.stack(
            [
                gs.linear_schedule(init, 0.0, steps)(c),
                gs.exponential_decay(init, steps, rate, end_value=init / 4)(c),
                gs.warmup_cosine_decay_schedule(0.0, init, steps, 2 * steps)(c),
            ]
        )

    t = np.arange(25)
    cosine = 0.5 * (1 + np.cos(np.pi * np.minimum(t - 10, 10) / 10))
    expected = np.stack(
        [
            1 - np.minimum(t, 10) / 10,
            np.maximum(0.5 ** (t / 10), 0.25),
            np.where(t < 10, t / 10, cosine),
        ]
    )
    got = values(jnp.float32(1.0), jnp.int32(10), jnp.float32(0.5))
    np.testing.assert_allclose(got, expected, **TOL)


def test_concrete_jax_arrays_are_checked() -> None:
    gs.linear_schedule(jnp.float32(1.0), jnp.float32(0.0), jnp.int32(10))
    with pytest.raises(ValueError, match="transition_steps"):
        gs.linear_schedule(jnp.float32(1.0), jnp.float32(0.0), jnp.int32(0))


# ------------------------------------------------------------------ validation

lin, poly, cos = gs.linear_schedule, gs.polynomial_schedule, gs.cosine_decay_schedule
exp, pw = gs.exponential_decay, gs.piecewise_constant_schedule
wcos, join, one = (
    gs.warmup_cosine_decay_schedule,
    gs.join_schedules,
    gs.constant_schedule,
)
BAD: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: one(math.nan), ValueError, "value"),
    (lambda: one("0.1"), TypeError, "value"),
    (
        lambda: lin(1.0, 0.0, 0),
        ValueError,
        r"transition_steps must be in \(0, inf\), got 0\.",
    ),
    (lambda: lin(1.0, 0.0, -5), ValueError, "transition_steps"),
    (lambda: lin(1.0, 0.0, 10, -1), ValueError, "transition_begin"),
    (lambda: lin(math.inf, 0.0, 10), ValueError, "init_value"),
    (lambda: lin(1.0, math.nan, 10), ValueError, "end_value"),
    (lambda: lin(np.ones(2), 0.0, 10), ValueError, "init_value"),
    (lambda: poly(1.0, 0.0, 0, 10), ValueError, "power"),
    (lambda: poly(1.0, 0.0, -1.0, 10), ValueError, "power"),
    (lambda: poly(1.0, 0.0, 2, 0), ValueError, "transition_steps"),
    (lambda: cos(1.0, 0), ValueError, "decay_steps"),
    (lambda: cos(1.0, 10, alpha=1.5), ValueError, "alpha"),
    (lambda: cos(1.0, 10, alpha=-0.1), ValueError, "alpha"),
    (lambda: cos(1.0, 10, exponent=0.0), ValueError, "exponent"),
    (lambda: cos(None, 10), TypeError, "init_value"),
    (lambda: exp(1.0, 0, 0.5), ValueError, "transition_steps"),
    (lambda: exp(1.0, 10, 0.0), ValueError, "decay_rate"),
    (lambda: exp(1.0, 10, -0.5), ValueError, "decay_rate"),
    (lambda: exp(1.0, 10, 0.5, -3), ValueError, "transition_begin"),
    (lambda: exp(1.0, 10, 0.5, staircase=1), TypeError, "staircase"),
    (lambda: exp(1.0, 10, 0.5, end_value=2.0), ValueError, "end_value must be <="),
    (lambda: exp(1.0, 10, 2.0, end_value=0.5), ValueError, "end_value must be >="),
    (lambda: exp(1.0, 10, 1.0, end_value=0.5), ValueError, "end_value must be >="),
    (lambda: exp(1.0, 10, 0.5, end_value=math.inf), ValueError, "end_value"),
    (lambda: pw(1.0, {10: -0.1}), ValueError, r"boundaries_and_scales\[10\]"),
    (lambda: pw(1.0, {10: math.inf}), ValueError, r"boundaries_and_scales\[10\]"),
    (lambda: pw(1.0, {-1: 0.5}), ValueError, "boundaries_and_scales must be non-neg"),
    (lambda: pw(1.0, {1.5: 0.5}), TypeError, "boundaries_and_scales"),
    (lambda: pw(1.0, [(10, 0.5)]), TypeError, "boundaries_and_scales"),
    (lambda: wcos(0.0, 1.0, -1, 10), ValueError, "warmup_steps"),
    (lambda: wcos(0.0, 1.0, 0, 0), ValueError, "decay_steps"),
    (lambda: wcos(0.0, 1.0, 10, 10), ValueError, "greater than warmup_steps"),
    (lambda: wcos(0.0, 1.0, 20, 10), ValueError, "greater than warmup_steps"),
    (lambda: wcos(0.0, 1.0, 5, 10, exponent=-1.0), ValueError, "exponent"),
    (lambda: wcos(0.0, math.nan, 5, 10), ValueError, "peak_value"),
    (
        lambda: join([one(1.0)] * 3, [100, 50]),
        ValueError,
        r"boundaries must be strictly increasing, got \[100, 50\]\.",
    ),
    (lambda: join([one(1.0)] * 3, [10, 10]), ValueError, "boundaries must be strictly"),
    (lambda: join([one(1.0)] * 2, [-1]), ValueError, "boundaries must be non-negative"),
    (lambda: join([one(1.0)] * 2, [1.5]), TypeError, "boundaries"),
    (
        lambda: join([one(1.0)] * 2, [5, 10]),
        ValueError,
        r"len\(schedules\)=2, len\(boundaries\)=2",
    ),
    (lambda: join([one(1.0), 0.5], [5]), TypeError, r"schedules\[1\]"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD)
def test_bad_arguments_raise_at_construction(
    make: Callable[[], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make()


def test_messages_teach_the_fix() -> None:
    with pytest.raises(ValueError, match="constant_schedule"):
        gs.linear_schedule(1.0, 0.0, 0)
    with pytest.raises(ValueError, match="piecewise_constant_schedule"):
        gs.exponential_decay(1.0, 10, 0.0)
