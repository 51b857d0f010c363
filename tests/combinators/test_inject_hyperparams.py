"""inject_hyperparams: hyperparameters in the state, set without recompiling."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

PARAMS = {"w": jnp.full((3,), 2.0, jnp.float32), "b": jnp.zeros(2, jnp.float32)}
GRADS = {"w": jnp.full((3,), 0.5, jnp.float32), "b": jnp.ones(2, jnp.float32)}


def test_setting_the_learning_rate_changes_the_step_without_recompiling() -> None:
    tx = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=0.1)

    @jax.jit
    def step(params: Any, state: Any) -> Any:
        updates, state = tx.update(GRADS, state, params)
        return gradtx.apply_updates(params, updates), state

    params, state = PARAMS, tx.init(PARAMS)
    for lr in [0.1, 0.5, 0.02, 1.0]:
        state = gradtx.tree_set(state, learning_rate=lr)
        new, state = step(params, state)
        # Closed form of plain SGD: theta - lr * g.
        np.testing.assert_allclose(new["w"], params["w"] - lr * 0.5, rtol=1e-6)
        assert float(state.hyperparams["learning_rate"]) == pytest.approx(lr)
        params = new
    assert step._cache_size() == 1


def test_a_schedule_is_evaluated_per_step_and_logged() -> None:
    schedule = gradtx.linear_schedule(1.0, 0.0, transition_steps=4)
    tx = gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=schedule)
    state = tx.init(PARAMS)
    assert float(state.hyperparams["learning_rate"]) == 1.0
    update = jax.jit(tx.update)
    for t in range(5):
        updates, state = update(GRADS, state, PARAMS)
        expected = max(1.0 - t / 4, 0.0)
        assert float(state.hyperparams["learning_rate"]) == pytest.approx(expected)
        np.testing.assert_allclose(updates["b"], -expected, atol=1e-7)


def test_hyperparams_keep_full_precision_for_bfloat16_params() -> None:
    params = jax.tree.map(lambda p: p.astype(jnp.bfloat16), PARAMS)
    tx = gradtx.inject_hyperparams(gradtx.adam)(learning_rate=3e-4, b2=0.999)
    state = tx.init(params)
    for name in ("learning_rate", "b2"):
        assert state.hyperparams[name].dtype == jnp.float32
    # In bfloat16, b2 = 0.999 would round to 1.0 (and Adam's nu would never move).
    assert float(jnp.bfloat16(0.999)) == 1.0
    assert float(state.hyperparams["b2"]) == pytest.approx(0.999)
    grads = jax.tree.map(lambda g: g.astype(jnp.bfloat16), GRADS)
    updates, _ = tx.update(grads, state, params)
    assert updates["w"].dtype == jnp.bfloat16
    # Adam's first step is -lr * sign(g), up to eps (in bfloat16 precision).
    np.testing.assert_allclose(np.asarray(updates["w"], np.float32), -3e-4, rtol=1e-2)


def test_static_and_non_numeric_arguments_are_passed_as_they_are() -> None:
    tx = gradtx.inject_hyperparams(gradtx.sgd, static_args="momentum")(
        learning_rate=0.1, momentum=0.9, nesterov=True
    )
    state = tx.init(PARAMS)
    assert set(state.hyperparams) == {"learning_rate"}
    reference = gradtx.sgd(0.1, momentum=0.9, nesterov=True)
    expected, _ = reference.update(GRADS, reference.init(PARAMS), PARAMS)
    got, _ = tx.update(GRADS, state, PARAMS)
    for k in PARAMS:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-6)


def test_a_prng_key_seed_is_passed_not_injected() -> None:
    """A seed of 2**30 would round in float32: ``key`` is never a hyperparameter
    (optax's own suite wraps ``noisy_sgd(..., key=0)`` this way)."""
    tx = gradtx.inject_hyperparams(gradtx.noisy_sgd)(learning_rate=0.1, key=2**30 + 1)
    state = tx.init(PARAMS)
    assert set(state.hyperparams) == {"learning_rate", "eta", "gamma"}
    reference = gradtx.noisy_sgd(0.1, key=2**30 + 1)
    expected, _ = reference.update(GRADS, reference.init(PARAMS), PARAMS)
    got, _ = jax.jit(tx.update)(GRADS, state, PARAMS)
    for k in PARAMS:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-6)


def test_unknown_arguments_fail_at_build_time() -> None:
    with pytest.raises(TypeError, match=r"inject_hyperparams\(adam\).*learning_rte"):
        gradtx.inject_hyperparams(gradtx.adam)(learning_rate=0.1, learning_rte=0.1)


