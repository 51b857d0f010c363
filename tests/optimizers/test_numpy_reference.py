"""gradtx against the papers: 50 steps each, checked with a NumPy reference.

The reference (``tests/optimizers/numpy_reference.py``) is written from each paper's
update rule, so these tests check that gradtx's defaults are the papers' and
that each option selects the form it claims (PyTorch's momentum order, eps
inside or outside the root, centering, bias correction, NAdam, coupled L2 and
decoupled weight decay). gradtx runs under ``jax.jit`` (one compiled step per
case) on a pytree of mixed shapes, with seeded random gradients; float64
results must agree to ``rtol=1e-10, atol=1e-12``.

Gradients are drawn independently of the params (the update rules do not care
where a gradient comes from), with a persistent mean so that momentum and the
moment estimates see a signal, and with a different magnitude per leaf: the
gradients of ``b`` are ~1e-3, so that where eps sits (inside or outside the
root) changes the result by far more than the tolerance.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import gradtx
from tests.optimizers import numpy_reference as ref
from tests.optimizers.harness import (
    ATOL,
    ATOL32,
    RTOL,
    RTOL32,
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

# ---------------------------------------------------------------- cases

# name -> (gradtx optimizer, its reference), both built fresh for each run.
CASES: dict[str, tuple[MakeTx, MakeRef]] = {
    # SGD
    "sgd": (lambda: gradtx.sgd(0.1), lambda: ref.SGD(0.1)),
    "sgd-linear_schedule": (
        lambda: gradtx.sgd(linear_gradtx(0.1, 0.01, 40)),
        lambda: ref.SGD(linear_ref(0.1, 0.01, 40)),
    ),
    "sgd-momentum": (
        lambda: gradtx.sgd(0.05, momentum=0.9),
        lambda: ref.SutskeverMomentum(0.05, 0.9),
    ),
    "sgd-momentum-pytorch_form": (
        lambda: gradtx.sgd(0.05, momentum=0.9, momentum_after_lr=False),
        lambda: ref.PyTorchMomentum(0.05, 0.9),
    ),
    "sgd-momentum-linear_schedule": (
        lambda: gradtx.sgd(linear_gradtx(0.1, 0.01, 40), momentum=0.9),
        lambda: ref.SutskeverMomentum(linear_ref(0.1, 0.01, 40), 0.9),
    ),
    "sgd-momentum-inverse_time": (
        lambda: gradtx.sgd(inverse_time(0.1), momentum=0.9),
        lambda: ref.SutskeverMomentum(inverse_time(0.1), 0.9),
    ),
    "sgd-momentum-pytorch_form-inverse_time": (
        lambda: gradtx.sgd(inverse_time(0.1), momentum=0.9, momentum_after_lr=False),
        lambda: ref.PyTorchMomentum(inverse_time(0.1), 0.9),
    ),
    "sgd-nesterov": (
        lambda: gradtx.sgd(0.05, momentum=0.9, nesterov=True),
        lambda: ref.SutskeverMomentum(0.05, 0.9, nesterov=True),
    ),
    "sgd-nesterov-pytorch_form": (
        lambda: gradtx.sgd(0.05, momentum=0.9, nesterov=True, momentum_after_lr=False),
        lambda: ref.PyTorchMomentum(0.05, 0.9, nesterov=True),
    ),
    "sgd-nesterov-inverse_time": (
        lambda: gradtx.sgd(inverse_time(0.1), momentum=0.8, nesterov=True),
        lambda: ref.SutskeverMomentum(inverse_time(0.1), 0.8, nesterov=True),
    ),
    "sgd-nesterov-pytorch_form-inverse_time": (
        lambda: gradtx.sgd(
            inverse_time(0.1), momentum=0.8, nesterov=True, momentum_after_lr=False
        ),
        lambda: ref.PyTorchMomentum(inverse_time(0.1), 0.8, nesterov=True),
    ),
    # AdaGrad
    "adagrad": (lambda: gradtx.adagrad(0.1), lambda: ref.AdaGrad(0.1)),
    "adagrad-optax_style": (
        lambda: gradtx.adagrad(
            0.1, initial_accumulator_value=0.1, eps=1e-7, eps_in_sqrt=True
        ),
        lambda: ref.AdaGrad(0.1, delta=1e-7, g0=0.1, delta_in_sqrt=True),
    ),
    "adagrad-G0-eps_outside": (
        lambda: gradtx.adagrad(0.1, initial_accumulator_value=0.5, eps=1e-3),
        lambda: ref.AdaGrad(0.1, delta=1e-3, g0=0.5),
    ),
    "adagrad-inverse_time": (
        lambda: gradtx.adagrad(inverse_time(0.5)),
        lambda: ref.AdaGrad(inverse_time(0.5)),
    ),
    # RMSProp
    "rmsprop": (lambda: gradtx.rmsprop(0.01), lambda: ref.RMSProp(0.01)),
    "rmsprop-initial_scale": (
        lambda: gradtx.rmsprop(0.01, decay=0.95, initial_scale=1.0),
        lambda: ref.RMSProp(0.01, rho=0.95, n0=1.0),
    ),
    "rmsprop-centered": (
        lambda: gradtx.rmsprop(0.01, centered=True),
        lambda: ref.RMSProp(0.01, centered=True),
    ),
    # Graves 2013's own values, given with eq. (38)-(41).
    "rmsprop-centered-momentum-graves2013": (
        lambda: gradtx.rmsprop(1e-4, decay=0.95, eps=1e-4, centered=True, momentum=0.9),
        lambda: ref.RMSProp(1e-4, rho=0.95, eps=1e-4, centered=True, mu=0.9),
    ),
    "rmsprop-momentum-linear_schedule": (
        lambda: gradtx.rmsprop(linear_gradtx(0.01, 0.001, 40), momentum=0.9),
        lambda: ref.RMSProp(linear_ref(0.01, 0.001, 40), mu=0.9),
    ),
    "rmsprop-nesterov-inverse_time": (
        lambda: gradtx.rmsprop(inverse_time(0.01), momentum=0.9, nesterov=True),
        lambda: ref.RMSProp(inverse_time(0.01), mu=0.9, nesterov=True),
    ),
    # torch.optim.RMSprop(p, lr, alpha=0.9, eps=1e-8, momentum=0.9)
    "rmsprop-momentum-pytorch_form-inverse_time": (
        lambda: gradtx.rmsprop(
            inverse_time(0.01), eps_in_sqrt=False, momentum=0.9, momentum_after_lr=False
        ),
        lambda: ref.RMSProp(
            inverse_time(0.01), eps_in_sqrt=False, mu=0.9, lr_in_velocity=False
        ),
    ),
    "rmsprop-bias_correction": (
        lambda: gradtx.rmsprop(0.01, bias_correction=True),
        lambda: ref.RMSProp(0.01, bias_correction=True),
    ),
    # torch.optim.RMSprop(p, lr, alpha=0.99, eps=1e-8, centered=True)
    "rmsprop-centered-eps_outside": (
        lambda: gradtx.rmsprop(0.01, decay=0.99, centered=True, eps_in_sqrt=False),
        lambda: ref.RMSProp(0.01, rho=0.99, centered=True, eps_in_sqrt=False),
    ),
    # Adam and NAdam
    "adam": (lambda: gradtx.adam(0.01), lambda: ref.Adam(0.01)),
    "adam-linear_schedule": (
        lambda: gradtx.adam(linear_gradtx(0.05, 0.005, 40), b1=0.8, b2=0.99),
        lambda: ref.Adam(linear_ref(0.05, 0.005, 40), b1=0.8, b2=0.99),
    ),
    "adam-eps_root-inverse_time": (
        lambda: gradtx.adam(inverse_time(0.05), eps=1e-6, eps_root=1e-7),
        lambda: ref.Adam(inverse_time(0.05), eps=1e-6, eps_root=1e-7),
    ),
    "nadam": (
        lambda: gradtx.adam(0.01, nesterov=True),
        lambda: ref.Adam(0.01, nesterov=True),
    ),
    # Loshchilov & Hutter 2019, Algorithm 2, line 6: coupled L2.
    "adam-coupled_l2": (
        lambda: gradtx.chain(gradtx.add_decayed_weights(0.1), gradtx.adam(0.01)),
        lambda: ref.AdamL2(0.01, l2=0.1),
    ),
    # AdamW: Loshchilov & Hutter 2019, Algorithm 2, line 12.
    "adamw": (lambda: gradtx.adamw(0.01), lambda: ref.AdamW(0.01)),
    "adamw-scheduled_wd-linear_schedule": (
        lambda: gradtx.adamw(
            linear_gradtx(0.05, 0.005, 40), weight_decay=linear_gradtx(0.2, 0.0, 30)
        ),
        lambda: ref.AdamW(
            linear_ref(0.05, 0.005, 40), weight_decay=linear_ref(0.2, 0.0, 30)
        ),
    ),
    "nadamw": (
        lambda: gradtx.adamw(0.01, weight_decay=0.1, nesterov=True),
        lambda: ref.AdamW(0.01, weight_decay=0.1, nesterov=True),
    ),
}


@functools.cache
def problem() -> tuple[ref.Tree, list[ref.Tree]]:
    """The float64 problem every case runs on (seed 0)."""
    return make_problem(seed=0)


@functools.cache
def gradtx_result(case: str) -> ref.Tree:
    """gradtx's params after case ``case``'s 50 steps on :func:`problem`.

    Cached: the tests below compare some runs with each other too, and one
    compile per case keeps the suite fast. Nothing mutates the result.
    """
    params, grads = problem()
    return run_gradtx(CASES[case][0](), params, grads)


def reference_result(case: str) -> ref.Tree:
    params, grads = problem()
    return run_reference(CASES[case][1](), params, grads)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_float64(case: str) -> None:
    params, _ = problem()
    ours, expected = gradtx_result(case), reference_result(case)
    for k in SHAPES:
        assert ours[k].dtype == np.float64, k
    assert_trees_close(ours, expected, RTOL, ATOL)
    assert moved(expected, params) > 1e-3  # not the trivial "nothing happened"


F32_CASES = {
    "adam-linear_schedule": (
        lambda: gradtx.adam(gradtx.linear_schedule(0.05, 0.005, 40), b1=0.8, b2=0.99),
        lambda: ref.Adam(linear_ref(0.05, 0.005, 40), b1=0.8, b2=0.99),
    ),
    "rmsprop-centered-momentum": (
        lambda: gradtx.rmsprop(0.01, centered=True, momentum=0.9),
        lambda: ref.RMSProp(0.01, centered=True, mu=0.9),
    ),
}


@pytest.mark.parametrize("case", list(F32_CASES))
def test_matches_reference_float32(case: str) -> None:
    """float32 params stay float32 and track the float64 reference to 1e-5.

    50 steps of float32 rounding (~6e-8 relative per operation) leave the
    params within ~1e-6 relative of the exact path (centered RMSProp's
    ``v - m^2`` loses the most); 1e-5 leaves room for other platforms' rounding
    but still catches any change of formula (those move the params by
    > 1e-3). The schedule is built from Python floats: float32 too.
    """
    make_tx, make_ref = F32_CASES[case]
    params, grads = make_problem(seed=1, dtype=np.float32)
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.float32, k
    assert_trees_close(ours, expected, RTOL32, ATOL32)


COMPLEX_CASES = {
    "adam": (lambda: gradtx.adam(0.01), lambda: ref.Adam(0.01)),
    "rmsprop-centered-momentum": (
        lambda: gradtx.rmsprop(0.01, centered=True, momentum=0.9),
        lambda: ref.RMSProp(0.01, centered=True, mu=0.9),
    ),
    "adagrad": (lambda: gradtx.adagrad(0.1), lambda: ref.AdaGrad(0.1)),
    "sgd-nesterov-inverse_time": (
        lambda: gradtx.sgd(inverse_time(0.1), momentum=0.9, nesterov=True),
        lambda: ref.SutskeverMomentum(inverse_time(0.1), 0.9, nesterov=True),
    ),
}


@pytest.mark.parametrize("case", list(COMPLEX_CASES))
def test_matches_reference_complex128(case: str) -> None:
    """Complex params: second moments of ``|g|^2``, first moments complex."""
    make_tx, make_ref = COMPLEX_CASES[case]
    params, grads = make_problem(seed=2, dtype=np.complex128)
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.complex128, k
    assert_trees_close(ours, expected, RTOL, ATOL)


# ---------------------------------------------------- the comparisons can fail


@pytest.mark.parametrize("kind", ["sgd-momentum", "sgd-nesterov"])
def test_momentum_forms_agree_for_constant_lr(kind: str) -> None:
    """With a constant lr, the paper's v is exactly -lr times PyTorch's b."""
    paper, torch = gradtx_result(kind), gradtx_result(f"{kind}-pytorch_form")
    assert_trees_close(paper, torch, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["sgd-momentum", "sgd-nesterov"])
def test_momentum_forms_differ_under_decaying_schedule(kind: str) -> None:
    """With lr_t = 0.1 / (1 + t), the paper's velocity keeps the earlier,
    larger learning rates (sum of mu^(k-s) lr_s g_s) while PyTorch's rescales
    the whole velocity by the current one (lr_k sum of mu^(k-s) g_s): the
    forms differ, and each gradtx form matches its own reference only."""
    paper = gradtx_result(f"{kind}-inverse_time")
    torch = gradtx_result(f"{kind}-pytorch_form-inverse_time")
    assert max_rel_diff(paper, torch) > 1e-2
    assert (
        max_rel_diff(paper, reference_result(f"{kind}-pytorch_form-inverse_time"))
        > 1e-2
    )
    assert max_rel_diff(torch, reference_result(f"{kind}-inverse_time")) > 1e-2


def test_adagrad_default_is_the_papers_not_optax_style() -> None:
    """adagrad(lr) is Duchi's (G0 = 0, delta outside the root), not optax's.

    The paper's first step is lr * g / (|g| + 1e-10), a step of lr in every
    coordinate; optax's is lr * g / sqrt(0.1 + g^2 + 1e-7), far smaller for
    the ~1e-3 gradients of ``b``.
    """
    ours = gradtx_result("adagrad")
    assert max_rel_diff(ours, reference_result("adagrad-optax_style")) > 1e-2
    assert max_rel_diff(ours, gradtx_result("adagrad-optax_style")) > 1e-2
    # The first step in closed form.
    params, grads = problem()
    one = run_gradtx(gradtx.adagrad(0.1), params, grads[:1])
    for k in SHAPES:
        g = grads[0][k]
        expected = params[k] - 0.1 * g / (np.abs(g) + 1e-10)
        np.testing.assert_allclose(one[k], expected, rtol=RTOL, atol=ATOL)


# Pairs of reference variants that one gradtx option chooses between: each
# pair must differ by far more than the parity tolerance, or a gradtx option
# that silently did nothing would still pass the parity tests.
VARIANT_PAIRS = {
    "sgd-nesterov": (
        lambda: ref.SutskeverMomentum(0.05, 0.9),
        lambda: ref.SutskeverMomentum(0.05, 0.9, nesterov=True),
    ),
    "adagrad-eps_in_sqrt": (
        lambda: ref.AdaGrad(0.1),
        lambda: ref.AdaGrad(0.1, delta_in_sqrt=True),
    ),
    "rmsprop-eps_in_sqrt": (
        lambda: ref.RMSProp(0.01),
        lambda: ref.RMSProp(0.01, eps_in_sqrt=False),
    ),
    "rmsprop-centered": (
        lambda: ref.RMSProp(0.01),
        lambda: ref.RMSProp(0.01, centered=True),
    ),
    "rmsprop-bias_correction": (
        lambda: ref.RMSProp(0.01),
        lambda: ref.RMSProp(0.01, bias_correction=True),
    ),
    "rmsprop-momentum_after_lr": (
        lambda: ref.RMSProp(inverse_time(0.01), mu=0.9),
        lambda: ref.RMSProp(inverse_time(0.01), mu=0.9, lr_in_velocity=False),
    ),
    "adam-nesterov": (
        lambda: ref.Adam(0.01),
        lambda: ref.Adam(0.01, nesterov=True),
    ),
    "adam-eps_root": (
        lambda: ref.Adam(inverse_time(0.05), eps=1e-6),
        lambda: ref.Adam(inverse_time(0.05), eps=1e-6, eps_root=1e-7),
    ),
    "adamw-vs-coupled_l2": (
        lambda: ref.AdamW(0.01, weight_decay=0.1),
        lambda: ref.AdamL2(0.01, l2=0.1),
    ),
}


@pytest.mark.parametrize("pair", list(VARIANT_PAIRS))
def test_variants_differ_beyond_tolerance(pair: str) -> None:
    make_a, make_b = VARIANT_PAIRS[pair]
    params, grads = problem()
    a = run_reference(make_a(), params, grads)
    b = run_reference(make_b(), params, grads)
    assert max_rel_diff(a, b) > 1e-6
