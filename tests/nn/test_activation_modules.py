"""gradtx.nn.PReLU and RReLU: per-channel slopes, learning, modes and rngs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import gradtx.activations
import gradtx.nn

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 3)).astype(np.float32)
X[0] = 0.0  # the kink


def test_prelu_starts_at_a_quarter_per_channel() -> None:
    layer = gradtx.nn.PReLU(3)
    slopes = layer.negative_slope[...]
    assert slopes.shape == (3,) and slopes.dtype == jnp.float32
    np.testing.assert_array_equal(slopes, np.full(3, 0.25, np.float32))
    assert gradtx.nn.PReLU(2, param_dtype=jnp.bfloat16).negative_slope.dtype == (
        jnp.bfloat16
    )


def test_prelu_per_channel_slopes_match_numpy() -> None:
    layer = gradtx.nn.PReLU(3, init=0.1)
    a = np.array([0.1, -0.3, 0.7], np.float32)
    layer.negative_slope[...] = jnp.asarray(a)
    y = layer(jnp.asarray(X))
    assert y.dtype == jnp.float32
    np.testing.assert_allclose(y, np.where(X >= 0, X, a * X), rtol=1e-6)


def test_prelu_slopes_are_learnable() -> None:
    layer = gradtx.nn.PReLU(3)
    w = RNG.normal(size=X.shape).astype(np.float32)

    def loss(model: gradtx.nn.PReLU) -> jax.Array:
        return jnp.sum(model(jnp.asarray(X)) * w)

    grads = nnx.grad(loss)(layer)
    # d/da_c sum(prelu(x) w) = sum over the rows with x < 0 of x w
    expected = np.sum(np.where(X < 0, X * w, 0.0), axis=0)
    np.testing.assert_allclose(grads.negative_slope[...], expected, rtol=1e-5)


def test_prelu_channel_mismatch_names_both_numbers() -> None:
    with pytest.raises(ValueError, match=r"PReLU has 4 slopes.*3 channels"):
        gradtx.nn.PReLU(4)(jnp.asarray(X))
    with pytest.raises(ValueError, match="num_parameters"):
        gradtx.nn.PReLU(0)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3, 4)])
def test_shared_prelu_matches_flax_prelu(shape: tuple[int, ...]) -> None:
    x = jnp.asarray(RNG.normal(size=shape), jnp.float32)
    ours = gradtx.nn.PReLU()(x)
    theirs = nnx.PReLU(negative_slope_init=0.25)(x)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


class Block(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.linear = nnx.Linear(3, 3, rngs=rngs)
        self.act = gradtx.nn.RReLU(0.1, 0.3, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.act(self.linear(x))


def mean_slope_reference(h: np.ndarray) -> np.ndarray:
    return np.where(h >= 0, h, 0.2 * h)


def test_rrelu_follows_train_eval_and_view() -> None:
    model = Block(nnx.Rngs(0))
    x = -jnp.abs(jnp.asarray(X)) - 0.1
    h = np.asarray(model.linear(x))
    train = np.asarray(model(x))
    neg = h < 0
    slopes = train[neg] / h[neg]
    assert np.all((slopes >= 0.1 - 1e-6) & (slopes <= 0.3 + 1e-6))
    assert np.ptp(slopes) > 0  # a slope per element
    assert bool(jnp.any(model(x) != train))  # the stream advances
    model.eval()
    np.testing.assert_allclose(model(x), mean_slope_reference(h), rtol=1e-6)
    model.train()
    assert model.act.deterministic is False
    frozen = nnx.view(model, deterministic=True)
    np.testing.assert_allclose(frozen(x), mean_slope_reference(h), rtol=1e-6)
    assert model.act.deterministic is False  # the view did not change it


def test_rrelu_call_time_overrides_and_functional_parity() -> None:
    layer = gradtx.nn.RReLU(deterministic=True)
    x = jnp.asarray(X)
    mean = (1 / 8 + 1 / 3) / 2
    np.testing.assert_allclose(layer(x), np.where(X >= 0, X, mean * X), rtol=1e-6)
    key = jax.random.key(3)
    a = layer(x, deterministic=False, rngs=key)
    np.testing.assert_array_equal(a, gradtx.activations.rrelu(x, key))


def test_rrelu_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match=r"training mode but has no rngs"):
        gradtx.nn.RReLU()(jnp.asarray(X))
    with pytest.raises(ValueError, match="has no mode"):
        gradtx.nn.RReLU(deterministic=None, rngs=nnx.Rngs(0))(jnp.asarray(X))
    with pytest.raises(ValueError, match=r"lower=0.5 > upper=0.2"):
        gradtx.nn.RReLU(0.5, 0.2)
    with pytest.raises(TypeError, match="rngs is int"):
        gradtx.nn.RReLU(rngs=3)  # type: ignore[arg-type]


def test_rrelu_inside_nnx_jit_draws_new_slopes_each_step() -> None:
    model = Block(nnx.Rngs(0))

    @nnx.jit
    def forward(model: Block, x: jax.Array) -> jax.Array:
        return model(x)

    x = -jnp.abs(jnp.asarray(X)) - 0.1
    assert bool(jnp.any(forward(model, x) != forward(model, x)))
