"""power_iteration, matrix_inverse_pth_root, nnls, multi_normal vs NumPy, optax."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx.linalg as gla


def _spd(n: int, seed: int, cond: float = 100.0) -> np.ndarray:
    """A symmetric positive definite float64 matrix with eigenvalues in [1/cond, 1]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigs = cond ** -np.linspace(0.0, 1.0, n)
    return (q * eigs) @ q.T


def _np_inverse_root(a: np.ndarray, p: int, ridge_epsilon: float) -> np.ndarray:
    """(A + eps * lambda_max I)^(-1/p), by eigendecomposition in float64."""
    w, u = np.linalg.eigh(a)
    w = w + ridge_epsilon * max(w[-1], 1e-16)
    return (u * w ** (-1.0 / p)) @ u.T


def _same_direction(a: Any, b: Any, decimal: int) -> None:
    x, y = np.ravel(np.asarray(a)), np.ravel(np.asarray(b))
    np.testing.assert_array_almost_equal(x * np.sign(x[0]), y * np.sign(y[0]), decimal)


# ---------------------------------------------------------------- power_iteration


@pytest.mark.parametrize("implicit", [False, True])
def test_power_iteration_matches_eigh_and_optax(implicit: bool) -> None:
    a = jnp.asarray(_spd(6, 0, cond=10.0) + np.diag([3.0, 0, 0, 0, 0, 0]))
    v0 = jnp.ones(6)
    run = jax.jit(
        lambda m, v: gla.power_iteration((lambda x: m @ x) if implicit else m, v0=v)
    )
    value, vector = run(a, v0)
    w, u = np.linalg.eigh(np.asarray(a))
    np.testing.assert_allclose(value, w[-1], rtol=1e-6)
    _same_direction(vector, u[:, -1], 5)
    np.testing.assert_allclose(np.linalg.norm(vector), 1.0, rtol=1e-12)
    want_value, want_vector = optax.power_iteration(a, v0=v0)
    np.testing.assert_allclose(value, want_value, rtol=1e-10)
    _same_direction(vector, want_vector, 8)


def test_power_iteration_pytree_and_default_v0() -> None:
    def mvp(t: dict) -> dict:  # block diagonal: 2 I on "a", I on "b"
        return {"a": 2.0 * t["a"], "b": t["b"]}

    v0 = {"a": jnp.ones(3, jnp.float32), "b": jnp.ones((2, 2), jnp.float32)}
    value, vector = gla.power_iteration(mvp, v0=v0, error_tolerance=1e-4)
    assert set(vector) == {"a", "b"}
    np.testing.assert_allclose(value, 2.0, rtol=1e-3)
    np.testing.assert_allclose(vector["b"], 0.0, atol=1e-3)
    # No v0: uniform in [-1, 1] from PRNGKey(0), as optax draws it.
    a = jnp.asarray(_spd(5, 1), jnp.float32)
    got, want = gla.power_iteration(a), optax.power_iteration(a)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    _same_direction(got[1], want[1], 5)
    key = jax.random.key(3)
    np.testing.assert_allclose(
        gla.power_iteration(a, key=key)[0], optax.power_iteration(a, key=key)[0], 1e-6
    )


def test_power_iteration_zero_matrix_is_finite() -> None:
    value, vector = gla.power_iteration(jnp.zeros((3, 3)), v0=jnp.ones(3))
    assert float(value) == 0.0
    assert np.isfinite(np.asarray(vector)).all()


def test_power_iteration_errors() -> None:
    pi = gla.power_iteration
    with pytest.raises(ValueError, match="power_iteration: matrix must be a square"):
        pi(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="v0 must be given"):
        pi(lambda v: v)
    with pytest.raises(ValueError, match=r"v0 must be a vector of shape \(3,\)"):
        pi(jnp.eye(3), v0=jnp.ones(2))
    with pytest.raises(ValueError, match="matrix must map v0"):
        pi(lambda v: v[:2], v0=jnp.ones(3))
    with pytest.raises(ValueError, match="num_iters is -1"):
        pi(jnp.eye(3), num_iters=-1)
    with pytest.raises(ValueError, match="error_tolerance must be in"):
        pi(jnp.eye(3), error_tolerance=-1.0)
    with pytest.raises(TypeError, match="matrix has dtype int"):
        pi(jnp.eye(3, dtype=jnp.int32))


