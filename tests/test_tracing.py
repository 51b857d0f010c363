"""Trace-time cost: per-leaf math is traced once per leaf signature under jit.

Tracing and lowering a step over thousands of leaves costs Python time per
traced operation. gradtx traces each transformation's per-leaf function once
per (shape, dtype) and calls it for every leaf of that signature; XLA inlines
the calls, so the compiled program is unchanged.
"""

from __future__ import annotations

import collections
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import gradtx

PARAMS = {
    **{f"a{i:02d}": jnp.full((4,), 0.5 + i, jnp.float32) for i in range(20)},
    **{f"b{i:02d}": jnp.full((2, 3), -0.25 * i, jnp.float32) for i in range(20)},
    "c": jnp.linspace(-1.0, 1.0, 6, dtype=jnp.bfloat16),
}
GRADS = jax.tree.map(lambda p: (0.1 * p + 0.01).astype(p.dtype), PARAMS)


def _tx() -> gradtx.GradientTransformation:
    return gradtx.chain(
        gradtx.clip_by_global_norm(1.0), gradtx.adamw(1e-2, weight_decay=0.1)
    )


def _step(tx: gradtx.GradientTransformation) -> Any:
    def step(params: Any, state: Any, grads: Any) -> Any:
        updates, state = tx.update(grads, state, params)
        return gradtx.apply_updates(params, updates), state

    return step


def test_each_per_leaf_function_is_traced_once_per_leaf_signature() -> None:
    tx = _tx()
    jaxpr = jax.make_jaxpr(_step(tx))(PARAMS, tx.init(PARAMS), GRADS).jaxpr
    calls: dict[str, list[int]] = collections.defaultdict(list)
    for eqn in jaxpr.eqns:
        if "jaxpr" in eqn.params and "name" in eqn.params:
            calls[eqn.params["name"]].append(id(eqn.params["jaxpr"]))
    per_leaf = {name: ids for name, ids in calls.items() if len(ids) == len(PARAMS)}
    # clip's scaling, Adam's moments, weight decay, the learning rate, the add.
    assert len(per_leaf) >= 5, dict(calls)
    for name, ids in per_leaf.items():
        # Three signatures in PARAMS: float32[4], float32[2,3], bfloat16[6].
        assert len(set(ids)) == 3, name


def test_jitted_and_eager_steps_agree() -> None:
    tx = _tx()
    eager, jitted = _step(tx), jax.jit(_step(tx))
    p_e, s_e = PARAMS, tx.init(PARAMS)
    p_j, s_j = PARAMS, tx.init(PARAMS)
    for _ in range(3):
        p_e, s_e = eager(p_e, s_e, GRADS)
        p_j, s_j = jitted(p_j, s_j, GRADS)
    for a, b in zip(
        jax.tree.leaves((p_e, s_e)), jax.tree.leaves((p_j, s_j)), strict=False
    ):
        assert a.dtype == b.dtype
        tol = 1e-2 if a.dtype == jnp.bfloat16 else 1e-6
        np.testing.assert_allclose(
            np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol
        )
