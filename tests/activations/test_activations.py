"""gradtx.activations: values and gradients against NumPy, written from the formulas.

The sample points include every kink (0, ±lambd, the threshold), where the
derivative is the documented one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from gradtx.activations import (
    geglu,
    hardshrink,
    prelu,
    rrelu,
    snake,
    softshrink,
    squared_relu,
    swiglu,
    tanhshrink,
    threshold,
)

X = np.array([-2.0, -0.5, -0.3, 0.0, 0.25, 0.3, 0.5, 1.0, 1.5])  # float64
KEY = jax.random.key(0)


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def np_step(cond: np.ndarray) -> np.ndarray:
    return np.where(cond, 1.0, 0.0)


# name: (function of x, NumPy value, NumPy derivative)
ELEMENTWISE: dict[str, tuple[Callable[[Any], Any], Callable, Callable]] = {
    "hardshrink": (
        lambda x: hardshrink(x, 0.5),
        lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
        lambda x: np_step(np.abs(x) > 0.5),
    ),
    "hardshrink_default": (
        hardshrink,
        lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
        lambda x: np_step(np.abs(x) > 0.5),
    ),
    "hardshrink_0.3": (
        lambda x: hardshrink(x, 0.3),
        lambda x: np.where(np.abs(x) > 0.3, x, 0.0),
        lambda x: np_step(np.abs(x) > 0.3),
    ),
    "softshrink": (
        lambda x: softshrink(x, 0.5),
        lambda x: np.sign(x) * np.clip(np.abs(x) - 0.5, 0.0, None),
        lambda x: np_step(np.abs(x) > 0.5),
    ),
    "softshrink_0.3": (
        lambda x: softshrink(x, 0.3),
        lambda x: np.sign(x) * np.clip(np.abs(x) - 0.3, 0.0, None),
        lambda x: np_step(np.abs(x) > 0.3),
    ),
    "tanhshrink": (tanhshrink, lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2),
    "threshold": (
        lambda x: threshold(x, 0.25, -1.0),
        lambda x: np.where(x > 0.25, x, -1.0),
        lambda x: np_step(x > 0.25),
    ),
    "prelu": (
        lambda x: prelu(x, 0.2),
        lambda x: np.where(x >= 0, x, 0.2 * x),
        lambda x: np.where(x >= 0, 1.0, 0.2),
    ),
    "rrelu_eval": (
        lambda x: rrelu(x, lower=0.1, upper=0.4, deterministic=True),
        lambda x: np.where(x >= 0, x, 0.25 * x),
        lambda x: np.where(x >= 0, 1.0, 0.25),
    ),
    "snake": (
        lambda x: snake(x, 1.7),
        lambda x: x + np.sin(1.7 * x) ** 2 / 1.7,
        lambda x: 1.0 + np.sin(3.4 * x),
    ),
    "squared_relu": (
        squared_relu,
        lambda x: np.maximum(x, 0.0) ** 2,
        lambda x: 2.0 * np.maximum(x, 0.0),
    ),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_values_and_derivatives_match_numpy(name: str) -> None:
    f, value, derivative = ELEMENTWISE[name]
    x = jnp.asarray(X)
    np.testing.assert_allclose(f(x), value(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        jax.vmap(jax.grad(f))(x), derivative(X), rtol=1e-12, atol=1e-15
    )
    # jit and vmap give the same as eager
    np.testing.assert_allclose(jax.jit(f)(x), value(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(jax.vmap(f)(x), value(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("f", "point", "expected"),
    [
        (hardshrink, 0.5, 0.0),
        (hardshrink, -0.5, 0.0),
        (softshrink, 0.5, 0.0),
        (softshrink, -0.5, 0.0),
        (lambda x: threshold(x, 1.0, 0.0), 1.0, 0.0),
        (lambda x: prelu(x, 0.2), 0.0, 1.0),
        (lambda x: rrelu(x, deterministic=True), 0.0, 1.0),
        (lambda x: rrelu(x, KEY), 0.0, 1.0),
        (squared_relu, 0.0, 0.0),
    ],
)
def test_documented_derivative_at_the_kink(
    f: Callable[[Any], Any], point: float, expected: float
) -> None:
    for dtype in (jnp.float32, jnp.float64):
        g = jax.grad(f)(jnp.asarray(point, dtype))
        assert g.dtype == dtype
        assert float(g) == expected


def test_shrink_gradients_with_respect_to_lambd() -> None:
    x = jnp.asarray(X)
    g_soft = jax.grad(lambda lam: jnp.sum(softshrink(x, lam)))(0.3)
    np.testing.assert_allclose(
        g_soft, np.sum(np.where(np.abs(X) > 0.3, -np.sign(X), 0))
    )
    g_thr = jax.grad(lambda v: jnp.sum(threshold(x, 0.25, v)))(2.0)
    np.testing.assert_allclose(g_thr, np.sum(X <= 0.25))


def test_prelu_per_channel_values_and_gradients() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    x[0] = 0.0  # the kink
    a = np.array([0.1, 0.25, -0.5])
    w = rng.normal(size=(5, 3))
    np.testing.assert_allclose(prelu(x, a), np.where(x >= 0, x, a * x), rtol=1e-12)

    def loss(x: jax.Array, a: jax.Array) -> jax.Array:
        return jnp.sum(prelu(x, a) * w)

    gx, ga = jax.grad(loss, argnums=(0, 1))(jnp.asarray(x), jnp.asarray(a))
    np.testing.assert_allclose(gx, np.where(x >= 0, w, a * w), rtol=1e-12)
    np.testing.assert_allclose(
        ga, np.sum(np.where(x < 0, x * w, 0), axis=0), rtol=1e-12
    )
    # a 1-element slope is a scalar, also for a scalar input
    np.testing.assert_allclose(prelu(-2.0, np.array([0.5])), -1.0)


def test_snake_per_channel_alpha_values_and_gradients() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    alpha = np.array([0.5, 1.0, 3.0])
    ref = x + np.sin(alpha * x) ** 2 / alpha
    np.testing.assert_allclose(snake(x, alpha), ref, rtol=1e-12)
    ga = jax.grad(lambda a: jnp.sum(snake(jnp.asarray(x), a)))(jnp.asarray(alpha))
    d_alpha = x * np.sin(2 * alpha * x) / alpha - np.sin(alpha * x) ** 2 / alpha**2
    np.testing.assert_allclose(ga, d_alpha.sum(axis=0), rtol=1e-10)


def np_gelu(b: np.ndarray, approximate: bool) -> np.ndarray:
    if approximate:
        return 0.5 * b * (1 + np.tanh(np.sqrt(2 / np.pi) * (b + 0.044715 * b**3)))
    return 0.5 * b * (1 + special.erf(b / np.sqrt(2)))


@pytest.mark.parametrize(("shape", "axis"), [((3, 8), -1), ((4, 5), 0), ((2, 6, 3), 1)])
def test_swiglu_and_geglu_match_numpy(shape: tuple[int, ...], axis: int) -> None:
    x = np.random.default_rng(2).normal(size=shape)
    a, b = np.split(x, 2, axis=axis)
    silu = b * np_sigmoid(b)
    np.testing.assert_allclose(swiglu(x, axis=axis), a * silu, rtol=1e-12)
    for approximate in (True, False):
        np.testing.assert_allclose(
            geglu(x, axis=axis, approximate=approximate),
            a * np_gelu(b, approximate),
            rtol=1e-12,
        )
    # d/da = silu(b); d/db = a silu'(b), silu' = s (1 + b (1 - s))
    s = np_sigmoid(b)
    grad = jax.grad(lambda x: jnp.sum(swiglu(x, axis=axis)))(jnp.asarray(x))
    ref = np.concatenate([silu, a * s * (1 + b * (1 - s))], axis=axis)
    np.testing.assert_allclose(grad, ref, rtol=1e-12)


def test_swiglu_is_the_papers_ffn_with_values_first_and_gates_second() -> None:
    rng = np.random.default_rng(3)
    x, W, V, W2 = (rng.normal(size=s) for s in [(4, 6), (6, 5), (6, 5), (5, 6)])
    ours = swiglu(jnp.asarray(x) @ jnp.concatenate([V, W], axis=-1)) @ W2
    xw = x @ W
    paper = (xw * np_sigmoid(xw) * (x @ V)) @ W2  # (Swish_1(xW) * xV) W2
    np.testing.assert_allclose(ours, paper, rtol=1e-10)


def test_gated_odd_size_and_bad_axis_errors() -> None:
    with pytest.raises(ValueError, match=r"axis -1, whose size 5 is odd"):
        swiglu(jnp.ones((2, 5)))
    with pytest.raises(ValueError, match=r"axis 0, whose size 3 is odd"):
        geglu(jnp.ones((3, 4)), axis=0)
    with pytest.raises(ValueError, match=r"axis 2.*2 axes"):
        swiglu(jnp.ones((2, 4)), axis=2)


def test_rrelu_slopes_are_uniform_per_element() -> None:
    lower, upper = 0.1, 0.4
    x = -jnp.ones((200, 50), jnp.float32)
    slopes = -np.asarray(rrelu(x, KEY, lower=lower, upper=upper), np.float64).ravel()
    assert slopes.min() >= lower and slopes.max() <= upper
    assert stats.kstest(slopes, "uniform", args=(lower, upper - lower)).pvalue > 0.01
    # positive inputs pass unchanged
    pos = jnp.linspace(0.0, 2.0, 7, dtype=jnp.float32)
    np.testing.assert_array_equal(rrelu(pos, KEY), pos)


def test_rrelu_same_key_same_output_and_gradient_is_the_drawn_slope() -> None:
    x = jnp.asarray(np.random.default_rng(4).normal(size=(6, 4)))
    a, b = rrelu(x, KEY), jax.jit(rrelu)(x, KEY)
    np.testing.assert_array_equal(a, b)
    assert bool(jnp.any(rrelu(x, jax.random.key(1)) != a))
    slope = np.where(np.asarray(x) < 0, np.asarray(a) / np.asarray(x), 1.0)
    g = jax.grad(lambda x: jnp.sum(rrelu(x, KEY)))(x)
    np.testing.assert_allclose(g, slope, rtol=1e-12)


def test_rrelu_evaluation_uses_the_mean_slope() -> None:
    x = jnp.asarray(X)
    y = rrelu(x, lower=1 / 8, upper=1 / 3, deterministic=True)
    np.testing.assert_allclose(y, np.where(X >= 0, X, (1 / 8 + 1 / 3) / 2 * X))
    with pytest.raises(ValueError, match=r"needs a PRNG key.*deterministic=True"):
        rrelu(x)


NEW: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "geglu": (geglu, {}),
    "hardshrink": (hardshrink, {"lambd": jnp.float64(0.5)}),
    "prelu": (prelu, {"negative_slope": jnp.asarray([0.1, 0.2, 0.3, 0.4])}),
    "rrelu": (rrelu, {"key": KEY, "lower": jnp.float64(0.1)}),
    "snake": (snake, {"alpha": jnp.asarray([0.5, 1.0, 2.0, 3.0])}),
    "softshrink": (softshrink, {"lambd": jnp.float64(0.5)}),
    "squared_relu": (squared_relu, {}),
    "swiglu": (swiglu, {}),
    "tanhshrink": (tanhshrink, {}),
    "threshold": (threshold, {"threshold": jnp.float64(0.1), "value": 2.0}),
}


@pytest.mark.parametrize("name", sorted(NEW))
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_new_functions_keep_the_input_dtype(name: str, dtype: Any) -> None:
    f, kwargs = NEW[name]  # float64 hyperparameters must not promote
    x = jnp.linspace(-2.0, 2.0, 12, dtype=dtype).reshape(3, 4)
    y = f(x, **kwargs)
    assert y.dtype == dtype
    assert y.shape == ((3, 2) if name in ("swiglu", "geglu") else (3, 4))
    g = jax.grad(lambda x: jnp.sum(f(x, **kwargs).astype(jnp.float32)))(x)
    assert g.dtype == dtype and bool(jnp.all(jnp.isfinite(g)))
    jitted = jax.jit(lambda x: f(x, **kwargs))(x)  # XLA may fuse differently
    np.testing.assert_allclose(jitted.astype(float), y.astype(float), rtol=1e-2)


def test_integer_input_becomes_float() -> None:
    assert jnp.issubdtype(hardshrink(jnp.arange(3)).dtype, jnp.floating)


def test_traced_hyperparameters_are_accepted() -> None:
    x = jnp.asarray(X)
    y = jax.jit(lambda x, lam: softshrink(x, lam))(x, 0.5)
    np.testing.assert_allclose(y, np.sign(X) * np.clip(np.abs(X) - 0.5, 0.0, None))
    y = jax.jit(lambda x, lo, hi: rrelu(x, lower=lo, upper=hi, deterministic=True))(
        x, 0.1, 0.3
    )
    np.testing.assert_allclose(y, np.where(X >= 0, X, 0.2 * X))


BAD_CALLS: list[tuple[Callable[[], Any], type, str]] = [
    (lambda: hardshrink(X, -0.1), ValueError, r"lambd must be in \[0, inf\), got -0.1"),
    (lambda: softshrink(X, float("nan")), ValueError, r"lambd"),
    (lambda: rrelu(X, KEY, lower=-0.1), ValueError, r"lower must be in \[0, inf\)"),
    (lambda: rrelu(X, KEY, lower=0.5, upper=0.2), ValueError, r"lower=0.5 > upper"),
    (lambda: rrelu(X, deterministic="yes"), TypeError, r"deterministic"),
    (lambda: snake(X, 0.0), ValueError, r"alpha must be in \(0, inf\), got 0.0"),
    (lambda: snake(X, np.array([1.0, -1.0])), ValueError, r"alpha.*-1.0"),
    (lambda: snake(np.ones((2, 3)), np.ones(2)), ValueError, r"alpha.*3 channels"),
    (lambda: prelu(np.ones((2, 3)), np.ones(4)), ValueError, r"slope.*shape \(4,\)"),
    (lambda: threshold(X, "1", 0.0), TypeError, r"threshold"),
]


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_bad_hyperparameters_raise(
    call: Callable[[], Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        call()