# -------------------------------------------------------- matrix_inverse_pth_root


@pytest.mark.parametrize("p", [1, 2, 3, 4, 6])
def test_pth_root_matches_eigendecomposition(p: int) -> None:
    a = _spd(5, p, cond=50.0)
    root, error = gla.matrix_inverse_pth_root(
        jnp.asarray(a), p, ridge_epsilon=1e-6, error_tolerance=1e-12
    )
    assert root.dtype == jnp.float64 and root.shape == (5, 5)
    assert float(error) < 1e-10
    np.testing.assert_allclose(root, _np_inverse_root(a, p, 1e-6), rtol=1e-8, atol=1e-8)
    if p in (1, 2, 4):  # optax's powers are exact only for p in {1, 2, 4, 8}
        want, _ = optax.matrix_inverse_pth_root(
            jnp.asarray(a), p, error_tolerance=1e-12
        )
        np.testing.assert_allclose(root, want, rtol=1e-5)


def test_pth_root_float32_1x1_and_jit() -> None:
    a = _spd(8, 7, cond=1e3)
    root, error = jax.jit(gla.matrix_inverse_pth_root, static_argnames="p")(
        jnp.asarray(a, jnp.float32), p=4
    )
    assert root.dtype == jnp.float32 and float(error) < 0.1
    np.testing.assert_allclose(root, _np_inverse_root(a, 4, 1e-6), rtol=2e-3)
    one, error = gla.matrix_inverse_pth_root(jnp.array([[9.0]]), 2, ridge_epsilon=0.0)
    np.testing.assert_allclose(one, [[1 / 3]], rtol=1e-12)
    assert float(error) == 0.0
    half, _ = gla.matrix_inverse_pth_root(jnp.eye(2, dtype=jnp.bfloat16) * 4, 2)
    assert half.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(half, np.float32), np.eye(2) / 2, rtol=1e-2)


def test_pth_root_errors() -> None:
    root = gla.matrix_inverse_pth_root
    with pytest.raises(ValueError, match="matrix_inverse_pth_root: p is 0"):
        root(jnp.eye(2), 0)
    with pytest.raises(ValueError, match=r"p is 2\.5"):
        root(jnp.eye(2), 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="matrix must be a square"):
        root(jnp.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="matrix must be a square"):
        root(jnp.ones((2, 2, 2)), 2)
    with pytest.raises(ValueError, match="ridge_epsilon must be in"):
        root(jnp.eye(2), 2, ridge_epsilon=-1.0)


# ----------------------------------------------------------------------- nnls


def _assert_kkt(a: np.ndarray, b: np.ndarray, x: np.ndarray, tol: float) -> None:
    """x >= 0, gradient g = A^T (A x - b) >= 0, and x * g = 0."""
    g = a.T @ (a @ x - b)
    assert (x >= 0).all()
    assert (g >= -tol).all()
    np.testing.assert_allclose(x * g, 0.0, atol=tol)


@pytest.mark.parametrize("k", [(), (3,)])
def test_nnls_matches_scipy_and_kkt(k: tuple) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(12, 5)), rng.normal(size=(12, *k))
    x = np.asarray(gla.nnls(jnp.asarray(a), jnp.asarray(b), 3000))
    assert x.shape == (5, *k) and x.dtype == np.float64
    columns = [(b, x)] if not k else [(b[:, j], x[:, j]) for j in range(k[0])]
    for bj, xj in columns:
        _assert_kkt(a, bj, xj, 1e-8)
        try:
            import scipy.optimize
        except ImportError:
            continue
        np.testing.assert_allclose(xj, scipy.optimize.nnls(a, bj)[0], atol=1e-8)


