"""hvp, hessian_diag and fisher_diag vs jax.hessian, closed forms and optax."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax import flatten_util

import gradtx.second_order as gs


def _close(a: object, b: object, tol: float = 1e-10) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _logistic_problem() -> tuple:
    rng = np.random.default_rng(0)
    inputs = jnp.asarray(rng.normal(size=(8, 3)))
    targets = jnp.asarray(rng.integers(0, 2, size=(8,)).astype(np.float64))
    params = {"w": jnp.asarray(rng.normal(size=(3,))), "b": jnp.asarray(0.3)}

    def loss(p: dict, x: jax.Array, y: jax.Array) -> jax.Array:
        z = x @ p["w"] + p["b"]
        return jnp.mean(jax.nn.softplus(z) - y * z)

    return loss, params, inputs, targets


def test_logistic_regression_closed_forms() -> None:
    loss, params, x, y = _logistic_problem()
    # ravel_pytree orders the leaves as jax.tree.leaves: "b" before "w".
    design = np.concatenate([np.ones((8, 1)), np.asarray(x)], axis=1)
    z = design @ np.concatenate([[0.3], np.asarray(params["w"])])
    p = 1 / (1 + np.exp(-z))
    hessian = design.T @ (design * (p * (1 - p))[:, None]) / 8
    grad = design.T @ (p - np.asarray(y)) / 8
    v = jnp.asarray(np.random.default_rng(1).normal(size=(4,)))
    _close(flatten_util.ravel_pytree(gs.hvp(loss, v, params, x, y))[0], hessian @ v)
    _close(gs.hessian_diag(loss, params, x, y), np.diag(hessian))
    _close(gs.fisher_diag(loss, params, x, y), grad**2)


def test_against_jax_hessian_and_optax_on_a_small_network() -> None:
    rng = np.random.default_rng(2)
    params = {
        "w1": jnp.asarray(rng.normal(size=(2, 3))),
        "w2": jnp.asarray(rng.normal(size=(3,))),
    }
    x, y = jnp.asarray(rng.normal(size=(5, 2))), jnp.asarray(rng.normal(size=(5,)))

    def loss(p: dict, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean((jnp.tanh(x @ p["w1"]) @ p["w2"] - y) ** 2)

    flat, unravel = flatten_util.ravel_pytree(params)
    full = jax.jit(jax.hessian(lambda f: loss(unravel(f), x, y)))(flat)
    v = jnp.asarray(rng.normal(size=flat.shape))
    ours = gs.hvp(loss, v, params, x, y)
    _close(flatten_util.ravel_pytree(ours)[0], full @ v)
    _close(gs.hessian_diag(loss, params, x, y), jnp.diag(full))
    jitted = jax.jit(gs.fisher_diag, static_argnums=0)(loss, params, x, y)
    _close(jitted, jnp.square(jax.grad(lambda f: loss(unravel(f), x, y))(flat)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # optax's, jitted (its eager vmap of HVPs compiles op by op: slow).
        theirs = {
            n: jax.jit(getattr(optax.second_order, n), static_argnums=0)
            for n in ("hvp", "hessian_diag")
        }
        _close(ours, theirs["hvp"](loss, v, params, x, y))
        _close(
            gs.hessian_diag(loss, params, x, y),
            theirs["hessian_diag"](loss, params, x, y),
        )


def test_bad_inputs_name_function_and_argument() -> None:
    loss, params, x, y = _logistic_problem()
    not_a_function: Any = "loss"
    per_example = lambda p, x, y: jax.nn.softplus(x @ p["w"] + p["b"])  # noqa: E731
    cases = [
        (
            lambda: gs.hvp(loss, jnp.ones(3), params, x, y),
            ValueError,
            "v has shape (3,)",
        ),
        (
            lambda: gs.hvp(loss, jnp.ones(4, jnp.int32), params, x, y),
            TypeError,
            "v has dtype",
        ),
        (
            lambda: gs.hvp(not_a_function, jnp.ones(4), params, x, y),
            TypeError,
            "loss must be",
        ),
        (
            lambda: gs.hessian_diag(per_example, params, x, y),
            ValueError,
            "loss must return",
        ),
        (
            lambda: gs.fisher_diag(loss, {"w": jnp.ones(3, jnp.int32)}, x, y),
            TypeError,
            "params['w']",
        ),
        (
            lambda: gs.fisher_diag(None, params, x, y),  # type: ignore[arg-type]
            TypeError,
            "negative_log_likelihood must be",
        ),
    ]
    for call, kind, words in cases:
        with pytest.raises(kind) as info:
            call()
        assert words in str(info.value), str(info.value)
    assert sorted(gs.__all__) == gs.__all__ == ["fisher_diag", "hessian_diag", "hvp"]
