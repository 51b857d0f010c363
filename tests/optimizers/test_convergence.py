"""Every optimizer reaches the minimum of a convex quadratic and of Rosenbrock.

The targets are known in closed form: the quadratic
``f(x) = 0.5 (x - c)^T A (x - c)`` (A symmetric positive definite, dimension
5, eigenvalues from 1 to 10: condition number 10) has its minimum at ``c``;
Rosenbrock's ``(1 - x)^2 + 100 (y - x^2)^2`` at ``(1, 1)``, started from the
standard ``(-1.2, 1)``. Each run is one ``jax.lax.scan`` inside one
``jax.jit`` (one compile per case), in float32 (complex64 for the complex
parabola). Each tolerance is stated with its reason next to the cases.

Constant learning rates are used where the method converges with one (SGD,
momentum, AdaGrad); the RMS-normalized methods (RMSProp, Adam) take steps of
about the learning rate whatever the gradient's size, so with a constant rate
they hover at a distance ~lr from the minimum: they get a cosine decay to
1e-3 of the initial rate, the standard cure.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.optimizers.problems import (
    DIM,
    EIGS,
    ROSENBROCK_MIN,
    C,
    MakeTx,
    adamw_shift_bound,
    cosine,
    l2_optimum,
    minimize,
    quadratic,
    rosenbrock,
)

# ---------------------------------------------------------------- quadratic

# Tolerance |x - c| < 1e-3 (|c| ~ 1.3). For SGD it is loose by construction:
# gradient descent with lr = 1/L contracts the error by max|1 - lr * eig| = 0.9
# per step, so after 200 steps the bound 0.9^200 |c| ~ 1e-9 is below float32
# resolution (~1e-7 |c|); the other methods have no such simple rate, and
# every run below ends at least 30 times inside the tolerance, which leaves
# room for platform-dependent float32 rounding.
QUADRATIC_TOL = 1e-3

QUADRATIC_CASES = [
    pytest.param(lambda: gradtx.sgd(0.1), 200, 0.0, id="sgd"),
    pytest.param(lambda: gradtx.sgd(0.05, momentum=0.9), 300, 0.0, id="sgd-momentum"),
    pytest.param(
        lambda: gradtx.sgd(0.05, momentum=0.9, nesterov=True),
        300,
        0.0,
        id="sgd-nesterov",
    ),
    pytest.param(lambda: gradtx.adagrad(1.0), 200, 0.0, id="adagrad"),
    pytest.param(lambda: gradtx.rmsprop(cosine(0.03, 500)), 500, 0.0, id="rmsprop"),
    pytest.param(
        lambda: gradtx.rmsprop(cosine(0.03, 500), centered=True, momentum=0.9),
        500,
        0.0,
        id="rmsprop-centered-momentum",
    ),
    pytest.param(lambda: gradtx.adam(cosine(0.05, 500)), 500, 0.0, id="adam"),
    pytest.param(
        lambda: gradtx.adam(cosine(0.05, 500), nesterov=True), 500, 0.0, id="nadam"
    ),
    pytest.param(
        lambda: gradtx.adamw(cosine(0.05, 500), weight_decay=1e-4),
        500,
        1e-4,
        id="adamw",
    ),
]


@pytest.mark.parametrize(("make_tx", "steps", "decoupled_decay"), QUADRATIC_CASES)
def test_converges_on_quadratic(
    make_tx: MakeTx, steps: int, decoupled_decay: float
) -> None:
    """|x - c| < 1e-3, plus for AdamW the bound on the shift of its minimum."""
    x, grad_rms = minimize(make_tx(), quadratic, jnp.zeros(DIM, jnp.float32), steps)
    tol = QUADRATIC_TOL + adamw_shift_bound(decoupled_decay, grad_rms, C, EIGS.min())
    assert np.linalg.norm(x - C) < tol


def test_coupled_l2_adam_reaches_the_regularized_optimum() -> None:
    """Adam with coupled L2 (Loshchilov & Hutter 2019, Alg. 2 line 6) is Adam
    on ``f + lam/2 |x|^2``, so it ends at that function's closed-form minimum
    ``(A + lam I)^-1 A c``, 0.06 away from ``c`` for lam = 0.1. Tolerance
    1e-4: the run ends ~1e-7 from it, and 1e-4 is < 1/500 of the shift."""
    lam = 0.1
    tx = gradtx.chain(gradtx.add_decayed_weights(lam), gradtx.adam(cosine(0.05, 500)))
    x, _ = minimize(tx, quadratic, jnp.zeros(DIM, jnp.float32), 500)
    target = l2_optimum(lam)
    assert np.linalg.norm(target - C) > 0.05  # the regularization is visible
    assert np.linalg.norm(x - target) < 1e-4


def test_adamw_is_not_l2_regularization() -> None:
    """Decoupled weight decay is not an L2 penalty for Adam (the point of
    Loshchilov & Hutter 2019): near the minimum the gradients, and with them
    sqrt(v_hat), shrink, and L2's lam * x is divided by sqrt(v_hat) while
    AdamW's is not. AdamW must therefore end clearly away from the L2 optimum
    (more than 100 times the 1e-4 to which coupled L2 reaches it above), and
    within the bound on its stationary points (adamw_shift_bound)."""
    lam = 0.1
    x, grad_rms = minimize(
        gradtx.adamw(cosine(0.05, 500), weight_decay=lam),
        quadratic,
        jnp.zeros(DIM, jnp.float32),
        500,
    )
    assert np.linalg.norm(x - l2_optimum(lam)) > 1e-2
    bound = adamw_shift_bound(lam, grad_rms, C, EIGS.min())
    assert np.linalg.norm(x - C) < QUADRATIC_TOL + bound


# ---------------------------------------------------------------- Rosenbrock

# Rosenbrock's Hessian at the minimum, [[802, -400], [-400, 200]]: eigenvalues
# ~0.4 and ~1000, a long curved valley.
ROSENBROCK_MU = float(
    np.linalg.eigvalsh(np.array([[802.0, -400.0], [-400.0, 200.0]]))[0]
)

# Tolerance |x - (1, 1)| < 1e-3 for SGD and momentum, 1e-2 for the adaptive
# methods. SGD needs lr < 2/1000 to be stable near the minimum, where it then
# closes the error along the valley floor by (1 - ROSENBROCK_MU lr) per step:
# a factor e^-12 over 20000 steps of lr = 1.5e-3, which leaves ample steps
# for first following the curve.
# Momentum gets there faster. The adaptive methods take steps of about the
# learning rate along the valley; 1e-2 is the customary target, and every run
# below ends at least 15 times inside its tolerance, leaving room for float32
# rounding, which this ill-conditioned valley amplifies.
ROSENBROCK_CASES = [
    pytest.param(lambda: gradtx.sgd(1.5e-3), 20000, 1e-3, 0.0, id="sgd"),
    pytest.param(
        lambda: gradtx.sgd(1e-3, momentum=0.9), 3000, 1e-3, 0.0, id="sgd-momentum"
    ),
    pytest.param(
        lambda: gradtx.sgd(1e-3, momentum=0.9, nesterov=True),
        3000,
        1e-3,
        0.0,
        id="sgd-nesterov",
    ),
    pytest.param(lambda: gradtx.adagrad(1.0), 20000, 1e-2, 0.0, id="adagrad"),
    pytest.param(
        lambda: gradtx.rmsprop(cosine(0.01, 10000)), 10000, 1e-2, 0.0, id="rmsprop"
    ),
    pytest.param(
        lambda: gradtx.rmsprop(cosine(0.01, 3000), centered=True, momentum=0.9),
        3000,
        1e-2,
        0.0,
        id="rmsprop-centered-momentum",
    ),
    pytest.param(lambda: gradtx.adam(cosine(0.1, 5000)), 5000, 1e-2, 0.0, id="adam"),
    pytest.param(
        lambda: gradtx.adam(cosine(0.1, 5000), nesterov=True),
        5000,
        1e-2,
        0.0,
        id="nadam",
    ),
    # The tolerance grows by adamw_shift_bound (H the Hessian at the minimum).
    pytest.param(
        lambda: gradtx.adamw(cosine(0.1, 5000), weight_decay=1e-4),
        5000,
        1e-2,
        1e-4,
        id="adamw",
    ),
]


@pytest.mark.parametrize(
    ("make_tx", "steps", "tol", "decoupled_decay"), ROSENBROCK_CASES
)
def test_converges_on_rosenbrock(
    make_tx: MakeTx, steps: int, tol: float, decoupled_decay: float
) -> None:
    x0 = jnp.array([-1.2, 1.0], jnp.float32)
    x, grad_rms = minimize(make_tx(), rosenbrock, x0, steps)
    tol += adamw_shift_bound(decoupled_decay, grad_rms, ROSENBROCK_MIN, ROSENBROCK_MU)
    assert np.linalg.norm(x - ROSENBROCK_MIN) < tol


# ---------------------------------------------------------------- complex

Z_MIN = np.array([1.0 + 1.0j, -2.0 + 0.5j, 0.3 - 1.5j], np.complex64)


def complex_parabola(z: jax.Array) -> jax.Array:
    """``sum |z - c|^2``, written without ``abs`` (not differentiable at 0)."""
    d = z - jnp.asarray(Z_MIN)
    return jnp.sum(jnp.real(d * jnp.conj(d)))


# The gradient is 2 (z - c) after the conjugation in ``minimize``: SGD with
# lr = 0.1 contracts the error by 0.8 per step, to ~1e-10 |c| after 100
# steps, below complex64 resolution. Tolerance 1e-4 for all three (|c| ~ 2.7;
# every run ends at least 20 times inside it). The adaptive methods must take
# their second moments of |g|^2 (real) and keep the first moments complex: a
# complex g^2 in the root would turn the steps off the descent direction.
COMPLEX_CASES = [
    pytest.param(lambda: gradtx.sgd(0.1), 100, id="sgd"),
    pytest.param(lambda: gradtx.adam(cosine(0.1, 500)), 500, id="adam"),
    pytest.param(
        lambda: gradtx.rmsprop(cosine(0.01, 500), centered=True, momentum=0.9),
        500,
        id="rmsprop-centered-momentum",
    ),
]


@pytest.mark.parametrize(("make_tx", "steps"), COMPLEX_CASES)
def test_converges_on_complex_parabola(make_tx: MakeTx, steps: int) -> None:
    z0 = jnp.zeros(Z_MIN.shape, jnp.complex64)
    z, _ = minimize(make_tx(), complex_parabola, z0, steps)
    assert np.linalg.norm(z - Z_MIN) < 1e-4
