"""The Adam variants against their papers, on known minima, and their errors.

AdaMax, AdaMaxW, AMSGrad, NAdam, NAdamW, RAdam, AdaBelief, Yogi, Adan, ADOPT
and AdEMAMix run 50 steps under ``jax.jit`` (one compiled step per case) on the
harness's pytree of mixed shapes and gradient magnitudes, in float64, against
the NumPy references of ``numpy_reference_adam_variants.py``, written from the
papers (``rtol=1e-10``); each option that changes the rule (the optax and
PyTorch forms included) is a case of its own, and each pair of forms is shown
to differ by far more than the tolerance. optax parity comes from the
registry's examples (``tests/catalogue``), PyTorch parity from
``test_torch_parity.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.optimizers import numpy_reference_adam_variants as ref
from tests.optimizers.harness import (
    ATOL,
    RTOL,
    SHAPES,
    MakeRef,
    MakeTx,
    assert_trees_close,
    inverse_time,
    linear_gradtx,
    linear_ref,
    make_problem,
    max_rel_diff,
    moved,
    run_gradtx,
    run_reference,
)
from tests.optimizers.problems import (
    DIM,
    EIGS,
    C,
    adamw_shift_bound,
    cosine,
    minimize,
    quadratic,
)


def _beta3_warmup(b1: float, b3: float, steps: int) -> Callable[[Any], jax.Array]:
    """AdEMAMix's beta3 warm-up as a gradtx schedule (float64 under x64)."""
    lb1, lb3 = np.log(b1), np.log(b3)

    def schedule(count: Any) -> jax.Array:
        a = jnp.minimum(jnp.asarray(count, jnp.float64), steps) / steps
        return jnp.exp(lb1 * lb3 / ((1 - a) * lb3 + a * lb1))

    return schedule


# name -> (gradtx optimizer, its reference), both built fresh for each run:
# the papers' forms, and one case per option that changes the rule (the
# forms of optax and PyTorch included: the catalogue and test_torch_parity.py
# compare them with optax and PyTorch themselves).
CASES: dict[str, tuple[MakeTx, MakeRef]] = {
    "adamax": (lambda: gradtx.adamax(0.02), lambda: ref.AdaMax(0.02)),
    "adamaxw-linear_schedule": (
        lambda: gradtx.adamaxw(linear_gradtx(0.05, 0.005, 40), weight_decay=0.1),
        lambda: ref.AdaMax(linear_ref(0.05, 0.005, 40), weight_decay=0.1),
    ),
    "amsgrad": (lambda: gradtx.amsgrad(0.01), lambda: ref.AMSGrad(0.01)),
    "amsgrad-optax_form": (
        lambda: gradtx.amsgrad(
            0.01, b2=0.99, bias_correction_mu=True, bias_correction_nu=True
        ),
        lambda: ref.AMSGrad(0.01, b2=0.99, corrected="optax"),
    ),
    "amsgrad-pytorch_form": (
        lambda: gradtx.amsgrad(
            0.01,
            b2=0.99,
            bias_correction_mu=True,
            bias_correction_nu=True,
            correct_after_max=True,
        ),
        lambda: ref.AMSGrad(0.01, b2=0.99, corrected="pytorch"),
    ),
    "nadam": (lambda: gradtx.nadam(0.01), lambda: ref.NAdam(0.01)),
    "nadam-constant_momentum": (
        lambda: gradtx.nadam(0.01, momentum_decay=None),
        lambda: ref.NAdam(0.01, psi=None),
    ),
    "nadamw-inverse_time": (
        lambda: gradtx.nadamw(inverse_time(0.05), weight_decay=0.1, momentum_decay=0.1),
        lambda: ref.NAdam(inverse_time(0.05), psi=0.1, weight_decay=0.1),
    ),
    "radam": (lambda: gradtx.radam(0.01), lambda: ref.RAdam(0.01)),
    "radam-threshold_5": (
        lambda: gradtx.radam(0.01, threshold=5.0),
        lambda: ref.RAdam(0.01, threshold=5.0),
    ),
    "radam-pytorch_form": (
        lambda: gradtx.radam(0.01, threshold=5.0, eps_before_bias_correction=True),
        lambda: ref.RAdam(0.01, threshold=5.0, torch_eps=True),
    ),
    "adabelief": (lambda: gradtx.adabelief(0.01), lambda: ref.AdaBelief(0.01)),
    "yogi": (lambda: gradtx.yogi(0.01), lambda: ref.Yogi(0.01)),
    "adan": (lambda: gradtx.adan(0.01), lambda: ref.Adan(0.01)),
    "adan-optax_form-weight_decay": (
        lambda: gradtx.adan(0.01, weight_decay=0.05, diff_weight=0.08),
        lambda: ref.Adan(0.01, weight_decay=0.05, omega=0.08),
    ),
    "adopt": (lambda: gradtx.adopt(0.01), lambda: ref.ADOPT(0.01)),
    "adopt-no_clipping": (
        lambda: gradtx.adopt(0.01, use_clipping=False),
        lambda: ref.ADOPT(0.01, clip=False),
    ),
    "ademamix": (
        lambda: gradtx.ademamix(0.01, b3=0.99),
        lambda: ref.AdEMAMix(0.01, b3=0.99),
    ),
    # Pagliardini et al.'s warm-ups of alpha and beta3 (Algorithm 1).
    "ademamix-warmup-weight_decay": (
        lambda: gradtx.ademamix(
            0.01,
            b3=_beta3_warmup(0.9, 0.999, 40),
            alpha=linear_gradtx(0.0, 8.0, 40),
            weight_decay=0.1,
        ),
        lambda: ref.AdEMAMix(
            0.01,
            b3=ref.ademamix_beta3_warmup(0.9, 0.999, 40),
            alpha=ref.ademamix_alpha_warmup(8.0, 40),
            weight_decay=0.1,
        ),
    ),
}


