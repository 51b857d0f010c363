"""LARS, LAMB, Fromage, NovoGrad, Lion, signSGD, Signum, noisy SGD, Polyak SGD
and DoG: NumPy references from the papers, convergence, errors, and what the
shared catalogue cannot check (optax's DoG, the PRNG key, the loss value).

The references are in ``numpy_reference_layerwise_sign.py``; optax parity of
the registered examples runs in ``tests/catalogue``. None of these optimizers
is in ``torch.optim``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.catalogue.cases import with_extra_args
from tests.optimizers import numpy_reference_layerwise_sign as ref
from tests.optimizers.harness import (
    ATOL,
    RTOL,
    SHAPES,
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
    ROSENBROCK_MIN,
    C,
    MakeTx,
    cosine,
    minimize,
    quadratic,
    rosenbrock,
)

# ------------------------------------------------ NumPy references, float64

lr_then = gradtx.scale_by_learning_rate

CASES: dict[str, tuple[MakeTx, Callable[[], Any]]] = {
    # LARS: the paper's ratio, Nesterov, optax's ratio, and the two masks.
    "lars": (
        lambda: gradtx.lars(0.5, weight_decay=0.05, trust_coefficient=0.01),
        lambda: ref.LARS(0.5, 0.05, 0.01),
    ),
    "lars-nesterov-eps-inverse_time": (
        lambda: gradtx.lars(
            inverse_time(0.5), 0.05, trust_coefficient=0.01, eps=0.1, nesterov=True
        ),
        lambda: ref.LARS(inverse_time(0.5), 0.05, 0.01, eps=0.1, nesterov=True),
    ),
    "lars-decayed_grad_norm": (
        lambda: gradtx.lars(
            0.5, weight_decay=0.05, trust_coefficient=0.01, decayed_grad_norm=True
        ),
        lambda: ref.LARS(0.5, 0.05, 0.01, decayed_grad_norm=True),
    ),
    "lars-masks": (
        lambda: gradtx.lars(
            0.5,
            weight_decay=0.05,
            weight_decay_mask={"w": True, "b": False, "scalar": True},
            trust_coefficient=0.01,
            trust_ratio_mask=lambda p: {"w": True, "b": True, "scalar": False},
        ),
        lambda: ref.LARS(0.5, 0.05, 0.01, decay={"w", "scalar"}, trust={"w", "b"}),
    ),
    "lamb": (
        lambda: gradtx.lamb(0.01, weight_decay=0.1),
        lambda: ref.LAMB(0.01, weight_decay=0.1),
    ),
    "lamb-mask-linear_schedule": (
        lambda: gradtx.lamb(
            linear_gradtx(0.02, 0.002, 40),
            b2=0.99,
            weight_decay=0.1,
            mask={"w": True, "b": False, "scalar": False},
        ),
        lambda: ref.LAMB(
            linear_ref(0.02, 0.002, 40), b2=0.99, weight_decay=0.1, decay={"w"}
        ),
    ),
    "fromage": (lambda: gradtx.fromage(0.05), lambda: ref.Fromage(0.05)),
    "fromage-inverse_time": (
        lambda: gradtx.fromage(inverse_time(0.2)),
        lambda: ref.Fromage(inverse_time(0.2)),
    ),
    "novograd": (
        lambda: gradtx.novograd(0.01, weight_decay=0.01),
        lambda: ref.NovoGrad(0.01, weight_decay=0.01),
    ),
    # The paper's own values (ResNet-50): beta1 0.95, beta2 0.98.
    "novograd-paper_betas": (
        lambda: gradtx.novograd(0.01, b1=0.95, b2=0.98, eps=1e-8),
        lambda: ref.NovoGrad(0.01, 0.95, 0.98, eps=1e-8),
    ),
    "lion": (
        lambda: gradtx.lion(0.01, weight_decay=0.1),
        lambda: ref.Lion(0.01, weight_decay=0.1),
    ),
    "lion-refined": (
        lambda: gradtx.chain(
            gradtx.scale_by_lion(0.8, 0.95, mode="refined"), lr_then(0.01)
        ),
        lambda: ref.Lion(0.01, 0.8, 0.95, mode="refined"),
    ),
    "lion-smooth": (
        lambda: gradtx.chain(
            gradtx.scale_by_lion(mode="smooth", smooth_beta=3.0), lr_then(0.01)
        ),
        lambda: ref.Lion(0.01, mode="smooth", smooth_beta=3.0),
    ),
    "sign_sgd-inverse_time": (
        lambda: gradtx.sign_sgd(inverse_time(0.02)),
        lambda: ref.SignSGD(inverse_time(0.02)),
    ),
    "signum": (
        lambda: gradtx.signum(0.01, beta=0.8),
        lambda: ref.Signum(0.01, 0.8),
    ),
    "noisy_sgd": (
        lambda: gradtx.noisy_sgd(0.01, eta=0.1, key=3),
        lambda: ref.NoisySGD(0.01, 0.1, 0.55, 3),
    ),
    "dog": (
        lambda: gradtx.chain(gradtx.scale_by_distance_over_gradients(), lr_then(1.0)),
        lambda: ref.DoG(),
    ),
    "param_block_norm": (
        lambda: gradtx.chain(gradtx.scale_by_param_block_norm(), lr_then(0.01)),
        lambda: ref.ParamBlockScale(0.01),
    ),
    "param_block_rms": (
        lambda: gradtx.chain(gradtx.scale_by_param_block_rms(0.5), lr_then(0.01)),
        lambda: ref.ParamBlockScale(0.01, 0.5, rms=True),
    ),
}


@functools.cache
def problem() -> tuple[ref.Tree, list[ref.Tree]]:
    return make_problem(seed=0)


@pytest.mark.parametrize("case", list(CASES))
def test_matches_reference_float64(case: str) -> None:
    make_tx, make_ref = CASES[case]
    params, grads = problem()
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.float64, k
    assert_trees_close(ours, expected, RTOL, ATOL)
    assert moved(expected, params) > 1e-3  # not the trivial "nothing happened"


# Complex params: norms of |g|^2, and sign(z) = z / |z|.
COMPLEX_CASES = ("novograd", "lion")


@pytest.mark.parametrize("case", COMPLEX_CASES)
def test_matches_reference_complex128(case: str) -> None:
    make_tx, make_ref = CASES[case]
    params, grads = make_problem(seed=2, dtype=np.complex128)
    ours = run_gradtx(make_tx(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    for k in SHAPES:
        assert ours[k].dtype == np.complex128, k
    assert_trees_close(ours, expected, RTOL, ATOL)


def _loss(params: Mapping[str, Any]) -> Any:
    """The ``value`` handed to Polyak's step: ``0.5 |params|^2 + 1``."""
    return 0.5 * sum(np.sum(np.abs(np.asarray(x)) ** 2) for x in params.values()) + 1


