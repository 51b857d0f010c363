"""Numerical edge cases where a naive implementation returns NaN or inf."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


@pytest.mark.parametrize("eps_in_sqrt", [True, False])
def test_centered_rmsprop_never_takes_the_root_of_a_negative_variance(
    eps_in_sqrt: bool,
) -> None:
    tx = gradtx.scale_by_stddev(eps=1e-8, eps_in_sqrt=eps_in_sqrt, bias_correction=True)
    g = jnp.asarray([3.0, -1.7, 1e-3, 123.456], jnp.float32)
    state = tx.init(g)
    for _ in range(3):  # the same gradient: variance 0, rounding may go below
        u, state = tx.update(g, state)
        assert bool(jnp.all(jnp.isfinite(u)))


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_adam_with_zero_gradients_in_half_precision_is_zero_not_nan(
    dtype: jnp.dtype,
) -> None:
    # eps = 1e-8 is 0 in float16: 0 / (sqrt(0) + 0) would be NaN.
    tx = gradtx.adam(1e-3)
    p = jnp.ones(4, dtype)
    u, _ = tx.update(jnp.zeros(4, dtype), tx.init(p), p)
    np.testing.assert_array_equal(np.asarray(u, np.float32), 0.0)


def test_adagrad_with_zero_accumulator_and_zero_eps_gives_zero() -> None:
    tx = gradtx.adagrad(0.1, eps=0.0)
    p = jnp.ones(3, jnp.float32)
    u, _ = tx.update(jnp.asarray([0.0, 2.0, 0.0], jnp.float32), tx.init(p), p)
    np.testing.assert_allclose(u, [0.0, -0.1, 0.0])


def test_global_norm_of_float16_gradients_does_not_overflow() -> None:
    g = {"a": jnp.full(4, 300.0, jnp.float16)}  # 300^2 = 9e4 > float16 max
    np.testing.assert_allclose(float(gradtx.global_norm(g)), 600.0, rtol=1e-3)
    u, _ = gradtx.clip_by_global_norm(1.0).update(g, gradtx.EmptyState())
    np.testing.assert_allclose(np.asarray(u["a"], np.float32), 0.5, rtol=1e-3)


def test_meta_gradient_through_clipping_is_finite_at_zero_gradient() -> None:
    tx = gradtx.clip_by_global_norm(1.0)

    def f(scale: jax.Array) -> jax.Array:
        u, _ = tx.update({"a": scale * jnp.zeros(3)}, gradtx.EmptyState())
        return jnp.sum(u["a"])

    # d/ds of clip(s * 0) is 0: the clip factor is 1 and s * 0 does not move.
    assert float(jax.grad(f)(jnp.float32(1.0))) == 0.0
