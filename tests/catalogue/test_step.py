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
# apply_if_norm_below: the same cond. monitor_norms(adam) measures Adam's output,
# which the norm and the add to the params both need: XLA keeps it (and a
# moment it reads) in buffers rather than computing Adam twice.
PARAM_SIZED_TEMPORARIES = {
    # L-BFGS (optax's: the same 5): the new pair s = w - w_prev, y = g - g_prev
    # is written into the memory and also read by <s, y> and <y, y> (2
    # buffers); the two-loop recursion's working vector q (the loop carry);
    # and the state's previous params and gradient are replaced by the new
    # ones while the old ones are still read, which XLA resolves by copying
    # params, state.params and state.updates (measured; 4 with memory_size=1).
    "lbfgs": 5,
    # Muon: Newton-Schulz, X <- aX + X(bA + cA^2), is a matmul, which cannot
    # write over its input: the loop keeps the iterate and the next one, and
    # the Gram matrix A = X^H X, 256 x 256 here (a quarter of the kernel).
    # (optax's muon, with its transposes and unrolled steps: 7.25.)
    "muon": 2.25,
    # Adan's state keeps the previous gradient, which the step reads (for the
    # difference g_t - g_{t-1}) while it writes the new gradient over it; ADOPT
    # normalizes by the previous second moment while it writes the new one
    # over it. XLA:CPU, with no multi-output loop fusion, computes the readers
    # and the writer in separate kernels and copies the old value into one
    # parameter-sized buffer first (measured; optax's adan and adopt too).
    "adan": 1,
    "scale_by_adan_optax_form": 1,
    "adopt": 1,
    "rmsprop_centered_momentum": 1,
    "apply_if_finite": 1,
    "apply_if_norm_below": 1,
    "multi_steps": 2,
    "monitor_norms": 2,
    # optax's wrappers: conditionally_transform's lax.cond (as apply_if_finite);
    # snapshot and monitor measure Adam's output, as monitor_norms does;
    # zero_nans: XLA keeps the cleaned gradient of the largest leaf, which
    # both moments read, in a buffer (a quarter of the params here).
    "conditionally_transform": 1,
    "snapshot": 2,
    "monitor": 2,
    "zero_nans_adam": 0.25,
    # Layer-wise trust ratios of a computed direction need it twice, for its
    # norm and for the step: LAMB's Adam direction (optax's: 2), the decayed
    # gradient g + λw of LARS in optax's form (optax's: 3; the paper's form
    # takes the norms of g and w, inputs, and keeps nothing). Lion's step reads
    # the old momentum that the same step overwrites in place: one copy
    # (optax's: 1). noisy_sgd: XLA:CPU keeps threefry's random bits and the
    # normal draw in buffers (optax's: 4; 0 with an "rbg" key).
    "lamb_mask": 1,
    "lars_decayed_grad_norm": 1,
    "lion_mask": 1,
    "noisy_sgd": 4,
    # Optimistic steps read the previous gradient (or Adam ratio) that the
    # same step overwrites with the current one: without multi-output loop
    # fusion XLA:CPU copies the old one first (1; optax's: 1). Optimistic
    # Adam also needs its ratio r twice, for the step and the new state, and
    # keeps it in a buffer (2; optax's: 2). Schedule-free AdamW needs the
    # scaled gradient u twice, z' = z + u and the step c (z' - y) + (1 - c)(1 -
    # b1) u, and keeps it rather than compute the root twice (optax's: 1;
    # schedule-free SGD's u = -lr g is recomputed: 0, optax's: 1).
    "optimistic_gradient_descent": 1,
    "scale_by_optimistic_gradient": 1,
    "optimistic_adam": 2,
    "optimistic_adam_v2": 2,
    "schedule_free_adamw": 1,
    "schedule_free_adamw_optax_form": 1,
    # sam runs the adversarial or the outer optimizer in a lax.cond: the
    # chosen updates are a buffer at the cond's boundary (optax's, which runs
    # both: 4).
    "sam": 1,
    # AdaDelta's step Δ = sqrt(E[Δ²] + ε) / sqrt(E[g²] + ε) g is needed twice,
    # for the step and for E[Δ²]: XLA:CPU keeps the ratio of the roots in a
    # buffer rather than divide twice (optax's: 2; with a weight decay, the
    # decayed gradient, read by three loops, makes it 2). Rprop's new step
    # sizes and last steps are each computed from both old arrays: without
    # multi-output fusion XLA:CPU copies the old ones first (2). SM3's
    # accumulator ν feeds the per-axis maxima and the step (optax's: 1).
    # Adafactor's clipping takes the RMS of the factored update before
    # scaling it: XLA:CPU keeps the update (g times broadcast row and column
    # factors) in a buffer (optax's: 1; 0 without clipping).
    "adadelta": 1,
    "rprop": 2,
    "sm3": 1,
    "adafactor": 1,
    "adafactor_pytorch": 1,
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


@pytest.mark.parametrize("name", NAMES)
def test_an_eager_init_state_can_be_donated_with_the_params(name: str) -> None:
    """XLA refuses to donate one buffer twice (``make_step`` donates params
    and state): ``init`` outside ``jit`` must give every state array a buffer
    of its own, shared neither with another state array nor with the params."""
    params = {"kernel": jnp.ones((3, 2)), "bias": jnp.zeros(2), "scale": jnp.ones(())}
    try:
        state = CASES[name][0]().init(params)
    except (TypeError, ValueError):  # a case whose mask needs other params
        pytest.skip("init needs other params")
    arrays = [x for x in jax.tree.leaves((params, state)) if isinstance(x, jax.Array)]
    buffers = [x.unsafe_buffer_pointer() for x in arrays]
    assert len(set(buffers)) == len(buffers)


def test_make_step_runs_on_an_eager_init_state() -> None:
    """The end-to-end failure the check above prevents: prodigy kept the
    params' buffers as its x0, and XLA refused the donated step."""
    tx = gradtx.prodigy()
    params = {"w": jnp.ones((3, 2))}
    step = gradtx.make_step(tx)
    new, _ = step(params, tx.init(params), {"w": jnp.full((3, 2), 0.5)})
    assert float(new["w"][0, 0]) < 1.0
