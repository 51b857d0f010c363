"""tree_get / tree_set (``gradtx.tree.get`` / ``set``): reading and replacing
state entries by name."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
import gradtx.tree as gt
import gradtx.tree._state

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


# --- tree_set checks values as the constructors check arguments -------------

INJECTED = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=0.1, b1=0.9)
G = {"w": jnp.full((2, 3), 0.5, jnp.float32), "b": jnp.ones(3, jnp.float32)}


def test_set_works_inside_jit_and_vmap() -> None:
    # Before: a ConcretizationTypeError inside jit (it read `.committed` of a
    # tracer). SGD's update is -lr * g, per vmapped run.
    tx = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=0.1)

    @jax.jit
    def step(lr: jax.Array) -> jax.Array:
        state = gradtx.tree_set(tx.init(P), learning_rate=lr)
        return tx.update(G, state, P)[0]["b"]

    np.testing.assert_allclose(step(jnp.float32(0.25)), -0.25, rtol=1e-6)
    lrs = jnp.asarray([0.1, 0.2, 0.3], jnp.float32)
    np.testing.assert_allclose(jax.vmap(step)(lrs)[:, 0], -lrs, rtol=1e-6)
    states = jax.vmap(lambda lr: gradtx.tree_set(tx.init(P), learning_rate=lr))(lrs)
    np.testing.assert_array_equal(states.hyperparams["learning_rate"], lrs)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"b1": 1.5}, r"tree_set\(b1=1.5\): adam: b1 must be in \[0, 1\), got 1.5"),
        ({"learning_rate": -1}, r"learning_rate must be in \[0, inf\), got -1"),
        ({"learning_rate": np.inf}, r"hyperparams\['learning_rate'\] must be finite"),
        ({"b1": np.nan}, r"hyperparams\['b1'\] must be finite"),
        ({"count": 2.7}, r"state.count is a step counter .* got 2.7"),
        ({"count": -5}, r"whole number in \[0, 2147483647\], got -5"),
        ({"count": 2**31}, "step counter"),
        ({"mu": jax.tree.map(lambda p: p + jnp.nan, P)}, r"mu\['b'\] must be finite"),
    ],
)
@pytest.mark.parametrize("use_jit", [False, True])
def test_set_refuses_what_the_constructor_refuses(
    values: dict, message: str, use_jit: bool
) -> None:
    # Before: accepted, and under jit b1 = 1.5 or a negative learning rate
    # turned descent into ascent. Concrete values are checked inside jit too.
    state = INJECTED.init(P)
    set_ = jax.jit(lambda s: gradtx.tree_set(s, **values)) if use_jit else None
    with pytest.raises(ValueError, match=message):
        set_(state) if set_ else gradtx.tree_set(state, **values)


@pytest.mark.parametrize("value", [True, "3", None, 1j])
def test_set_refuses_values_of_the_wrong_kind(value: object) -> None:
    state = INJECTED.init(P)
    with pytest.raises(TypeError, match=r"state\.count"):
        gradtx.tree_set(state, count=value)
    with pytest.raises(TypeError, match=r"tree_set.*hyperparams\['b1'\]"):
        gradtx.tree_set(state, b1=value)


def test_valid_values_are_stored_with_the_old_dtype() -> None:
    state = gradtx.tree_set(INJECTED.init(P), b1=0.5, count=np.int64(7))
    assert state.hyperparams["b1"].dtype == jnp.float32
    assert float(state.hyperparams["b1"]) == 0.5
    assert state.count.dtype == jnp.int32 and int(state.count) == 7


def test_setting_a_scheduled_hyperparameter_says_how_to_change_it() -> None:
    # Before: accepted, then silently overwritten by the next step's value.
    schedule = gradtx.linear_schedule(1.0, 0.0, transition_steps=4)
    tx = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=schedule)
    with pytest.raises(ValueError, match=r"learning_rate is a schedule.*rebuild"):
        gradtx.tree_set(tx.init(P), learning_rate=0.5)
    # The way the message suggests: an injected multiplier on the schedule.
    scaled = gradtx.chain(tx, gradtx.inject_hyperparams(gradtx.scale)(step_size=1.0))
    state = gradtx.tree_set(scaled.init(P), step_size=0.5)
    updates, _ = scaled.update(G, state, P)
    np.testing.assert_allclose(updates["b"], -0.5 * 1.0 * 1.0)


STATES = {
    "gradtx_named_chain": gradtx.named_chain(
        ("clip", gradtx.clip_by_global_norm(1.0)), ("adam", gradtx.adam(1e-3))
    ).init({"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}),
}


def test_get_and_set_are_gradtx_tree_get_and_tree_set() -> None:
    assert gt.get is gradtx.tree._state.tree_get is gradtx.tree_get
    assert gt.set is gradtx.tree._state.tree_set is gradtx.tree_set
    state = STATES["gradtx_named_chain"]
    assert int(gt.get(gt.set(state, **{"adam/count": 3}), "adam/count")) == 3