def _jax_loss(params: Any) -> dict[str, Any]:
    sq = sum(jnp.sum(jnp.abs(x) ** 2) for x in jax.tree.leaves(params))
    return {"value": 0.5 * sq + 1}


POLYAK_CASES: dict[str, tuple[MakeTx, Callable[[], Any]]] = {
    "polyak_sgd": (
        lambda: gradtx.polyak_sgd(max_learning_rate=0.3),
        lambda: ref.PolyakSGD(_loss, 0.3),
    ),
    # f* above the loss at times: sps+ clips the gap at 0.
    "polyak_sgd-sps+-eps-inverse_time": (
        lambda: gradtx.polyak_sgd(
            1.0, inverse_time(0.5), f_min=4.0, eps=0.1, variant="sps+"
        ),
        lambda: ref.PolyakSGD(_loss, 1.0, inverse_time(0.5), 4.0, 0.1, plus=True),
    ),
    "polyak_sgd-scaling_in_norm": (
        lambda: gradtx.polyak_sgd(1.0, 0.5, scaling_in_norm=True),
        lambda: ref.PolyakSGD(_loss, 1.0, 0.5, scaling_in_norm=True),
    ),
}


@pytest.mark.parametrize("case", list(POLYAK_CASES))
def test_polyak_matches_reference_float64(case: str) -> None:
    make_tx, make_ref = POLYAK_CASES[case]
    params, grads = problem()
    ours = run_gradtx(with_extra_args(make_tx, _jax_loss)(), params, grads)
    expected = run_reference(make_ref(), params, grads)
    assert_trees_close(ours, expected, RTOL, ATOL)
    assert moved(expected, params) > 1e-3


# Pairs of reference variants that one gradtx option chooses between: each
# must differ by far more than the tolerance, or an option that did nothing
# would still pass.
VARIANT_PAIRS = {
    "lars-decayed_grad_norm": (
        lambda: ref.LARS(0.5, 0.05, 0.01),
        lambda: ref.LARS(0.5, 0.05, 0.01, decayed_grad_norm=True),
    ),
    "polyak-scaling_in_norm": (
        lambda: ref.PolyakSGD(_loss, 1.0, 0.5),
        lambda: ref.PolyakSGD(_loss, 1.0, 0.5, scaling_in_norm=True),
    ),
    "lion-refined": (
        lambda: ref.Lion(0.01, 0.8, 0.95),
        lambda: ref.Lion(0.01, 0.8, 0.95, mode="refined"),
    ),
}


