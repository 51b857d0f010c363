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