def test_nnls_is_optax_one_iteration_later() -> None:
    # optax starts FPG from c = 0: its first two iterates are equal.
    rng = np.random.default_rng(1)
    a = jnp.asarray(rng.normal(size=(8, 6)))
    b = jnp.asarray(rng.normal(size=(8,)))
    np.testing.assert_allclose(
        gla.nnls(a, b, 4, L=100.0, unroll=2), optax.nnls(a, b, 5, L=100.0), rtol=1e-10
    )
    grad = jax.grad(lambda b: gla.nnls(a, b, 20).sum())(b)
    assert np.isfinite(np.asarray(grad)).all()


def test_nnls_errors() -> None:
    a, b = jnp.ones((4, 3)), jnp.ones(4)
    with pytest.raises(ValueError, match=r"nnls: A must be a matrix"):
        gla.nnls(jnp.ones(4), b, 10)
    with pytest.raises(ValueError, match=r"b must be of shape \(4,\)"):
        gla.nnls(a, jnp.ones(3), 10)
    with pytest.raises(ValueError, match=r"b must be of shape"):
        gla.nnls(a, jnp.ones((4, 2, 2)), 10)
    with pytest.raises(ValueError, match="iters is -1"):
        gla.nnls(a, b, -1)
    with pytest.raises(ValueError, match="L must be in"):
        gla.nnls(a, b, 10, L=-1.0)


# ---------------------------------------------------------------- multi_normal


def test_multi_normal_log_prob_closed_form_and_optax() -> None:
    rng = np.random.default_rng(2)
    loc, log_scale = rng.normal(size=(1, 3)), rng.normal(size=(2, 3))
    x = rng.normal(size=(4, 2, 3))
    dist = gla.multi_normal(jnp.asarray(loc), jnp.asarray(log_scale))
    got = dist.log_prob(jnp.asarray(x))
    sigma = np.exp(log_scale)
    dens = -0.5 * ((x - loc) / sigma) ** 2 - np.log(sigma) - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(got, dens.sum(axis=(1, 2)), rtol=1e-12)
    want = optax.multi_normal(jnp.asarray(loc), jnp.asarray(log_scale))
    with jax.numpy_rank_promotion("allow"):  # optax broadcasts implicitly
        want_log_prob = want.log_prob(jnp.asarray(x))
    np.testing.assert_allclose(got, want_log_prob, rtol=1e-12)
    assert [p.shape for p in dist.params] == [(1, 3), (2, 3)]
    assert dist.log_scale.shape == (2, 3)


def test_multi_normal_sample() -> None:
    loc, log_scale = jnp.array([1.0, -2.0]), jnp.log(jnp.array([0.5, 3.0]))
    dist = gla.multi_normal(loc, log_scale)
    key = jax.random.key(0)
    samples = dist.sample([4000], key)
    assert samples.shape == (4000, 2) and samples.dtype == jnp.float64
    np.testing.assert_allclose(samples.mean(0), loc, atol=0.15)
    np.testing.assert_allclose(samples.std(0), [0.5, 3.0], rtol=0.05)
    with jax.numpy_rank_promotion("allow"):  # optax broadcasts implicitly
        want = optax.multi_normal(loc, log_scale).sample((4000,), key)
    np.testing.assert_allclose(samples, want, rtol=1e-12)
    f32 = gla.multi_normal(loc.astype(jnp.float32), log_scale.astype(jnp.float32))
    assert f32.sample((3, 2), key).dtype == jnp.float32


def test_multi_normal_errors() -> None:
    with pytest.raises(ValueError, match=r"log_scale shape .* Incompatible shapes"):
        gla.multi_normal(jnp.ones((2, 4)), jnp.ones((3, 4)))
    with pytest.raises(TypeError, match="loc has dtype int"):
        gla.multi_normal(jnp.ones(2, jnp.int32), jnp.ones(2))
    dist = gla.multi_normal(jnp.ones(3), jnp.zeros(3))
    with pytest.raises(ValueError, match="shape must be a sequence of ints"):
        dist.sample(3, jax.random.key(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"x has shape \(4,\)"):
        dist.log_prob(jnp.ones(4))
