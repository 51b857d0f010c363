"""scale_by_adam: edge cases where a naive implementation returns NaN."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import gradtx


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_adam_with_zero_gradients_in_half_precision_is_zero_not_nan(
    dtype: jnp.dtype,
) -> None:
    # eps = 1e-8 is 0 in float16: 0 / (sqrt(0) + 0) would be NaN.
    tx = gradtx.adam(1e-3)
    p = jnp.ones(4, dtype)
    u, _ = tx.update(jnp.zeros(4, dtype), tx.init(p), p)
    np.testing.assert_array_equal(np.asarray(u, np.float32), 0.0)


@pytest.mark.parametrize("mu_dtype", [jnp.bfloat16, jnp.float32])
def test_a_real_mu_dtype_keeps_complex_moments_complex(mu_dtype: object) -> None:
    # optax stores the moment of complex params in a real mu_dtype and drops
    # its imaginary part; gradtx promotes it (README: where frameworks disagree).
    params = jnp.zeros(2, jnp.complex64)
    grads = jnp.asarray([1.0 + 2.0j, -0.5j], jnp.complex64)
    tx = gradtx.adam(0.1, mu_dtype=mu_dtype)
    state = tx.init(params)
    assert state[0].mu.dtype == jnp.complex64
    updates, state = tx.update(grads, state, params)
    exact, _ = gradtx.adam(0.1).update(grads, gradtx.adam(0.1).init(params), params)
    np.testing.assert_allclose(updates, exact, rtol=1e-2)
    assert np.all(np.imag(np.asarray(state[0].mu)) != 0)