@pytest.mark.parametrize("pair", list(VARIANT_PAIRS))
def test_variants_differ_beyond_tolerance(pair: str) -> None:
    make_a, make_b = VARIANT_PAIRS[pair]
    params, grads = problem()
    a = run_reference(make_a(), params, grads)
    b = run_reference(make_b(), params, grads)
    assert max_rel_diff(a, b) > 1e-6


# ---------------------------------------------------------------- convergence

# |x - c| < 1e-3 on the quadratic (|c| ~ 1.3; see test_convergence.py). The
# sign and layer-normalized methods take steps of about the learning rate (times
# |x| for the trust ratios) whatever the gradient's size, so they hover at that
# distance with a constant rate: they get a cosine decay to 1e-3 of it and end
# 5 to 100 times inside the tolerance. Fromage multiplies the weights, so it
# starts from ones, not 0. Polyak's step with the exact f* = 0 converges
# linearly (to ~1e-7, float32: tolerance 1e-5); DoG needs no learning rate.
# Noisy SGD (lr 0.1, eta 1e-3) ends where its noise, sigma^2 = 3e-5 at step 500,
# keeps it: a spread of about sqrt(lr sigma^2 d / 2) ~ 3e-3, so 1e-2.
_ZEROS, _ONES = jnp.zeros(DIM, jnp.float32), jnp.ones(DIM, jnp.float32)
_POLYAK = with_extra_args(
    lambda: gradtx.polyak_sgd(max_learning_rate=1.0),
    lambda x: {"value": quadratic(x)},
)

QUADRATIC_CASES = [
    pytest.param(
        lambda: gradtx.lars(cosine(0.5, 500), trust_coefficient=0.1),
        _ZEROS, 500, 1e-3, id="lars",
    ),
    pytest.param(lambda: gradtx.lamb(cosine(0.05, 500)), _ZEROS, 500, 1e-3, id="lamb"),
    pytest.param(
        lambda: gradtx.fromage(cosine(0.05, 500)), _ONES, 500, 1e-3, id="fromage"
    ),
    pytest.param(
        lambda: gradtx.novograd(cosine(0.05, 500), b2=0.98), _ZEROS, 500, 1e-3,
        id="novograd",
    ),
    pytest.param(
        lambda: gradtx.lion(cosine(0.01, 500), weight_decay=0.0), _ZEROS, 500, 1e-3,
        id="lion",
    ),
    pytest.param(
        lambda: gradtx.sign_sgd(cosine(0.02, 500)), _ZEROS, 500, 1e-3, id="sign_sgd"
    ),
    pytest.param(
        lambda: gradtx.signum(cosine(0.02, 500)), _ZEROS, 500, 1e-3, id="signum"
    ),
    pytest.param(
        lambda: gradtx.noisy_sgd(0.1, eta=1e-3, key=0), _ZEROS, 500, 1e-2,
        id="noisy_sgd",
    ),
    pytest.param(_POLYAK, _ZEROS, 200, 1e-5, id="polyak_sgd"),
    pytest.param(
        lambda: gradtx.chain(gradtx.scale_by_distance_over_gradients(), lr_then(1.0)),
        _ZEROS, 500, 1e-3, id="dog",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("make_tx", "x0", "steps", "tol"), QUADRATIC_CASES)
def test_converges_on_quadratic(
    make_tx: MakeTx, x0: jax.Array, steps: int, tol: float
) -> None:
    x, _ = minimize(make_tx(), quadratic, x0, steps)
    assert np.linalg.norm(x - C) < tol


def test_polyak_converges_on_rosenbrock() -> None:
    """Rosenbrock's minimum value is 0, Polyak's f*: 5000 steps from (-1.2, 1)
    end ~3e-5 from (1, 1); tolerance 1e-3, 30 times that, for float32
    rounding in the ill-conditioned valley."""
    tx = with_extra_args(
        lambda: gradtx.polyak_sgd(max_learning_rate=1.0),
        lambda x: {"value": rosenbrock(x)},
    )()
    x, _ = minimize(tx, rosenbrock, jnp.array([-1.2, 1.0], jnp.float32), 5000)
    assert np.linalg.norm(x - ROSENBROCK_MIN) < 1e-3


# ---------------------------------------------- what the catalogue cannot run


def test_dog_matches_optax() -> None:
    """optax's DoG keeps (1,)-shaped sums, which the suite's strict rank
    promotion refuses: compared here with promotion allowed, on the harness
    problem in float32 (30 steps, a descent step each), less its scalar leaf
    (which optax's sums turn into shape (1,))."""
    params, grads = make_problem(seed=3, dtype=np.float32, steps=30)
    params = {k: v for k, v in params.items() if k != "scalar"}
    grads = [{k: g[k] for k in params} for g in grads]
    results = []
    with jax.numpy_rank_promotion("allow"):
        for tx in (
            gradtx.scale_by_distance_over_gradients(reps_rel=1e-2),
            optax.scale_by_distance_over_gradients(reps_rel=1e-2),
        ):

            def run(p: Any, gs: Any, tx: Any = tx) -> Any:
                def body(carry: Any, g: Any) -> tuple[Any, None]:
                    p, state = carry
                    u, state = tx.update(g, state, p)
                    # optax's (1,)-shaped sums are float64 under x64: so is its u.
                    p = jax.tree.map(lambda x, d: x - d.astype(x.dtype), p, u)
                    return (p, state), None

                return jax.lax.scan(body, (p, tx.init(p)), gs)[0][0]

            stacked = jax.tree.map(lambda *xs: np.stack(xs), *grads)
            results.append(jax.jit(run)(params, stacked))
    for k in params:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-5, atol=1e-6)
    assert moved({k: np.asarray(v) for k, v in results[0].items()}, params) > 1e-3


