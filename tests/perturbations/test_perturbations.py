"""make_perturbed_fun vs optax (same key, same draws) and Gumbel closed forms."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx.perturbations as gpt

EULER_GAMMA = 0.5772156649015329


def _close(a: object, b: object, tol: float) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def _argmax_tree(tree: dict) -> dict:
    return jax.tree.map(
        lambda v: jax.nn.one_hot(jnp.argmax(v), v.shape[0], dtype=v.dtype), tree
    )


def test_matches_optax_with_the_same_key() -> None:
    x = {
        "a": jnp.array([0.3, -0.2, 0.1], jnp.float32),
        "b": jnp.array([1.0, 0.9], jnp.float32),
    }
    key = jax.random.key(3)

    def values_and_grads(module: Any) -> Any:
        fns = [
            module.make_perturbed_fun(_argmax_tree, 200, 0.5, module.Gumbel(), True),
            module.make_perturbed_fun(_argmax_tree, 200, 0.5, module.Normal(), False),
        ]

        def loss(f: Any, k: jax.Array, v: dict) -> jax.Array:
            out = f(k, v)
            return jnp.sum(out["a"] ** 2) + jnp.sum(jnp.cos(out["b"]))

        # One compilation per module: each one costs a second of CPU.
        return jax.jit(
            lambda k, v: [jax.value_and_grad(loss, argnums=2)(f, k, v) for f in fns]
        )(key, x)

    _close(values_and_grads(gpt), values_and_grads(optax.perturbations), 1e-5)


def test_gumbel_max_is_logsumexp_and_its_gradient_softmax() -> None:
    """E[max(x + s G)] = s logsumexp(x / s) + s gamma and its gradient is
    softmax(x / s) (Berthet et al., 2020, §2 and Gumbel-max). Tolerances: 5
    standard errors of the Monte Carlo mean. The max of Gumbels is Gumbel with
    scale s, of standard deviation s pi / sqrt(6); the gradient's per-sample
    estimates (f(y) - f(x)) (1 - exp(-z)) / s have their standard deviation
    estimated from independent draws."""
    n, s = 20_000, 0.5
    x = jnp.array([0.2, -0.4, 0.5, 0.0])
    soft_max = gpt.make_perturbed_fun(jnp.max, n, s)
    value, grad = jax.jit(jax.value_and_grad(soft_max, argnums=1))(jax.random.key(0), x)
    want = s * jax.scipy.special.logsumexp(x / s) + s * EULER_GAMMA
    assert abs(float(value - want)) < 5 * s * np.pi / np.sqrt(6) / np.sqrt(n)
    z = np.random.default_rng(1).gumbel(size=(n, 4))
    xs = np.asarray(x, np.float64)
    per_sample = ((xs + s * z).max(1) - xs.max())[:, None] * (1 - np.exp(-z)) / s
    bound = 5 * per_sample.std(0) / np.sqrt(n)
    assert np.all(np.abs(np.asarray(grad) - np.asarray(jax.nn.softmax(x / s))) < bound)
    np.testing.assert_allclose(float(jnp.sum(grad)), 1.0, atol=5 * bound.max())


def test_derivative_of_fun_is_never_used_and_hessian_of_quadratic() -> None:
    @jax.custom_jvp
    def f(x: jax.Array) -> jax.Array:
        return jnp.sum(x**2) / 2

    @f.defjvp
    def _never(primals: tuple, tangents: tuple) -> tuple:
        raise AssertionError("the derivative of fun was used")

    smooth = gpt.make_perturbed_fun(f, 20_000, 1.0, gpt.Normal())
    # f_s(x) = |x|^2 / 2 + s^2 d / 2, whose Hessian is the identity. For
    # N(0, 1) noise the Hessian's per-sample estimates have entries of
    # standard deviation below 3 here, so 5 standard errors is 0.11.
    hess = jax.jit(jax.hessian(smooth, argnums=1))(jax.random.key(0), jnp.zeros(2))
    _close(hess, np.eye(2), 0.11)


def test_bad_inputs_name_function_and_argument() -> None:
    key, x = jax.random.key(0), jnp.ones(3)
    bad: Any = "f"
    cases = [
        (lambda: gpt.make_perturbed_fun(bad), TypeError, "fun must be"),
        (lambda: gpt.make_perturbed_fun(jnp.sum, 0), ValueError, "num_samples"),
        (lambda: gpt.make_perturbed_fun(jnp.sum, 10, 0.0), ValueError, "sigma must be"),
        (
            lambda: gpt.make_perturbed_fun(jnp.sum, 10, 0.1, "gumbel"),
            TypeError,
            "noise must",
        ),
        (
            lambda: gpt.make_perturbed_fun(jnp.sum, use_baseline=bad),
            TypeError,
            "use_baseline",
        ),
        (lambda: gpt.make_perturbed_fun(jnp.sum)(bad, x), TypeError, "key must be"),
        (
            lambda: gpt.make_perturbed_fun(jnp.sum)(key, {"i": jnp.ones(2, jnp.int32)}),
            TypeError,
            "x['i'] has dtype int32",
        ),
    ]
    for call, kind, words in cases:
        with pytest.raises(kind) as info:
            call()
        assert str(info.value).startswith("make_perturbed_fun: "), str(info.value)
        assert words in str(info.value), str(info.value)
    assert sorted(gpt.__all__) == gpt.__all__
    assert set(gpt.__all__) == {
        n for n in dir(optax.perturbations) if not n.startswith("_")
    }