@functools.cache
def _problem() -> tuple[Any, Any]:
    return make_problem(seed=0)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_float64(case: str) -> None:
    params, grads = _problem()
    make_tx, make_ref = CASES[case]
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.float64, k
    assert_trees_close(ours, expected, RTOL, ATOL)
    assert moved(expected, params) > 1e-3  # not the trivial "nothing happened"


# Complex params: |g|^2 in the second moments, complex first moments, and
# AdaMax's maximum of moduli (20 steps). The catalogue runs every other
# optimizer on complex64 params against optax; ADOPT refuses them
# (test_adopt_refuses_complex_params).
COMPLEX_CASES = ["adamax", "adan"]


@pytest.mark.parametrize("case", COMPLEX_CASES)
def test_matches_reference_complex128(case: str) -> None:
    make_tx, make_ref = CASES[case]
    params, grads = make_problem(seed=2, dtype=np.complex128, steps=20)
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.complex128, k
    assert_trees_close(ours, expected, RTOL, ATOL)


# Each pair: the forms one gradtx option chooses between. They must differ by
# far more than the parity tolerance, or an option that silently did nothing
# would still pass.
VARIANT_PAIRS: dict[str, tuple[MakeRef, MakeRef]] = {
    "amsgrad-paper_vs_optax": (
        lambda: ref.AMSGrad(0.01, b2=0.99),
        lambda: ref.AMSGrad(0.01, b2=0.99, corrected="optax"),
    ),
    "amsgrad-optax_vs_pytorch": (
        lambda: ref.AMSGrad(0.01, b2=0.99, corrected="optax"),
        lambda: ref.AMSGrad(0.01, b2=0.99, corrected="pytorch"),
    ),
    "nadam-schedule_vs_constant": (
        lambda: ref.NAdam(0.01),
        lambda: ref.NAdam(0.01, psi=None),
    ),
    "radam-threshold_4_vs_5": (
        lambda: ref.RAdam(0.01),
        lambda: ref.RAdam(0.01, threshold=5.0),
    ),
    "radam-eps_placement": (
        lambda: ref.RAdam(0.01, threshold=5.0),
        lambda: ref.RAdam(0.01, threshold=5.0, torch_eps=True),
    ),
    "adan-difference_weight": (
        lambda: ref.Adan(0.01),
        lambda: ref.Adan(0.01, omega=0.08),
    ),
    "adopt-clipping": (lambda: ref.ADOPT(0.01), lambda: ref.ADOPT(0.01, clip=False)),
}


@pytest.mark.parametrize("pair", list(VARIANT_PAIRS))
def test_variants_differ_beyond_tolerance(pair: str) -> None:
    make_a, make_b = VARIANT_PAIRS[pair]
    params, grads = _problem()
    a = run_reference(make_a(), params, grads)
    b = run_reference(make_b(), params, grads)
    assert max_rel_diff(a, b) > 1e-6


# ----------------------------------------------------------------- convergence

# The convex quadratic of test_convergence.py (condition number 10, |c| ~
# 1.3), from 0, in float32. Every method here takes steps of about the
# learning rate whatever the gradient's size, so, as Adam there, each gets a
# cosine decay to 1e-3 of its rate, and must end within 1e-3 of the minimum
# (plus, for the decoupled decay of AdaMaxW, NAdamW and AdEMAMix, the bound on
# how far it moves the fixed point: problems.adamw_shift_bound). Every run ends
# at least 10 times inside its tolerance (measured), leaving room for other
# platforms' float32 rounding. AdaMax's u_t, a maximum, forgets large early
# gradients slowly; Adan's b1 = 0.98 momentum and AdEMAMix's slow one overshoot
# before the decay settles them; ADOPT's clipped normalized step is small at
# first: these get 1,000 steps.
QUADRATIC_TOL = 1e-3

