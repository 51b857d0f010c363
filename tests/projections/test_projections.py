"""Projections vs optax, NumPy float64 references (bisection, KKT) and scipy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize

import gradtx.projections as gp


def _close(a: object, b: object, tol: float = 1e-6) -> None:
    b = np.asarray(b) if isinstance(b, list | float) else b
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _np_simplex(x: np.ndarray, s: float) -> np.ndarray:
    """sum(max(x - theta, 0)) = s, solved for theta by bisection (no sorting)."""
    lo, hi = x.min() - s, x.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.maximum(x - mid, 0).sum() > s else (lo, mid)
    return np.maximum(x - (lo + hi) / 2, 0)


def _np_l1_ball(x: np.ndarray, s: float) -> np.ndarray:
    if np.abs(x).sum() <= s:
        return x
    return np.sign(x) * _np_simplex(np.abs(x), s)


def _tree(seed: int = 0, dtype: type = np.float64) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "w": jnp.asarray(rng.normal(size=(2, 3)) * 2, dtype),
        "b": jnp.asarray(rng.normal(size=(4,)) * 2, dtype),
    }


def _flat(tree: dict) -> np.ndarray:
    return np.concatenate(
        [np.asarray(x, np.float64).ravel() for x in jax.tree.leaves(tree)]
    )


def test_boxes_match_optax_and_numpy() -> None:
    tree = _tree()
    lower = {"w": -jnp.ones((2, 3)), "b": jnp.full((4,), -0.5)}
    upper = {"w": jnp.ones((2, 3)), "b": jnp.full((4,), 2.0)}
    cases = [
        (
            gp.projection_non_negative(tree),
            optax.projections.projection_non_negative(tree),
            jax.tree.map(lambda x: np.maximum(np.asarray(x), 0), tree),
        ),
        (
            gp.projection_box(tree, lower, upper),
            optax.projections.projection_box(tree, lower, upper),
            jax.tree.map(
                lambda x, lo, hi: np.clip(np.asarray(x), lo, hi), tree, lower, upper
            ),
        ),
        # optax's hypercube takes one array (its lower=0 is not a tree).
        (
            gp.projection_hypercube(tree, 0.5)["w"],
            optax.projections.projection_hypercube(tree["w"], 0.5),
            np.clip(tree["w"], 0, 0.5),
        ),
        (
            gp.projection_linf_ball(tree, 1.5),
            optax.projections.projection_linf_ball(tree, 1.5),
            jax.tree.map(lambda x: np.clip(x, -1.5, 1.5), tree),
        ),
    ]
    for ours, theirs, numpy in cases:
        _close(ours, theirs)
        _close(ours, numpy)
    # A scalar bound works for a whole tree (optax needs a tree of bounds);
    # float32 leaves stay float32 whatever the bounds' dtype.
    _close(
        gp.projection_box(tree, -1.0, 1.0),
        jax.tree.map(lambda x: np.clip(x, -1, 1), tree),
    )
    x32 = jnp.array([-2.0, 0.5, 3.0], jnp.float32)
    assert gp.projection_box(x32, jnp.zeros(3), jnp.ones(3)).dtype == jnp.float32


@pytest.mark.parametrize("scale", [1.0, 0.7])
def test_simplex_matches_optax_bisection_kkt_and_scipy(scale: float) -> None:
    tree = _tree(1)
    ours = gp.projection_simplex(tree, scale)
    _close(ours, optax.projections.projection_simplex(tree, scale), 1e-10)
    x, p = _flat(tree), _flat(ours)
    _close(p, _np_simplex(x, scale), 1e-10)
    # KKT: p = max(x - theta, 0) with one theta, and sum(p) = scale.
    theta = (x - p)[p > 0]
    assert np.ptp(theta) < 1e-10 and np.all(x[p == 0] <= theta[0] + 1e-10)
    np.testing.assert_allclose(p.sum(), scale, rtol=1e-12)
    # Brute force: minimize the distance over the simplex with SLSQP.
    res = scipy.optimize.minimize(
        lambda q: 0.5 * np.sum((q - x) ** 2),
        np.full(x.size, scale / x.size),
        jac=lambda q: q - x,
        bounds=[(0, None)] * x.size,
        constraints=[{"type": "eq", "fun": lambda q: q.sum() - scale}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 500},
    )
    _close(p, res.x, 1e-6)
    # Ties and -inf, as optax's edge case.
    _close(
        gp.projection_simplex(jnp.array([0.0, 0.0, -jnp.inf]), scale),
        [scale / 2, scale / 2, 0.0],
    )


def test_simplex_jacobian_in_x_and_scale() -> None:
    x = jnp.asarray(np.random.default_rng(2).random(6))
    p = gp.projection_simplex(x)
    m = (np.asarray(p) > 0).astype(np.float64)
    want = np.diag(m) - np.outer(m, m) / m.sum()
    _close(jax.jacfwd(gp.projection_simplex)(x), want, 1e-12)
    _close(jax.jacrev(gp.projection_simplex)(x), want, 1e-12)
    d_scale = jax.jacfwd(gp.projection_simplex, argnums=1)(x, 1.0)
    eps = 1e-6
    fd = (_np_simplex(np.asarray(x), 1 + eps) - _np_simplex(np.asarray(x), 1 - eps)) / (
        2 * eps
    )
    _close(d_scale, fd, 1e-6)
    # jit + vmap over rows and scales.
    rows = jnp.asarray(np.random.default_rng(3).normal(size=(3, 5)))
    scales = jnp.array([1.0, 0.5, 2.0])
    batched = jax.jit(jax.vmap(gp.projection_simplex))(rows, scales)
    for r, s, got in zip(
        np.asarray(rows), np.asarray(scales), np.asarray(batched), strict=True
    ):
        _close(got, _np_simplex(r, s), 1e-10)


@pytest.mark.parametrize("radius", [0.5, 100.0])
def test_l1_l2_balls_and_spheres_match_optax_and_numpy(radius: float) -> None:
    tree = _tree(4)
    x = _flat(tree)
    l1 = gp.projection_l1_ball(tree, radius)
    _close(l1, optax.projections.projection_l1_ball(tree, radius), 1e-10)
    _close(_flat(l1), _np_l1_ball(x, radius), 1e-10)
    l2 = gp.projection_l2_ball(tree, radius)
    _close(l2, optax.projections.projection_l2_ball(tree, radius), 1e-10)
    _close(_flat(l2), x * min(1.0, radius / np.linalg.norm(x)), 1e-10)
    s1 = gp.projection_l1_sphere(tree, radius)
    _close(s1, optax.projections.projection_l1_sphere(tree, radius), 1e-10)
    np.testing.assert_allclose(np.abs(_flat(s1)).sum(), radius, rtol=1e-10)
    s2 = gp.projection_l2_sphere(tree, radius)
    _close(s2, optax.projections.projection_l2_sphere(tree, radius), 1e-10)
    _close(_flat(s2), x * radius / np.linalg.norm(x), 1e-10)


def test_zeros_give_points_of_the_set_and_finite_gradients() -> None:
    zero = jnp.zeros(4)
    # Where optax returns a point off the sphere (0) or NaN, gradtx a point on it.
    _close(gp.projection_l1_sphere(zero, 2.0), np.full(4, 0.5))
    _close(gp.projection_l2_sphere(zero, 2.0), np.full(4, 1.0))
    _close(gp.projection_vector(jnp.ones(4), zero), np.zeros(4))
    _close(gp.projection_halfspace(jnp.ones(4), zero, 1.0), np.ones(4))
    for f in (gp.projection_l1_ball, gp.projection_l2_ball, gp.projection_l2_sphere):
        grad = jax.grad(lambda v, f=f: jnp.sum(f(v) ** 2))(zero)
        assert bool(jnp.all(jnp.isfinite(grad))), f.__name__
    _close(jax.grad(gp.projection_l2_ball)(0.0), 1.0)
    _close(jax.grad(gp.projection_l1_ball)(0.0), 1.0)
    _close(gp.projection_l2_ball(jnp.array([3.0, 4.0]), 0.0), np.zeros(2))


def test_affine_projections_match_optax_and_numpy() -> None:
    x, a = _tree(5), _tree(6)
    xf, af = _flat(x), _flat(a)
    _close(gp.projection_vector(x, a), optax.projections.projection_vector(x, a), 1e-10)
    _close(_flat(gp.projection_vector(x, a)), (xf @ af) / (af @ af) * af, 1e-10)
    for b in (xf @ af - 1.0, xf @ af + 1.0):
        plane = gp.projection_hyperplane(x, a, b)
        _close(plane, optax.projections.projection_hyperplane(x, a, b), 1e-10)
        _close(_flat(plane), xf + (b - xf @ af) / (af @ af) * af, 1e-10)
        half = gp.projection_halfspace(x, a, b)
        _close(half, optax.projections.projection_halfspace(x, a, b), 1e-10)
        _close(_flat(half), xf + min(b - xf @ af, 0) / (af @ af) * af, 1e-10)
    jitted = jax.jit(gp.projection_hyperplane)(x, a, 1.0)
    np.testing.assert_allclose(_flat(jitted) @ af, 1.0, rtol=1e-10)


def test_bad_inputs_name_function_and_argument() -> None:
    x = jnp.ones(3)
    cases = [
        (
            lambda: gp.projection_simplex(jnp.ones(3, jnp.int32)),
            TypeError,
            "tree has dtype int32",
        ),
        (lambda: gp.projection_simplex(x, 0.0), ValueError, "scale must be"),
        (lambda: gp.projection_l2_ball({"w": x}, -1.0), ValueError, "scale must be"),
        (lambda: gp.projection_box(x, 1.0, 0.0), ValueError, "lower > upper"),
        (lambda: gp.projection_box((x, x), (0.0,), 1.0), ValueError, "lower must be"),
        (
            lambda: gp.projection_box(x, jnp.zeros(4), 1.0),
            ValueError,
            "lower has shape (4,)",
        ),
        (lambda: gp.projection_hypercube(x, -1.0), ValueError, "scale must be >= 0"),
        (lambda: gp.projection_vector(x, jnp.ones(4)), ValueError, "a"),
        (
            lambda: gp.projection_hyperplane(x, jnp.zeros(3), 1.0),
            ValueError,
            "a is zero",
        ),
        (
            lambda: gp.projection_halfspace(x, jnp.zeros(3), -1.0),
            ValueError,
            "a is zero",
        ),
        (
            lambda: gp.projection_l1_ball({"k": jnp.ones(2, bool)}),
            TypeError,
            "tree['k']",
        ),
    ]
    for call, kind, words in cases:
        with pytest.raises(kind) as info:
            call()
        assert str(info.value).startswith("projection_"), str(info.value)
        assert words in str(info.value), str(info.value)


def test_public_names() -> None:
    assert sorted(gp.__all__) == gp.__all__
    assert set(gp.__all__) == {
        n for n in dir(optax.projections) if not n.startswith("_")
    }
    for name in gp.__all__:
        assert "Example:" in (getattr(gp, name).__doc__ or "")
