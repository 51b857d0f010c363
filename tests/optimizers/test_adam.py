"""adam: its step counters."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import gradtx

F32 = jnp.float32


@pytest.mark.parametrize("start", [2**31 - 3, 2**31 - 1])
def test_counters_saturate_instead_of_wrapping(start: int) -> None:
    tx = gradtx.adam(gradtx.linear_schedule(0.1, 0.0, 10))
    p = {"w": jnp.ones(2, F32)}
    state = gradtx.tree_set(tx.init(p), count=start)
    update = jax.jit(tx.update)
    for _ in range(5):
        u, state = update({"w": jnp.ones(2, F32)}, state, p)
    counts = [
        leaf
        for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]
        if "count" in jax.tree_util.keystr(path)
    ]
    assert len(counts) == 2
    for c in counts:
        assert c.dtype == jnp.int32 and int(c) == 2**31 - 1
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(u))
