"""Bad input gets a clear exception at the boundary, naming what is wrong."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

# (factory, argument named in the message)
BAD_HYPERPARAMETERS = [
    (lambda: gradtx.sgd(-0.1), "learning_rate"),
    (lambda: gradtx.sgd(float("nan")), "learning_rate"),
    (lambda: gradtx.sgd(0.1, momentum=-0.5), "momentum"),
    (lambda: gradtx.sgd(0.1, momentum=1.0), "momentum"),
    (lambda: gradtx.sgd(0.1, nesterov=True), "nesterov"),
    (lambda: gradtx.adam(1e-3, b1=1.0), "b1"),
    (lambda: gradtx.adam(1e-3, b1=-0.1), "b1"),
    (lambda: gradtx.adam(1e-3, b2=1.5), "b2"),
    (lambda: gradtx.adam(1e-3, eps=-1e-8), "eps"),
    (lambda: gradtx.adam(1e-3, eps_root=-1.0), "eps_root"),
    (lambda: gradtx.adamw(1e-3, weight_decay=-0.1), "weight_decay"),
    (lambda: gradtx.rmsprop(1e-3, decay=1.0), "decay"),
    (lambda: gradtx.rmsprop(1e-3, initial_scale=-1.0), "initial_scale"),
    (
        lambda: gradtx.adagrad(1e-3, initial_accumulator_value=-0.1),
        "initial_accumulator",
    ),
    (lambda: gradtx.clip_by_global_norm(0.0), "max_norm"),
    (lambda: gradtx.clip_by_global_norm(-1.0), "max_norm"),
    (lambda: gradtx.clip(0.0), "max_delta"),
    (lambda: gradtx.trace(decay=1.2), "decay"),
    (lambda: gradtx.ema(decay=-0.2), "decay"),
    (lambda: gradtx.scale_by_learning_rate(-1.0), "learning_rate"),
    (lambda: gradtx.adam(jnp.array([1e-3, 1e-3])), "learning_rate"),
    # Infinite values: inf params, NaN or frozen training, never a run.
    (lambda: gradtx.sgd(float("inf")), "learning_rate"),
    (lambda: gradtx.adamw(1e-3, weight_decay=float("inf")), "weight_decay"),
    (lambda: gradtx.adam(1e-3, eps=float("inf")), "eps"),
    (lambda: gradtx.adam(1e-3, b1=-float("inf")), "b1"),
    (lambda: gradtx.clip_by_global_norm(float("inf")), "max_norm"),
    (lambda: gradtx.scale(float("inf")), "step_size"),
    # eps = 0 where the update divides by it: 0/0 for a zero gradient.
    (lambda: gradtx.adam(1e-3, eps=0.0), "eps"),
    (lambda: gradtx.adamw(1e-3, eps=0), "eps"),
    (lambda: gradtx.scale_by_adam(eps=0.0, eps_root=0.0), "eps"),
    (lambda: gradtx.rmsprop(1e-3, eps=0.0), "eps"),
    (lambda: gradtx.rmsprop(1e-3, eps=0.0, initial_scale=1.0), "eps"),
    (lambda: gradtx.rmsprop(1e-3, eps=0.0, centered=True), "eps"),
    (lambda: gradtx.scale_by_stddev(eps=0.0), "eps"),
]


@pytest.mark.parametrize("make,arg", BAD_HYPERPARAMETERS)
def test_out_of_range_hyperparameter_raises_at_build_time(make: Any, arg: str) -> None:
    with pytest.raises(ValueError, match=arg) as info:
        make()
    # The message shows the offending value or the valid range.
    assert "got" in str(info.value)


@pytest.mark.parametrize(
    "make,shown",
    [
        # The interval in the message is the one enforced: inf is never in it.
        (lambda: gradtx.sgd(-1.0), "learning_rate must be in [0, inf), got -1.0"),
        (lambda: gradtx.sgd(np.inf), "learning_rate must be in [0, inf), got inf"),
        (lambda: gradtx.clip_by_global_norm(0.0), "max_norm must be in (0, inf)"),
        (lambda: gradtx.adam(1e-3, b2=np.inf), "b2 must be in [0, 1), got inf"),
        (lambda: gradtx.adam(1e-3, eps=0.0), "eps must be in (0, inf) (or [0, inf)"),
        (lambda: gradtx.rmsprop(1e-3, eps=0.0), "eps must be in (0, inf), got"),
        (lambda: gradtx.scale(np.nan), "step_size must be in (-inf, inf), got nan"),
    ],
)
def test_messages_state_the_interval_that_is_enforced(make: Any, shown: str) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert shown in str(info.value)


def test_eps_zero_is_accepted_where_nothing_divides_by_it() -> None:
    # Adam with eps_root > 0 divides by sqrt(v + eps_root) > 0; AdaGrad skips
    # coordinates whose accumulator is 0. Zero gradients give zero updates.
    params = jnp.zeros(3)
    grads = jnp.asarray([0.0, 2.0, 0.0])
    for tx in [gradtx.adam(0.1, eps=0.0, eps_root=1e-8), gradtx.adagrad(0.1, eps=0)]:
        updates, _ = tx.update(grads, tx.init(params), params)
        assert updates[0] == 0.0 and updates[2] == 0.0
        assert updates[1] == pytest.approx(-0.1, rel=1e-3)


@pytest.mark.parametrize(
    "make,arg",
    [
        (lambda: gradtx.adam("0.001"), "learning_rate"),
        (lambda: gradtx.adam(1e-3, nesterov="yes"), "nesterov"),
        (lambda: gradtx.trace(decay=lambda t: 0.9), "decay"),
        (lambda: gradtx.scale_by_schedule(0.1), "step_size_fn"),
        (lambda: gradtx.chain(gradtx.adam), "adam"),
        (lambda: gradtx.named_chain(gradtx.adam(1.0)), "named_chain"),
    ],
)
def test_wrong_type_raises_type_error(make: Any, arg: str) -> None:
    with pytest.raises(TypeError, match=arg):
        make()


def test_array_tracer_and_schedule_hyperparameters_are_accepted() -> None:
    gradtx.adam(jnp.float32(1e-3), b1=jnp.asarray(0.9))
    gradtx.adamw(gradtx.linear_schedule(1e-3, 0.0, 10), weight_decay=lambda t: 1e-4)

    @jax.jit
    def build_and_step(lr: jax.Array) -> jax.Array:
        tx = gradtx.sgd(lr, momentum=0.9)
        p = jnp.ones(2)
        return tx.update(jnp.ones(2), tx.init(p), p)[0]

    assert jnp.allclose(build_and_step(jnp.float32(0.5)), -0.5)


def test_duplicate_named_chain_entry() -> None:
    with pytest.raises(ValueError, match="'a' is used twice"):
        gradtx.named_chain(("a", gradtx.identity()), ("a", gradtx.identity()))


F32 = jnp.float32
PARAMS = {"Dense_0": {"kernel": jnp.zeros((3, 64), F32), "bias": jnp.zeros(64, F32)}}


def _with(bias: Any) -> dict:
    return {"Dense_0": {"kernel": jnp.zeros((3, 64), F32), "bias": bias}}


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_wrong_gradient_shape_names_the_leaf_path(jit: bool) -> None:
    tx = gradtx.adam(1e-3)
    state = tx.init(PARAMS)
    update = jax.jit(tx.update) if jit else tx.update
    with pytest.raises(gradtx.TreeMismatchError) as info:
        update(_with(jnp.zeros(32, F32)), state)
    msg = str(info.value)
    assert "updates['Dense_0']['bias']" in msg
    assert "expected float32[64]" in msg and "got float32[32]" in msg
    assert isinstance(info.value, ValueError)


def test_wrong_gradient_dtype_names_the_leaf_path() -> None:
    tx = gradtx.adam(1e-3)
    with pytest.raises(gradtx.TreeMismatchError, match=r"\['bias'\].*got bfloat16"):
        tx.update(_with(jnp.zeros(64, jnp.bfloat16)), tx.init(PARAMS))


def test_missing_and_extra_leaves_are_named() -> None:
    tx = gradtx.sgd(0.1, momentum=0.9)
    state = tx.init(PARAMS)
    with pytest.raises(
        gradtx.TreeMismatchError, match=r"updates\['Dense_0'\]\['bias'\] is missing"
    ):
        tx.update({"Dense_0": {"kernel": jnp.zeros((3, 64))}}, state)
    extra = {"Dense_0": {**PARAMS["Dense_0"], "extra": jnp.zeros(1)}}
    with pytest.raises(gradtx.TreeMismatchError, match=r"\['extra'\] is unexpected"):
        tx.update(extra, state)


def test_state_from_another_model_is_caught() -> None:
    tx = gradtx.adam(1e-3)
    other = tx.init({"Dense_0": {"kernel": jnp.zeros((3, 64)), "bias": jnp.zeros(8)}})
    with pytest.raises(gradtx.TreeMismatchError, match=r"\['bias'\].*state"):
        tx.update(PARAMS, other, PARAMS)


def test_params_that_differ_from_updates_are_caught_by_stateless_transforms() -> None:
    tx = gradtx.sgd(0.1)  # no state to compare against: the params are checked
    with pytest.raises(gradtx.TreeMismatchError, match=r"\['bias'\]"):
        tx.update(PARAMS, tx.init(PARAMS), _with(jnp.zeros(65, F32)))


def test_apply_updates_names_the_leaf_path() -> None:
    with pytest.raises(
        gradtx.TreeMismatchError, match=r"\['bias'\]: expected float32\[64\]"
    ):
        gradtx.apply_updates(PARAMS, _with(jnp.zeros(63, F32)))


def test_integer_params_raise_type_error_naming_the_path() -> None:
    params = {"w": jnp.zeros(3), "step": jnp.zeros((), jnp.int32)}
    with pytest.raises(TypeError, match=r"params\['step'\] has dtype int32"):
        gradtx.adam(1e-3).init(params)
    with pytest.raises(TypeError, match=r"params\['flag'\]"):
        gradtx.sgd(0.1).init({"w": jnp.zeros(3), "flag": jnp.array(True)})


def test_integer_params_pass_untouched_when_masked_out() -> None:
    params = {"w": jnp.ones(3), "step": jnp.asarray(7, jnp.int32)}
    tx = gradtx.masked(gradtx.adam(0.1), {"w": True, "step": False})
    state = tx.init(params)
    updates = {"w": jnp.ones(3), "step": jnp.asarray(0, jnp.int32)}
    out, _ = jax.jit(tx.update)(updates, state, params)
    assert out["step"].dtype == jnp.int32 and int(out["step"]) == 0
    assert jnp.allclose(out["w"], -0.1, atol=1e-6)


def test_none_leaves_are_kept() -> None:
    params = {"w": jnp.ones(2), "frozen": None}
    tx = gradtx.chain(gradtx.clip_by_global_norm(1.0), gradtx.adamw(0.1))
    updates, _ = tx.update({"w": jnp.ones(2), "frozen": None}, tx.init(params), params)
    assert updates["frozen"] is None
    assert gradtx.apply_updates(params, updates)["frozen"] is None


def test_weight_decay_without_params_says_how_to_fix() -> None:
    tx = gradtx.adamw(1e-3)
    with pytest.raises(ValueError, match=r"tx.update\(grads, state, params\)"):
        tx.update(PARAMS, tx.init(PARAMS))


def test_wrong_state_container_is_caught() -> None:
    tx = gradtx.chain(gradtx.identity(), gradtx.adam(1.0))
    with pytest.raises(ValueError, match="tuple of 2 states"):
        tx.update(PARAMS, gradtx.adam(1.0).init(PARAMS)[0])


def test_bad_mask_is_caught() -> None:
    with pytest.raises(TypeError, match=r"mask\['b'\]"):
        gradtx.masked(gradtx.adam(1.0), {"w": True, "b": jnp.array(True)})
    tx = gradtx.masked(gradtx.adam(1.0), {"w": True})
    with pytest.raises(ValueError, match="prefix"):
        tx.init({"w": jnp.zeros(1), "b": jnp.zeros(1)})


def test_inputs_are_not_mutated() -> None:
    params = {"w": jnp.ones(2)}
    grads = {"w": jnp.full(2, 3.0)}
    tx = gradtx.adamw(0.1)
    state = tx.init(params)
    before = jax.tree.map(lambda x: x.copy(), (params, grads, state))
    tx.update(grads, state, params)
    after = (params, grads, state)
    for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
        assert jnp.array_equal(a, b)
