"""schedule_free and schedule_free_eval_params: optax.contrib's, and the errors.

The rule against Defazio et al.'s Algorithm 1 is in
``tests/optimizers/test_wrappers.py``; ``schedule_free_sgd`` and
``schedule_free_adamw`` run through the shared catalogue.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

F32 = jnp.float32


def _params(dtype: Any = F32) -> dict[str, jax.Array]:
    rng = np.random.default_rng(0)
    return {
        "w": jnp.asarray(rng.normal(size=(3, 2)), dtype),
        "b": jnp.asarray(rng.normal(size=(2,)), dtype),
    }


def test_wrapper_matches_optax_with_a_schedule_and_state_dtype() -> None:
    """Adam without momentum as the base, a warmup schedule for the weights."""
    sched = optax.linear_schedule(0.0, 0.05, 5)

    def run(tx: Any, apply: Any) -> tuple[dict, Any]:
        @jax.jit
        def go(params: dict) -> tuple[dict, Any]:
            def body(carry: Any, _: None) -> tuple[Any, None]:
                p, s = carry
                g = jax.tree.map(lambda x: jnp.sin(3 * x) + 0.5 * x, p)
                u, s = tx.update(g, s, p)
                return (apply(p, u), s), None

            (p, s), _ = jax.lax.scan(body, (params, tx.init(params)), length=15)
            return p, s

        return go(_params())

    ours, state = run(
        gradtx.schedule_free(gradtx.adam(sched, b1=0.0), sched, b1=0.8),
        gradtx.apply_updates,
    )
    theirs, _ = run(
        optax.contrib.schedule_free(optax.adam(sched, b1=0.0), sched, b1=0.8),
        optax.apply_updates,
    )
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-6, err_msg=k)
    assert int(state.step_count) == 16 and state.weight_sum.dtype == F32
    low = gradtx.schedule_free(gradtx.sgd(0.1), 0.1, state_dtype=jnp.bfloat16)
    assert low.init(_params()).z["w"].dtype == jnp.bfloat16


def test_scalars_are_float32_for_low_precision_params() -> None:
    """optax keeps them in the params' lowest dtype: a bfloat16 weight_sum
    stops growing after a few hundred steps."""
    state = gradtx.schedule_free_sgd(0.1).init(_params(jnp.bfloat16))
    assert state.weight_sum.dtype == state.max_lr.dtype == state.b1.dtype == F32
    assert state.z["w"].dtype == jnp.bfloat16


def test_eval_params_finds_the_state_inside_a_chain() -> None:
    tx = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.schedule_free_sgd(0.1))
    params = _params()
    state, update = tx.init(params), jax.jit(tx.update)
    for _ in range(2):  # after one step x = z = y (the first weight is 1)
        updates, state = update(jax.tree.map(jnp.sin, params), state, params)
        params = gradtx.apply_updates(params, updates)
    x = gradtx.schedule_free_eval_params(state, params)
    expected = gradtx.schedule_free_eval_params(state[1], params)
    assert jax.tree.structure(x) == jax.tree.structure(params)
    np.testing.assert_array_equal(x["w"], expected["w"])
    assert not np.allclose(x["w"], params["w"])


def test_eval_params_without_a_schedule_free_state_says_so() -> None:
    params = _params()
    state = gradtx.adam(0.1).init(params)
    with pytest.raises(
        ValueError, match="schedule_free_eval_params: found no ScheduleFreeState"
    ):
        gradtx.schedule_free_eval_params(state, params)


def test_update_needs_params() -> None:
    tx = gradtx.schedule_free(gradtx.sgd(0.1), 0.1)
    params = _params()
    with pytest.raises(ValueError, match="schedule_free: params is None, but"):
        tx.update(params, tx.init(params))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"b1": 0.0},
            ValueError,
            r"schedule_free: b1 must be in \(0, 1\], got 0.0. The",
        ),
        ({"learning_rate": -1.0}, ValueError, "schedule_free: learning_rate must be"),
        ({"weight_lr_power": jnp.inf}, ValueError, "schedule_free: weight_lr_power"),
        ({"state_dtype": jnp.int8}, TypeError, "schedule_free: state_dtype must be"),
        ({"base_optimizer": gradtx.sgd}, TypeError, r"Did you mean sgd\(...\)"),
    ],
    ids=["b1", "learning_rate", "weight_lr_power", "state_dtype", "uncalled"],
)
def test_bad_arguments(kwargs: dict, error: type[Exception], message: str) -> None:
    args = {"base_optimizer": gradtx.sgd(0.1), "learning_rate": 0.1}
    with pytest.raises(error, match=message):
        gradtx.schedule_free(**{**args, **kwargs})
