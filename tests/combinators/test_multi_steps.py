"""MultiSteps / accumulate: k mini-steps equal one step on the mean gradient."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

K, B, STEPS = 4, 8, 5
RNG = np.random.default_rng(0)
X = jnp.asarray(RNG.normal(size=(STEPS * K * B, 3)), jnp.float32)
Y = jnp.asarray(RNG.normal(size=(STEPS * K * B,)), jnp.float32)
PARAMS = {"w": jnp.asarray([0.5, -1.0, 2.0]), "b": jnp.asarray(0.1)}


def _loss(params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)


_grad = jax.jit(jax.grad(_loss))


def _train(tx: Any, batch: int, params: Any = PARAMS) -> tuple[Any, Any]:
    state = tx.init(params)
    update = jax.jit(tx.update)
    for i in range(0, X.shape[0], batch):
        g = _grad(params, X[i : i + batch], Y[i : i + batch])
        g = jax.tree.map(lambda gi, p: gi.astype(p.dtype), g, params)
        u, state = update(g, state, params)
        params = gradtx.apply_updates(params, u)
    return params, state


def test_accumulation_equals_one_big_batch_step() -> None:
    big, _ = _train(gradtx.adam(0.1), K * B)
    small, state = _train(gradtx.accumulate(gradtx.adam(0.1), K), B)
    for k in PARAMS:
        np.testing.assert_allclose(small[k], big[k], rtol=1e-6, atol=1e-6)
    assert int(gradtx.tree_get(state, "count")) == STEPS  # inner ran once per K


def test_mini_steps_emit_zero_updates_and_has_updated_says_when() -> None:
    ms = gradtx.MultiSteps(gradtx.sgd(1.0), every_k_schedule=3)
    state = ms.init(PARAMS)
    flags = []
    for i in range(6):
        g = jax.tree.map(lambda p, i=i: jnp.full_like(p, float(i)), PARAMS)
        u, state = ms.update(g, state, PARAMS)
        flags.append(bool(ms.has_updated(state)))
        if i % 3 != 2:
            assert all(not np.any(np.asarray(x)) for x in jax.tree.leaves(u))
        else:  # -lr * mean of the last three gradients (i-2, i-1, i)
            np.testing.assert_allclose(u["b"], -(i - 1.0))
    assert flags == [False, False, True, False, False, True]


def test_state_holds_one_params_sized_accumulator() -> None:
    inner = gradtx.adam(0.1)
    params = {"w": jnp.zeros((64, 32)), "b": jnp.zeros(32)}
    nbytes = lambda t: sum(x.nbytes for x in jax.tree.leaves(t))  # noqa: E731
    extra = nbytes(gradtx.accumulate(inner, 4).init(params)) - nbytes(
        inner.init(params)
    )
    assert extra == nbytes(params) + 2 * 4  # the accumulator, two int32 counters


def test_bfloat16_params_accumulate_in_float32_by_default() -> None:
    params = jax.tree.map(lambda p: p.astype(jnp.bfloat16), PARAMS)
    state = gradtx.accumulate(gradtx.sgd(0.1), 2).init(params)
    assert state.acc_grads["w"].dtype == jnp.float32
    chosen = gradtx.accumulate(gradtx.sgd(0.1), 2, accumulator_dtype=jnp.bfloat16)
    assert chosen.init(params).acc_grads["w"].dtype == jnp.bfloat16
    trained, _ = _train(gradtx.accumulate(gradtx.sgd(0.05), K), B, params)
    reference, _ = _train(gradtx.sgd(0.05), K * B)
    for k in PARAMS:
        assert trained[k].dtype == jnp.bfloat16
        np.testing.assert_allclose(
            np.asarray(trained[k], np.float32), reference[k], rtol=0.02, atol=0.02
        )


def test_sum_instead_of_mean_and_a_schedule_for_k() -> None:
    ms = gradtx.MultiSteps(
        gradtx.sgd(1.0), lambda step: jnp.where(step == 0, 1, 2), use_grad_mean=False
    )
    state = ms.init(jnp.zeros(1))
    outs = []
    for g in [1.0, 2.0, 3.0, 4.0, 5.0]:
        u, state = ms.update(jnp.array([g]), state)
        outs.append(float(u[0]))
    # Step 0 takes k=1; then k=2, summing: -(2+3), -(4+5).
    assert outs == [-1.0, 0.0, -5.0, 0.0, -9.0]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_k_must_be_a_positive_int(bad: Any) -> None:
    # Each names its own argument: accumulate's k, MultiSteps' every_k_schedule.
    with pytest.raises(ValueError, match=r"^accumulate: k is "):
        gradtx.accumulate(gradtx.sgd(0.1), bad)
    with pytest.raises(ValueError, match=r"^MultiSteps: every_k_schedule is "):
        gradtx.MultiSteps(gradtx.sgd(0.1), bad)


def test_optax_keywords_and_skipping_large_updates_match_optax() -> None:
    import functools

    import optax

    limit = 4.0
    ours = gradtx.MultiSteps(
        opt=gradtx.adam(0.1),
        every_k_schedule=2,
        should_skip_update_fn=functools.partial(
            gradtx.skip_large_updates, max_squared_norm=limit
        ),
    )
    theirs = optax.MultiSteps(
        opt=optax.adam(0.1),
        every_k_schedule=2,
        should_skip_update_fn=functools.partial(
            optax.skip_large_updates, max_squared_norm=limit
        ),
    )
    p_ours = p_theirs = PARAMS
    s_ours, s_theirs = ours.init(PARAMS), theirs.init(PARAMS)
    skipped = 0
    for i in range(12):
        scale = 5.0 if i % 5 == 3 else 0.3  # every fifth gradient is too large
        value = scale * (1 + i % 3)
        g = jax.tree.map(lambda p, v=value: jnp.full_like(p, v), PARAMS)
        u, s_ours = ours.update(g, s_ours, p_ours)
        v, s_theirs = theirs.update(g, s_theirs, p_theirs)
        p_ours = gradtx.apply_updates(p_ours, u)
        p_theirs = optax.apply_updates(p_theirs, v)
        skipped += bool(s_ours.skip_state["should_skip"])
        assert bool(s_ours.skip_state["should_skip"]) == bool(
            s_theirs.skip_state["should_skip"]
        )
        for k in PARAMS:
            np.testing.assert_allclose(p_ours[k], p_theirs[k], rtol=1e-6, atol=1e-6)
    assert skipped == 2
    assert int(s_ours.gradient_step) == int(s_theirs.gradient_step) == 5


def test_a_non_finite_mini_batch_is_dropped_not_accumulated() -> None:
    ms = gradtx.MultiSteps(
        gradtx.sgd(1.0), 2, should_skip_update_fn=gradtx.skip_not_finite
    )
    state = ms.init(jnp.zeros(2))
    outs = []
    for g in [[1.0, 1.0], [jnp.nan, 0.0], [3.0, 3.0]]:
        u, state = ms.update(jnp.asarray(g), state)
        outs.append(np.asarray(u))
    assert int(state.skip_state["num_not_finite"]) == 0  # the last batch's
    np.testing.assert_array_equal(outs[1], [0.0, 0.0])
    np.testing.assert_allclose(outs[2], [-2.0, -2.0])  # mean of batches 1 and 3
