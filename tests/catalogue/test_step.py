"""make_step: donated, in-place optimizer steps, and the fusion check.

The compiled executable's memory analysis says how many bytes XLA aliases
(outputs written into donated inputs) and how many it needs as temporaries.
Every gradtx optimizer must alias all of params and state, and need no
parameter-sized temporary: a chain that materializes an intermediate (a
clipped copy of the gradients, say) fails here.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.catalogue.cases import CASES, NAMES

BIG = 1 << 18  # floats: 1 MiB, far above any scalar temporary
PARAMS = {
    "kernel": jax.ShapeDtypeStruct((BIG // 256, 256), jnp.float32),
    "bias": jax.ShapeDtypeStruct((256,), jnp.float32),
}


def _nbytes(tree: Any) -> int:
    return sum(
        int(np.prod(x.shape)) * jnp.dtype(x.dtype).itemsize
        for x in jax.tree.leaves(tree)
    )


def _memory(step: Any, tx: Any) -> tuple[Any, int, int]:
    state = jax.eval_shape(tx.init, PARAMS)
    compiled = step.lower(PARAMS, state, PARAMS).compile()
    return compiled.memory_analysis(), _nbytes(PARAMS), _nbytes(state)


# Nesterov momentum after an adaptive scaling needs the scaled gradient u twice
# (new velocity u + mu v, and the step u + mu * new velocity). XLA on CPU has no
# multi-output loop fusion and will not compute the square root twice, so it
# keeps u in one parameter-sized buffer (measured; 0 without Nesterov).
# apply_if_finite chooses between the inner update and zeros with lax.cond;
# the chosen updates come out of the cond in one buffer (optax's too).
# MultiSteps runs its inner optimizer in a lax.cond: the updates and the mean
# gradient it is given are buffers at the cond's boundary (optax's: 3).
# apply_if_norm_below: the same cond. monitor(adam) measures Adam's output,
# which the norm and the add to the params both need: XLA keeps it (and a
# moment it reads) in buffers rather than computing Adam twice.
PARAM_SIZED_TEMPORARIES = {
    "rmsprop_centered_momentum": 1,
    "apply_if_finite": 1,
    "apply_if_norm_below": 1,
    "multi_steps": 2,
    "monitor": 2,
}


@pytest.mark.parametrize("name", NAMES)
def test_step_updates_in_place_with_no_parameter_sized_temporaries(name: str) -> None:
    tx = CASES[name][0]()
    mem, params_bytes, state_bytes = _memory(gradtx.make_step(tx), tx)
    # Every array is written in place; XLA may recompute a scalar (a count, a
    # flag) into a fresh buffer instead, which costs nothing.
    scalar_bytes = _nbytes(
        [x for x in jax.tree.leaves(jax.eval_shape(tx.init, PARAMS)) if not x.shape]
    )
    total = params_bytes + state_bytes
    assert total - scalar_bytes <= mem.alias_size_in_bytes <= total
    allowed = PARAM_SIZED_TEMPORARIES.get(name, 0) * params_bytes
    assert mem.temp_size_in_bytes < allowed + BIG * 4 // 8, mem.temp_size_in_bytes


def _optax_step(tx: Any) -> Any:
    def step(params: Any, state: Any, grads: Any) -> Any:
        u, state = tx.update(grads, state, params)
        return optax.apply_updates(params, u), state

    return jax.jit(step, donate_argnums=(0, 1))


def test_the_fusion_check_catches_a_materialized_clipped_gradient() -> None:
    # optax's clip_by_global_norm makes XLA keep a clipped copy of the gradients.
    if jax.default_backend() != "cpu":
        # Seen on an H200 (jax 0.11.2): XLA:GPU's multi-output fusion avoids it.
        pytest.skip("XLA:CPU's behaviour: GPU fuses optax's clipped gradient")
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3))
    mem, _, _ = _memory(_optax_step(tx), tx)
    assert mem.temp_size_in_bytes >= BIG * 4


def test_the_alias_check_catches_outputs_in_another_order() -> None:
    tx = gradtx.adam(1e-3)

    def swapped(params: Any, state: Any, grads: Any) -> Any:
        u, state = tx.update(grads, state, params)
        return state, gradtx.apply_updates(params, u)

    mem, _, _ = _memory(jax.jit(swapped, donate_argnums=(0, 1)), tx)
    assert mem.temp_size_in_bytes >= BIG * 4  # XLA copies instead of aliasing


def test_step_with_a_loss_matches_the_manual_loop_and_donates() -> None:
    def loss_fn(p: dict, x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.mean((x @ p["w"] - y) ** 2)

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(16, 3)), jnp.float32)
    y = jnp.asarray(rng.normal(size=(16, 2)), jnp.float32)
    p0 = {"w": jnp.zeros((3, 2), jnp.float32)}
    tx = gradtx.adamw(0.05)
    step = gradtx.make_step(tx, loss_fn)
    params, state = jax.tree.map(jnp.copy, p0), tx.init(p0)
    ref_p, ref_s = p0, tx.init(p0)
    for _ in range(5):
        old = params
        params, state, loss = step(params, state, x, y)
        ref_loss, g = jax.value_and_grad(loss_fn)(ref_p, x, y)
        u, ref_s = tx.update(g, ref_s, ref_p)
        ref_p = gradtx.apply_updates(ref_p, u)
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-6)
    np.testing.assert_allclose(params["w"], ref_p["w"], rtol=1e-6)
    assert old["w"].is_deleted()  # donated: the buffer now holds the output


def test_step_with_aux_and_without_donation() -> None:
    tx = gradtx.sgd(0.5)
    step = gradtx.make_step(
        tx, lambda p, t: ((p - t) ** 2, p * 2), has_aux=True, donate=False
    )
    p = jnp.float32(0.0)
    new_p, _, (loss, aux) = step(p, tx.init(p), jnp.float32(1.0))
    assert float(new_p) == 1.0 and float(loss) == 1.0 and float(aux) == 0.0
    assert not p.is_deleted()


def test_step_passes_extra_args() -> None:
    def update(updates: Any, state: Any, params: Any = None, **extra: Any) -> Any:
        return updates * extra["value"], state

    tx = gradtx.GradientTransformation(lambda p: gradtx.EmptyState(), update)
    step = gradtx.make_step(tx, donate=False)
    p = jnp.ones(2, jnp.float32)
    new_p, _ = step(p, tx.init(p), p, value=jnp.float32(2.0))
    np.testing.assert_array_equal(new_p, 3.0)
