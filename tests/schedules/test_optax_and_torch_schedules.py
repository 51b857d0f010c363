"""Tests for the warmup, one-cycle, restart and cyclic schedules.

Each optax-named schedule is compared with optax's at every step, past the
end included; each PyTorch-semantics schedule with the learning rate that
``torch.optim.lr_scheduler`` sets, step by step. Then jit against eager, the
behaviours gradtx deliberately does not copy, and the argument checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from gradtx import schedules as gs

TOL: dict[str, Any] = {"rtol": 1e-6, "atol": 1e-7}
N = 50

# Each optax case builds the same schedule with either library.
OPTAX_CASES: dict[str, Callable[[Any], Any]] = {
    "warmup_constant": lambda lib: lib.warmup_constant_schedule(0.0, 1.0, 10),
    "warmup_constant_down": lambda lib: lib.warmup_constant_schedule(
        init_value=0.5, peak_value=0.1, warmup_steps=25
    ),
    "warmup_exp": lambda lib: lib.warmup_exponential_decay_schedule(
        0.0, 1.0, warmup_steps=10, transition_steps=5, decay_rate=0.5
    ),
    "warmup_exp_staircase_end": lambda lib: lib.warmup_exponential_decay_schedule(
        0.1,
        1.0,
        warmup_steps=8,
        transition_steps=4,
        decay_rate=0.7,
        transition_begin=3,
        staircase=True,
        end_value=0.2,
    ),
    "warmup_exp_growth": lambda lib: lib.warmup_exponential_decay_schedule(
        0.0, 0.2, warmup_steps=5, transition_steps=4, decay_rate=1.5, end_value=1.0
    ),
    "sgdr_one": lambda lib: lib.sgdr_schedule(
        [dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=30)]
    ),
    "sgdr_three": lambda lib: lib.sgdr_schedule(
        [
            dict(init_value=0.0, peak_value=1.0, warmup_steps=5, decay_steps=20),
            dict(
                init_value=0.5,
                peak_value=0.8,
                warmup_steps=0,
                decay_steps=15,
                end_value=0.1,
                exponent=2.0,
            ),
            dict(init_value=0.2, peak_value=0.4, warmup_steps=3, decay_steps=10),
        ]
    ),
    "cosine_onecycle": lambda lib: lib.cosine_onecycle_schedule(40, 1.0),
    "cosine_onecycle_args": lambda lib: lib.cosine_onecycle_schedule(
        transition_steps=30,
        peak_value=0.5,
        pct_start=0.5,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "cosine_onecycle_no_rise": lambda lib: lib.cosine_onecycle_schedule(
        25, 2.0, pct_start=0.0
    ),
    "linear_onecycle": lambda lib: lib.linear_onecycle_schedule(40, 1.0),
    "linear_onecycle_args": lambda lib: lib.linear_onecycle_schedule(
        transition_steps=30,
        peak_value=2.0,
        pct_start=0.2,
        pct_final=0.6,
        div_factor=5.0,
        final_div_factor=50.0,
    ),
    "interp_linear": lambda lib: lib.piecewise_interpolate_schedule(
        "linear", 1.0, {4: 0.1, 8: 0.01}
    ),
    "interp_cosine": lambda lib: lib.piecewise_interpolate_schedule(
        "cosine", 0.3, {0: 2.0, 10: 0.5, 25: 3.0}
    ),
    "interp_linear_none": lambda lib: lib.piecewise_interpolate_schedule("linear", 0.7),
    "interp_cosine_empty": lambda lib: lib.piecewise_interpolate_schedule(
        "cosine", 0.7, {}
    ),
}


def _steps(schedule: Any, n: int) -> np.ndarray:
    """The schedule's values at steps 0..n, one int32 count at a time."""
    return np.array([float(schedule(jnp.int32(t))) for t in range(n + 1)])