QUADRATIC_CASES = [
    pytest.param(lambda: gradtx.adamax(cosine(0.05, 1000)), 1000, 0.0, id="adamax"),
    pytest.param(
        lambda: gradtx.adamaxw(cosine(0.05, 1000), weight_decay=1e-4),
        1000,
        1e-4,
        id="adamaxw",
    ),
    pytest.param(lambda: gradtx.amsgrad(cosine(0.02, 500)), 500, 0.0, id="amsgrad"),
    pytest.param(lambda: gradtx.nadam(cosine(0.05, 500)), 500, 0.0, id="nadam"),
    pytest.param(
        lambda: gradtx.nadamw(cosine(0.05, 500), weight_decay=1e-4),
        500,
        1e-4,
        id="nadamw",
    ),
    pytest.param(lambda: gradtx.radam(cosine(0.05, 500)), 500, 0.0, id="radam"),
    pytest.param(lambda: gradtx.adabelief(cosine(0.05, 500)), 500, 0.0, id="adabelief"),
    pytest.param(lambda: gradtx.yogi(cosine(0.05, 500)), 500, 0.0, id="yogi"),
    pytest.param(lambda: gradtx.adan(cosine(0.05, 1000)), 1000, 0.0, id="adan"),
    pytest.param(lambda: gradtx.adopt(cosine(0.05, 1000)), 1000, 0.0, id="adopt"),
    pytest.param(
        lambda: gradtx.ademamix(cosine(0.02, 1000), b3=0.99, weight_decay=1e-4),
        1000,
        1e-4,
        id="ademamix",
    ),
]


@pytest.mark.parametrize(("make_tx", "steps", "decoupled_decay"), QUADRATIC_CASES)
def test_converges_on_quadratic(
    make_tx: MakeTx, steps: int, decoupled_decay: float
) -> None:
    x, grad_rms = minimize(make_tx(), quadratic, jnp.zeros(DIM, jnp.float32), steps)
    tol = QUADRATIC_TOL + adamw_shift_bound(decoupled_decay, grad_rms, C, EIGS.min())
    assert np.linalg.norm(x - C) < tol


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: gradtx.adamax(0.1, b2=1.0), r"^adamax: b2 must be in \[0, 1\)"),
        (lambda: gradtx.adamax(0.1, eps=0.0), r"^adamax: eps must be in \(0, inf\)"),
        (
            lambda: gradtx.adamaxw(0.1, weight_decay=-1.0),
            r"^adamaxw: weight_decay must be in \[0, inf\)",
        ),
        (lambda: gradtx.amsgrad(-0.1), r"^amsgrad: learning_rate must be in"),
        (
            lambda: gradtx.amsgrad(0.1, correct_after_max=True),
            r"^amsgrad: correct_after_max=True .* needs bias_correction_nu=True",
        ),
        (
            lambda: gradtx.nadam(0.1, momentum_decay=-1e-3),
            r"^nadam: momentum_decay must be in \[0, inf\)",
        ),
        (
            lambda: gradtx.nadamw(0.1, b1=float("nan")),
            r"^nadamw: b1 must be in \[0, 1\)",
        ),
        (
            lambda: gradtx.radam(0.1, threshold=3.0),
            r"^radam: threshold must be in \[4, inf\).*rho_t > 4",
        ),
        (
            lambda: gradtx.adabelief(0.1, eps=0.0, eps_root=0.0),
            r"^adabelief: eps must be in \(0, inf\) \(or \[0, inf\) with eps_root",
        ),
        (
            lambda: gradtx.yogi(0.1, b1=-0.5),
            r"^yogi: b1 must be in \[0, 1\)",
        ),
        (lambda: gradtx.adan(0.1, b3=1.5), r"^adan: b3 must be in \[0, 1\)"),
        (
            lambda: gradtx.adan(0.1, diff_weight=-1.0),
            r"^adan: diff_weight must be in \[0, inf\)",
        ),
        (lambda: gradtx.adopt(0.1, eps=0.0), r"^adopt: eps must be in \(0, inf\)"),
        (
            lambda: gradtx.adopt(0.1, clip_value_fn=0.5),  # type: ignore[arg-type]
            r"^adopt: clip_value_fn must be a function",
        ),
        (lambda: gradtx.ademamix(0.1, b3=1.0), r"^ademamix: b3 must be in \[0, 1\)"),
        (
            lambda: gradtx.ademamix(0.1, alpha=-1.0),
            r"^ademamix: alpha must be in \[0, inf\)",
        ),
    ],
)
def test_bad_hyperparameters_name_the_optimizer(
    build: Callable[[], Any], message: str
) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_adopt_refuses_complex_params() -> None:
    params = {"w": jnp.zeros(2), "z": {"b": jnp.zeros(3, jnp.complex64)}}
    with pytest.raises(TypeError, match=r"^adopt: params\['z'\]\['b'\] is complex64"):
        gradtx.adopt(0.1).init(params)
    gradtx.adopt(0.1, use_clipping=False).init(params)  # defined without the clip


def test_a_scheduled_value_out_of_range_is_refused_when_concrete() -> None:
    tx = gradtx.ademamix(0.1, b3=lambda count: 1.0 + 0.0 * count)
    params = jnp.zeros(2)
    with pytest.raises(ValueError, match=r"^ademamix: b3 \(the schedule's value"):
        tx.update(jnp.ones(2), tx.init(params), params)