@pytest.mark.parametrize("static_args", ["lr", ["lr"]])
@pytest.mark.parametrize(
    "inject", [gradtx.inject_hyperparams, gradtx.inject_stateful_hyperparams]
)
def test_static_args_must_name_arguments_of_the_factory(
    inject: Any, static_args: Any
) -> None:
    # optax raises ValueError too; "lr" is not scale's argument (step_size is).
    with pytest.raises(ValueError, match=r"static_args \['lr'\] are not arguments"):
        inject(gradtx.scale, static_args=static_args)
    tx = inject(gradtx.scale, static_args="step_size")(step_size=2.0)
    assert not tx.init(jnp.zeros(1)).hyperparams


def test_dtype_arguments_are_passed_not_taken_for_schedules() -> None:
    # A dtype class is callable; it was injected as a schedule (and crashed).
    tx = gradtx.inject_hyperparams(gradtx.adam)(
        learning_rate=0.1, mu_dtype=jnp.bfloat16, nu_dtype=jnp.float32
    )
    state = tx.init(PARAMS)
    # The float defaults are injected as optax does; the dtypes are not.
    assert set(state.hyperparams) == {"learning_rate", "b1", "b2", "eps", "eps_root"}
    adam_state = state.inner_state[0]
    assert adam_state.mu["w"].dtype == jnp.bfloat16
    assert adam_state.nu["w"].dtype == jnp.float32


# The params and gradients of the tests below (from tests/test_state.py).
P = {"w": jnp.zeros((2, 3), jnp.float32), "b": jnp.zeros(3, jnp.float32)}
G = {"w": jnp.full((2, 3), 0.5, jnp.float32), "b": jnp.ones(3, jnp.float32)}


def test_inject_checks_its_arguments_and_dtype_at_build_time() -> None:
    with pytest.raises(ValueError, match="learning_rate must be in"):
        gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=-1.0)  # before: at init
    for dtype in [jnp.int32, jnp.bool_, "int8"]:
        with pytest.raises(TypeError, match="hyperparam_dtype must be a floating"):
            gradtx.inject_hyperparams(gradtx.sgd, hyperparam_dtype=dtype)
    tx = gradtx.inject_hyperparams(gradtx.sgd, hyperparam_dtype=jnp.bfloat16)(0.5)
    assert tx.init(P).hyperparams["learning_rate"].dtype == jnp.bfloat16


def test_rebuilding_inside_jit_keeps_one_state_structure() -> None:
    # An optimizer built anew inside each jitted call (a new factory closure)
    # must give states of one structure, so a scan carry or a cache hit works.
    def make(lr: jax.Array) -> gradtx.GradientTransformation:
        return gradtx.inject_hyperparams(
            lambda learning_rate: gradtx.sgd(learning_rate)
        )(learning_rate=lr)

    state = make(jnp.float32(0.1)).init(P)

    @jax.jit
    def two_steps(state: object) -> object:
        def body(s: object, _: None) -> tuple[object, None]:
            return make(jnp.float32(0.1)).update(G, s, P)[1], None

        return jax.lax.scan(body, state, None, length=2)[0]

    out = two_steps(state)
    assert jax.tree.structure(out) == jax.tree.structure(state)
    assert int(out.count) == 2


def test_float_defaults_are_injected_as_optax_does_and_int_ones_are_not() -> None:
    """``state.hyperparams['b1']`` exists without passing b1, and setting it
    changes the step as rebuilding adam with it would (optax's keys too); an
    int default (lbfgs's memory_size, a shape) stays a Python value."""
    import optax

    tx = gradtx.inject_hyperparams(gradtx.adam)(0.1)
    state = tx.init(PARAMS)
    theirs = optax.inject_hyperparams(optax.adam)(0.1).init(PARAMS)
    assert set(state.hyperparams) == set(theirs.hyperparams)
    state = gradtx.tree_set(state, b1=0.5)
    for _ in range(2):
        got, state = tx.update(GRADS, state, PARAMS)
    reference = gradtx.adam(0.1, b1=0.5)
    ref_state = reference.init(PARAMS)
    for _ in range(2):
        want, ref_state = reference.update(GRADS, ref_state, PARAMS)
    for k in PARAMS:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6)
    lbfgs = gradtx.inject_hyperparams(gradtx.lbfgs)(0.1, linesearch=None)
    assert "memory_size" not in lbfgs.init(PARAMS).hyperparams