@pytest.mark.parametrize("name", sorted(OPTAX_CASES))
def test_matches_optax_at_every_step(name: str) -> None:
    build = OPTAX_CASES[name]
    np.testing.assert_allclose(
        _steps(build(gs), N), _steps(build(optax.schedules), N), **TOL
    )


def _torch_lrs(make: Callable[[Any], Any], lr: float, n: int) -> np.ndarray:
    """``param_groups[0]['lr']`` before the first step and after each of ``n``."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    return np.array(lrs)


sched = torch.optim.lr_scheduler
# name: (gradtx schedule, torch scheduler factory, optimizer lr, steps).
TORCH_CASES: dict[str, tuple[Callable[[], Any], Callable[[Any], Any], float, int]] = {
    "restarts": (
        lambda: gs.cosine_annealing_warm_restarts_schedule(0.1, T_0=10),
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=10),
        0.1,
        N,
    ),
    "restarts_mult2": (
        lambda: gs.cosine_annealing_warm_restarts_schedule(
            0.1, T_0=3, T_mult=2, eta_min=0.01
        ),
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
        0.1,
        N,
    ),
    "restarts_t1_mult3": (
        lambda: gs.cosine_annealing_warm_restarts_schedule(1.0, T_0=1, T_mult=3),
        lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3),
        1.0,
        N,
    ),
    # OneCycleLR: steps 0..total_steps - 1, those an update uses.
    "one_cycle": (
        lambda: gs.one_cycle_schedule(0.1, total_steps=N),
        lambda o: sched.OneCycleLR(o, 0.1, total_steps=N, cycle_momentum=False),
        0.1,
        N - 1,
    ),
    "one_cycle_linear_three_phase": (
        lambda: gs.one_cycle_schedule(
            0.5,
            total_steps=40,
            pct_start=0.25,
            anneal_strategy="linear",
            div_factor=10.0,
            final_div_factor=100.0,
            three_phase=True,
        ),
        lambda o: sched.OneCycleLR(
            o,
            0.5,
            total_steps=40,
            pct_start=0.25,
            anneal_strategy="linear",
            div_factor=10.0,
            final_div_factor=100.0,
            three_phase=True,
            cycle_momentum=False,
        ),
        0.5,
        39,
    ),
    "one_cycle_cos_three_phase": (
        lambda: gs.one_cycle_schedule(1.0, total_steps=33, three_phase=True),
        lambda o: sched.OneCycleLR(
            o, 1.0, total_steps=33, three_phase=True, cycle_momentum=False
        ),
        1.0,
        32,
    ),
    "one_cycle_short_rise": (  # pct_start * total_steps < 1: no rise at all
        lambda: gs.one_cycle_schedule(0.2, total_steps=N, pct_start=0.01),
        lambda o: sched.OneCycleLR(
            o, 0.2, total_steps=N, pct_start=0.01, cycle_momentum=False
        ),
        0.2,
        N - 1,
    ),
    "one_cycle_all_rise": (
        lambda: gs.one_cycle_schedule(0.2, total_steps=30, pct_start=1.0),
        lambda o: sched.OneCycleLR(
            o, 0.2, total_steps=30, pct_start=1.0, cycle_momentum=False
        ),
        0.2,
        29,
    ),
    "cyclic": (
        lambda: gs.cyclic_schedule(0.01, 0.1, step_size_up=5),
        lambda o: sched.CyclicLR(o, 0.01, 0.1, step_size_up=5, cycle_momentum=False),
        0.01,
        N,
    ),
    "cyclic_triangular2": (
        lambda: gs.cyclic_schedule(0.01, 0.1, 4, 7, mode="triangular2"),
        lambda o: sched.CyclicLR(
            o, 0.01, 0.1, 4, 7, mode="triangular2", cycle_momentum=False
        ),
        0.01,
        N,
    ),
    "cyclic_exp_range": (
        lambda: gs.cyclic_schedule(0.01, 0.1, 3, 5, mode="exp_range", gamma=0.97),
        lambda o: sched.CyclicLR(
            o, 0.01, 0.1, 3, 5, mode="exp_range", gamma=0.97, cycle_momentum=False
        ),
        0.01,
        N,
    ),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_matches_torch_step_by_step(name: str) -> None:
    build, make, lr, n = TORCH_CASES[name]
    np.testing.assert_allclose(_steps(build(), n), _torch_lrs(make, lr, n), **TOL)


ALL_CASES: dict[str, Callable[[], Any]] = {
    **{k: (lambda b=b: b(gs)) for k, b in OPTAX_CASES.items()},
    **{k: c[0] for k, c in TORCH_CASES.items()},
}


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_jit_matches_eager(name: str) -> None:
    schedule = ALL_CASES[name]()
    counts = jnp.arange(N + 10, dtype=jnp.int32)
    jitted = np.asarray(jax.jit(schedule)(counts))
    assert jitted.shape == counts.shape
    np.testing.assert_allclose(jitted, _steps(schedule, N + 9), **TOL)


def test_warmup_constant_without_warmup_starts_at_peak() -> None:
    # optax holds init_value for good here (a linear schedule of length 0).
    s = gs.warmup_constant_schedule(0.0, 1.0, warmup_steps=0)
    assert [float(s(t)) for t in (0, 1, 100)] == [1.0, 1.0, 1.0]


def test_one_cycle_holds_its_final_value() -> None:
    # torch extrapolates at step total_steps and raises after it.
    s = gs.one_cycle_schedule(0.1, total_steps=20, div_factor=10.0)
    final = 0.1 / 10.0 / 1e4
    np.testing.assert_allclose([float(s(t)) for t in (19, 20, 10_000)], final, **TOL)


def test_restarts_are_exact_at_large_counts() -> None:
    s = jax.jit(gs.cosine_annealing_warm_restarts_schedule(1.0, T_0=1, T_mult=2))
    starts = jnp.array([2**k - 1 for k in range(20, 31)], jnp.int32)
    np.testing.assert_array_equal(np.asarray(s(starts)), 1.0)  # each a restart
    mids = jnp.array([2**k - 1 + 2 ** (k - 1) for k in range(20, 30)], jnp.int32)
    np.testing.assert_allclose(np.asarray(s(mids)), 0.5, rtol=1e-6)


OK_CYCLE = dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10)
BAD_ARGS: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (
        lambda: gs.warmup_constant_schedule(0.0, 1.0, -1),
        ValueError,
        "warmup_constant_schedule: warmup_steps",
    ),
    (
        lambda: gs.warmup_constant_schedule(0.0, float("nan"), 5),
        ValueError,
        "warmup_constant_schedule: peak_value",
    ),
    (
        lambda: gs.warmup_exponential_decay_schedule(0.0, 1.0, 10, 0, 0.5),
        ValueError,
        "warmup_exponential_decay_schedule: transition_steps",
    ),
    (
        lambda: gs.warmup_exponential_decay_schedule(0.0, 1.0, 10, 5, 0.0),
        ValueError,
        "warmup_exponential_decay_schedule: decay_rate",
    ),
    (
        lambda: gs.warmup_exponential_decay_schedule(
            0.0, 1.0, 10, 5, 0.5, end_value=2.0
        ),
        ValueError,
        "warmup_exponential_decay_schedule: end_value must be <= peak_value",
    ),
    (lambda: gs.sgdr_schedule([]), ValueError, "sgdr_schedule: cosine_kwargs"),
    (
        lambda: gs.sgdr_schedule(
            [dict(init_value=0.0, peak_value=1.0, warmup_steps=0)]
        ),
        TypeError,
        r"sgdr_schedule: cosine_kwargs\[0\] must hold decay_steps",
    ),
    (
        lambda: gs.sgdr_schedule([{**OK_CYCLE, "alpha": 0.1}]),
        TypeError,
        r"sgdr_schedule: cosine_kwargs\[0\]",
    ),
    (
        lambda: gs.sgdr_schedule([OK_CYCLE, {**OK_CYCLE, "warmup_steps": 20}]),
        ValueError,
        r"sgdr_schedule: cosine_kwargs\[1\]: decay_steps must be greater",
    ),
    (
        lambda: gs.cosine_onecycle_schedule(0, 1.0),
        ValueError,
        "cosine_onecycle_schedule: transition_steps",
    ),
    (
        lambda: gs.cosine_onecycle_schedule(10.5, 1.0),
        TypeError,
        "cosine_onecycle_schedule: transition_steps",
    ),
    (
        lambda: gs.cosine_onecycle_schedule(10, 1.0, pct_start=1.0),
        ValueError,
        "cosine_onecycle_schedule: pct_start",
    ),
    (
        lambda: gs.linear_onecycle_schedule(10, 1.0, div_factor=0.0),
        ValueError,
        "linear_onecycle_schedule: div_factor",
    ),
    (
        lambda: gs.linear_onecycle_schedule(5, 1.0, pct_start=0.3, pct_final=0.35),
        ValueError,
        "linear_onecycle_schedule: pct_start and pct_final",
    ),
    (
        lambda: gs.linear_onecycle_schedule(10, 1.0, pct_final=1.0),
        ValueError,
        "linear_onecycle_schedule: pct_final",
    ),
    (
        lambda: gs.piecewise_interpolate_schedule("quadratic", 1.0),
        ValueError,
        "piecewise_interpolate_schedule: interpolate_type",
    ),
    (
        lambda: gs.piecewise_interpolate_schedule("linear", 1.0, {-1: 0.5}),
        ValueError,
        "piecewise_interpolate_schedule: the steps",
    ),
    (
        lambda: gs.piecewise_interpolate_schedule("linear", 1.0, {5: -0.1}),
        ValueError,
        r"piecewise_interpolate_schedule: boundaries_and_scales\[5\]",
    ),
    (
        lambda: gs.piecewise_interpolate_schedule("cosine", 1.0, {5.0: 0.5}),
        TypeError,
        "piecewise_interpolate_schedule: the steps",
    ),
    (
        lambda: gs.one_cycle_schedule(0.1, 10, pct_start=0.1),
        ValueError,
        r"one_cycle_schedule: pct_start \* total_steps",
    ),
    (
        lambda: gs.one_cycle_schedule(0.1, 10, anneal_strategy="cosine"),
        ValueError,
        "one_cycle_schedule: anneal_strategy",
    ),
    (
        lambda: gs.one_cycle_schedule(0.1, 0),
        ValueError,
        "one_cycle_schedule: total_steps",
    ),
    (
        lambda: gs.one_cycle_schedule(0.1, 10, pct_start=1.5),
        ValueError,
        "one_cycle_schedule: pct_start",
    ),
    (
        lambda: gs.cosine_annealing_warm_restarts_schedule(0.1, 0),
        ValueError,
        "cosine_annealing_warm_restarts_schedule: T_0",
    ),
    (
        lambda: gs.cosine_annealing_warm_restarts_schedule(0.1, 5, T_mult=1.5),
        TypeError,
        "cosine_annealing_warm_restarts_schedule: T_mult",
    ),
    (
        lambda: gs.cyclic_schedule(0.01, 0.1, mode="tri"),
        ValueError,
        "cyclic_schedule: mode",
    ),
    (
        lambda: gs.cyclic_schedule(0.01, 0.1, mode="exp_range", gamma=0.0),
        ValueError,
        "cyclic_schedule: gamma",
    ),
    (
        lambda: gs.cyclic_schedule(0.01, 0.1, step_size_up=0),
        ValueError,
        "cyclic_schedule: step_size_up",
    ),
    (
        lambda: gs.cyclic_schedule(0.01, "0.1"),
        TypeError,
        "cyclic_schedule: max_lr",
    ),
]


@pytest.mark.parametrize(("build", "kind", "match"), BAD_ARGS)
def test_bad_arguments_raise(
    build: Callable[[], Any], kind: type[Exception], match: str
) -> None:
    with pytest.raises(kind, match=match):
        build()
