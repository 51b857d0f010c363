"""apply_updates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import gradtx

F32 = jnp.float32


def test_apply_updates_keeps_param_dtypes() -> None:
    params = {"h": jnp.ones(3, jnp.bfloat16), "f": jnp.ones(3, F32), "d": jnp.ones(3)}
    updates = jax.tree.map(lambda x: jnp.full(x.shape, 0.25, F32), params)
    new = gradtx.apply_updates(params, updates)
    for k in params:
        assert new[k].dtype == params[k].dtype
        np.testing.assert_allclose(np.asarray(new[k], np.float64), 1.25)