def test_the_key_travels_in_the_state_as_data() -> None:
    """The state holds the key's data (uint32, so it checkpoints and compares
    like any array); a legacy uint32 key and an int seed stand for
    ``jax.random.key(seed)``. The draws themselves, and the key carried on from
    step to step, are checked against the reference above (noisy_sgd)."""
    params = {"w": jnp.zeros((3, 2), jnp.float32)}
    state = gradtx.add_noise(0.1, 0.55, key=jax.random.key(5)).init(params)
    assert state.rng_key.dtype == jnp.uint32
    np.testing.assert_array_equal(state.rng_key, jax.random.key_data(jax.random.key(5)))
    for key in (jax.random.PRNGKey(5), 5):
        same = gradtx.add_noise(0.1, 0.55, key=key).init(params)
        np.testing.assert_array_equal(same.rng_key, state.rng_key)


def test_lion_smooth_refuses_complex_params() -> None:
    tx = gradtx.scale_by_lion(mode="smooth")
    with pytest.raises(TypeError, match=r"scale_by_lion: params\['z'\] is complex"):
        tx.init({"z": jnp.zeros(2, jnp.complex64)})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: gradtx.scale_by_polyak().update(
                jnp.ones(2), gradtx.EmptyState(), value=jnp.ones(2)
            ),
            r"scale_by_polyak: value must be the loss, a scalar",
        ),
        (
            lambda: gradtx.scale_by_trust_ratio().update(
                jnp.ones(2), gradtx.EmptyState()
            ),
            r"scale_by_trust_ratio: params is None",
        ),
        (
            lambda: gradtx.novograd(0.1, weight_decay=0.1).update(
                jnp.ones(2), gradtx.novograd(0.1).init(jnp.ones(2))
            ),
            r"novograd: params is None, but novograd adds a weight decay",
        ),
    ],
)
def test_update_errors_say_what_is_missing(
    call: Callable[[], Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_polyak_without_value_raises_optax_s_type_error_first() -> None:
    # optax's update requires value=: a missing argument is a TypeError, and
    # it is reported before the updates are compared with the params.
    w = jnp.ones(2)
    for tx in (gradtx.polyak_sgd(), optax.polyak_sgd()):
        with pytest.raises(TypeError):
            tx.update((w, w), tx.init(w), w)
    tx = gradtx.polyak_sgd()
    with pytest.raises(TypeError, match=r"polyak_sgd: update needs value="):
        tx.update(w, tx.init(w))


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: gradtx.lars(-0.1), ValueError, r"lars: learning_rate must be"),
        (
            lambda: gradtx.lars(0.1, weight_decay=-1.0),
            ValueError,
            r"lars: weight_decay",
        ),
        (
            lambda: gradtx.lars(0.1, momentum=1.0),
            ValueError,
            r"lars: momentum must be in \[0, 1\)",
        ),
        (lambda: gradtx.lars(0.1, eps=-1.0), ValueError, r"lars: eps must be"),
        (
            lambda: gradtx.lars(0.1, trust_coefficient=float("inf")),
            ValueError,
            r"lars: trust_coefficient",
        ),
        (
            lambda: gradtx.lars(0.1, decayed_grad_norm=1),  # type: ignore[arg-type]
            TypeError,
            r"lars: decayed_grad_norm must be True or False",
        ),
        (
            lambda: gradtx.lars(0.1, trust_ratio_mask={"w": jnp.array(True)}),
            TypeError,
            r"mask\['w'\]",
        ),
        (lambda: gradtx.lamb(0.1, b2=1.0), ValueError, r"lamb: b2 must be in \[0, 1\)"),
        (
            lambda: gradtx.lamb(0.1, eps=0.0),
            ValueError,
            r"lamb: eps must be in \(0, inf\)",
        ),
        (lambda: gradtx.fromage(-1.0), ValueError, r"fromage: learning_rate"),
        (lambda: gradtx.fromage(0.1, min_norm=-1.0), ValueError, r"fromage: min_norm"),
        (lambda: gradtx.novograd(0.1, b1=-0.1), ValueError, r"novograd: b1 must be"),
        (
            lambda: gradtx.novograd(0.1, eps=0.0),
            ValueError,
            r"novograd: eps must be in \(0, inf\) \(or \[0, inf\) with eps_root > 0\)",
        ),
        (
            lambda: gradtx.novograd(0.1, weight_decay=-1.0),
            ValueError,
            r"novograd: weight_decay",
        ),
        (lambda: gradtx.lion(0.1, b1=1.5), ValueError, r"lion: b1 must be in \[0, 1\)"),
        (
            lambda: gradtx.lion(0.1, mu_dtype=jnp.int32),
            TypeError,
            r"lion: mu_dtype must be None or",
        ),
        (
            lambda: gradtx.scale_by_lion(mode="hardd"),
            ValueError,
            r"scale_by_lion: mode='hardd' is not valid.*Did you mean 'hard'",
        ),
        (
            lambda: gradtx.scale_by_lion(mode="smooth", smooth_beta=0.0),
            ValueError,
            r"scale_by_lion: smooth_beta",
        ),
        (lambda: gradtx.sign_sgd(float("nan")), ValueError, r"sign_sgd: learning_rate"),
        (lambda: gradtx.signum(0.1, beta=1.0), ValueError, r"signum: decay must be"),
        (
            lambda: gradtx.noisy_sgd(0.1),
            TypeError,
            r"noisy_sgd: key must be a PRNG key",
        ),
        (
            lambda: gradtx.noisy_sgd(0.1, key="0"),
            TypeError,
            r"noisy_sgd: key must be a PRNG key",
        ),
        (lambda: gradtx.noisy_sgd(0.1, eta=-1.0, key=0), ValueError, r"noisy_sgd: eta"),
        (lambda: gradtx.add_noise(0.1, -0.5, key=0), ValueError, r"add_noise: gamma"),
        (
            lambda: gradtx.polyak_sgd(max_learning_rate=0.0),
            ValueError,
            r"polyak_sgd: max_learning_rate must be",
        ),
        (lambda: gradtx.polyak_sgd(scaling=-1.0), ValueError, r"polyak_sgd: scaling"),
        (
            lambda: gradtx.polyak_sgd(f_min=float("inf")),
            ValueError,
            r"polyak_sgd: f_min",
        ),
        (
            lambda: gradtx.polyak_sgd(variant="sps-"),
            ValueError,
            r"polyak_sgd: variant='sps-' is not valid",
        ),
        (
            lambda: gradtx.scale_by_distance_over_gradients(reps_rel=0.0),
            ValueError,
            r"scale_by_distance_over_gradients: reps_rel",
        ),
        (
            lambda: gradtx.scale_by_distance_over_gradients(eps=0.0),
            ValueError,
            r"scale_by_distance_over_gradients: eps",
        ),
        (
            lambda: gradtx.scale_by_distance_over_gradients(param_dtype=jnp.int8),
            TypeError,
            r"scale_by_distance_over_gradients: param_dtype",
        ),
        (
            lambda: gradtx.scale_by_trust_ratio(min_norm=-1.0),
            ValueError,
            r"scale_by_trust_ratio: min_norm",
        ),
        (
            lambda: gradtx.scale_by_param_block_rms(-1e-3),
            ValueError,
            r"scale_by_param_block_rms: min_scale",
        ),
    ],
)
def test_bad_hyperparameters_name_the_function_and_argument(
    build: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()
