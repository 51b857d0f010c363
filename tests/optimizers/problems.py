"""The convergence problems shared by the optimizer tests (closed-form minima).

See ``test_convergence.py`` for what each test asserts; an optimizer family's
own tests reach the same problems' minima with these helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import gradtx

MakeTx = Callable[[], gradtx.GradientTransformation]
Loss = Callable[[jax.Array], jax.Array]


DIM = 5
_rng = np.random.default_rng(0)
_Q, _ = np.linalg.qr(_rng.normal(size=(DIM, DIM)))
EIGS = np.geomspace(1.0, 10.0, DIM)  # mu = 1, L = 10: condition number 10
A = (_Q * EIGS) @ _Q.T
C = _rng.normal(size=DIM)  # the minimum; |C| ~ 1.3
ROSENBROCK_MIN = np.array([1.0, 1.0])


def quadratic(x: jax.Array) -> jax.Array:
    d = x - jnp.asarray(C, x.dtype)
    return 0.5 * d @ (jnp.asarray(A, x.dtype) @ d)


def rosenbrock(x: jax.Array) -> jax.Array:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def l2_optimum(lam: float) -> np.ndarray:
    """The minimum of ``quadratic + lam/2 |x|^2``: ``(A + lam I)^-1 A c``."""
    return np.linalg.solve(A + lam * np.eye(DIM), A @ C)


# Adam's default beta2, for the test's own running mean of g^2 (AdamW bound).
B2 = 0.999


def minimize(
    tx: gradtx.GradientTransformation, loss: Loss, x0: jax.Array, steps: int
) -> tuple[np.ndarray, float]:
    """Runs ``steps`` steps of ``tx`` on ``loss`` from ``x0``.

    The gradient handed to ``tx`` is ``conj(jax.grad(loss))``, the descent
    direction also for complex params (for real params ``conj`` is the
    identity).

    Returns:
      The final params, and ``max_i sqrt(v_hat_i)`` at the end, where
      ``v_hat`` is the bias-corrected running mean (``B2``) of the squared
      gradients along the run, as in Kingma & Ba's Algorithm 1. It is computed
      here from the gradients, not read from the optimizer, for the AdamW
      bound below.
    """

    @jax.jit
    def run(x0: jax.Array) -> tuple[jax.Array, jax.Array]:
        def body(carry: Any, _: None) -> tuple[Any, None]:
            x, state, v = carry
            g = jnp.conj(jax.grad(loss)(x))
            updates, state = tx.update(g, state, x)
            v = B2 * v + (1 - B2) * jnp.abs(g) ** 2
            return (gradtx.apply_updates(x, updates), state, v), None

        v0 = jnp.zeros(x0.shape, jnp.abs(x0).dtype)
        (x, _, v), _ = jax.lax.scan(body, (x0, tx.init(x0), v0), length=steps)
        return x, jnp.sqrt(jnp.max(v) / (1 - B2**steps))

    x, grad_rms = run(x0)
    assert x.dtype == x0.dtype  # the params keep their dtype
    return np.asarray(x), float(grad_rms)


def adamw_shift_bound(
    lam: float, grad_rms: float, minimum: np.ndarray, mu_min: float
) -> float:
    """How far a decoupled weight decay ``lam`` can move AdamW's fixed point.

    Where AdamW's update vanishes (Loshchilov & Hutter 2019, Alg. 2 line 12),
    ``m_hat / (sqrt(v_hat) + eps) = -lam x``, with ``m_hat = g = H (x - x*)``
    there (exactly for the quadratic, ``H = A``; to first order near
    Rosenbrock's minimum, ``H`` its Hessian there). So ``H (x - x*) = -lam D
    x`` with ``D = diag(sqrt(v_hat) + eps)``, i.e. ``(H + lam D)(x - x*) =
    -lam D x*``, and as ``H + lam D >= mu_min(H) I``:
    ``|x - x*| <= lam (max sqrt(v_hat) + eps) |x*| / mu_min(H)``. An upper
    bound, not the point itself: AdamW's fixed point is not the L2 optimum
    (see test_adamw_is_not_l2_regularization).
    """
    return lam * (grad_rms + 1e-8) * float(np.linalg.norm(minimum)) / mu_min


def cosine(lr: float, steps: int) -> gradtx.Schedule:
    return gradtx.cosine_decay_schedule(lr, steps, alpha=1e-3)
