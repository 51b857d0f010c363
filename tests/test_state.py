"""tree_get / tree_set: reading and replacing state entries by name."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

P = {"w": jnp.zeros((2, 3), jnp.float32), "b": jnp.zeros(3, jnp.float32)}


def test_get_field_anywhere_in_a_nested_state() -> None:
    tx = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adam(0.1))
    state = tx.init(P)
    assert gradtx.tree_get(state, "count") is state[1][0].count
    assert gradtx.tree_get(state, "mu") is state[1][0].mu
    assert gradtx.tree_get(state, "ScaleByAdamState") is state[1][0]


def test_named_chain_entries_and_paths() -> None:
    tx = gradtx.named_chain(
        ("warm", gradtx.adam(gradtx.linear_schedule(0.0, 1.0, 5))),
        ("mom", gradtx.trace(0.9)),
    )
    state = tx.init(P)
    assert gradtx.tree_get(state, "mom") is state["mom"]
    with pytest.raises(KeyError, match="matches 2 entries"):
        gradtx.tree_get(state, "count")  # Adam's counter and the schedule's
    assert gradtx.tree_get(state, "ScaleByAdamState/count") is state["warm"][0].count
    assert (
        gradtx.tree_get(state, "warm/ScaleByScheduleState/count")
        is state["warm"][1].count
    )


def test_missing_name_lists_what_exists_or_returns_default() -> None:
    state = gradtx.adam(0.1).init(P)
    with pytest.raises(KeyError, match=r"names present: .*'count'.*'mu'"):
        gradtx.tree_get(state, "momentum")
    assert gradtx.tree_get(state, "momentum", None) is None


def test_set_replaces_every_match_keeps_dtype_and_does_not_mutate() -> None:
    tx = gradtx.adam(gradtx.linear_schedule(0.0, 1.0, 5))
    state = tx.init(P)
    new = gradtx.tree_set(state, count=4)
    assert int(state[0].count) == 0  # the input is untouched
    assert int(new[0].count) == 4 and int(new[1].count) == 4
    assert new[0].count.dtype == jnp.int32
    assert jax.tree.structure(new) == jax.tree.structure(state)
    mu = jax.tree.map(jnp.ones_like, state[0].mu)
    new = gradtx.tree_set(state, mu=mu)
    np.testing.assert_array_equal(new[0].mu["w"], 1.0)


def test_set_rejects_shape_changes_and_unknown_names() -> None:
    state = gradtx.adam(0.1).init(P)
    with pytest.raises(ValueError, match="shape"):
        gradtx.tree_set(state, count=jnp.zeros(2))
    with pytest.raises(gradtx.TreeMismatchError, match=r"\['b'\]"):
        gradtx.tree_set(state, mu={"w": P["w"], "b": jnp.zeros(4, jnp.float32)})
    with pytest.raises(KeyError, match="no entry 'lr'"):
        gradtx.tree_set(state, lr=0.1)


def test_set_state_is_used_by_the_next_step() -> None:
    # Resetting the count restarts Adam's bias correction: the next step has size lr.
    tx = gradtx.adam(0.1)
    params = {"w": jnp.ones(2, jnp.float32)}
    state = tx.init(params)
    for _ in range(5):
        _, state = tx.update(
            {"w": jnp.asarray([1.0, -1.0], jnp.float32)}, state, params
        )
    fresh = gradtx.tree_set(
        state,
        count=0,
        mu={"w": jnp.zeros(2, jnp.float32)},
        nu={"w": jnp.zeros(2, jnp.float32)},
    )
    u, _ = tx.update({"w": jnp.asarray([3.0, -0.5], jnp.float32)}, fresh, params)
    np.testing.assert_allclose(u["w"], [-0.1, 0.1], rtol=1e-6)
