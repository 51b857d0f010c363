"""``trace``'s range of decay: [0, 1], 1 being the sum of all updates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx


@pytest.mark.parametrize("nesterov", [False, True])
def test_trace_with_decay_one_sums_every_update_as_optax_s(nesterov: bool) -> None:
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    steps = [jax.tree.map(lambda x, k=k: x + k, params) for k in (1.0, -2.0, 0.5)]
    ours, theirs = gradtx.trace(1.0, nesterov), optax.trace(1.0, nesterov)
    s_ours, s_theirs = ours.init(params), theirs.init(params)
    total = 0.0
    for u in steps:
        u_ours, s_ours = ours.update(u, s_ours)
        u_theirs, s_theirs = theirs.update(u, s_theirs)
        total += float(u["b"])
        np.testing.assert_allclose(u_ours["w"], u_theirs["w"])
        np.testing.assert_allclose(s_ours.trace["b"], total)  # v_t = sum of u
    assert str(jax.tree.structure(s_ours)) == str(
        jax.tree.structure(gradtx.trace(0.9).init(params))
    )


@pytest.mark.parametrize("decay", [-0.1, 1.0 + 1e-6, float("inf")])
def test_trace_refuses_decays_outside_zero_one(decay: float) -> None:
    with pytest.raises(ValueError, match=r"^trace: decay must be in \[0, 1\]"):
        gradtx.trace(decay)
