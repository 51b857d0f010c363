"""inject_stateful_hyperparams and stateful schedules, against optax."""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gradtx


class HalveOnBadStep:
    """A stateful schedule (optax's protocol): halves when told to."""

    def init(self) -> jax.Array:
        return jnp.asarray(1.0, jnp.float32)

    def update(self, state: jax.Array, **extra: Any) -> jax.Array:
        return jnp.where(extra.get("bad", False), state / 2, state)

    def __call__(self, state: jax.Array, **extra: Any) -> jax.Array:
        return state


def _run(inject: Any, **kwargs: Any) -> tuple[list[np.ndarray], Any]:
    if inject.__module__.startswith("optax"):
        tx = inject(optax.sgd)(**kwargs)
    else:  # optax's momentum form (README: SGD momentum and the learning rate)
        tx = inject(gradtx.sgd)(**kwargs, momentum_after_lr=False)
    params = jnp.array([1.0, -1.0], jnp.float32)
    state = tx.init(params)
    outs = []
    for bad in (False, True, False, True):
        u, state = tx.update(jnp.ones(2, jnp.float32), state, params, bad=bad)
        outs.append(np.asarray(u))
    return outs, state


def test_stateful_schedule_matches_optax() -> None:
    lr = dict(learning_rate=HalveOnBadStep(), momentum=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        theirs, t_state = _run(optax.inject_stateful_hyperparams, **lr)
    for inject in (gradtx.inject_stateful_hyperparams, gradtx.inject_hyperparams):
        ours, state = _run(inject, **lr)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        assert isinstance(state, gradtx.InjectStatefulHyperparamsState)
        assert state._fields == t_state._fields
        # The value used by the last step (the schedule's value before that
        # step's halving): 1 -> 1 -> 0.5 -> 0.5.
        assert float(state.hyperparams["learning_rate"]) == 0.5
        assert float(state.hyperparams_states["learning_rate"]) == 0.25
    # By hand: SGD with momentum 0.5 and lr 1, 1, 0.5, 0.5 (the value before
    # each step's update): trace m_t = g + 0.5 m_{t-1}, u_t = -lr_t m_t.
    m, expected = 0.0, []
    for lr_t in (1.0, 1.0, 0.5, 0.5):
        m = 1.0 + 0.5 * m
        expected.append([-lr_t * m] * 2)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_a_plain_schedule_is_wrapped_with_its_count() -> None:
    sched = optax.linear_schedule(1.0, 0.0, 4)
    tx = gradtx.inject_stateful_hyperparams(gradtx.sgd)(learning_rate=sched)
    state = tx.init(jnp.zeros(1))
    assert state.hyperparams_states["learning_rate"] == gradtx.WrappedScheduleState(
        count=jnp.zeros([], jnp.int32)
    )
    step = jax.jit(tx.update)
    for t in range(3):
        u, state = step(jnp.ones(1), state)
        np.testing.assert_allclose(u, [-(1.0 - t / 4)], rtol=1e-6)
    assert int(state.hyperparams_states["learning_rate"].count) == 3
    # tree_set refuses a scheduled value, as inject_hyperparams does.
    try:
        gradtx.tree_set(state, learning_rate=0.1)
    except ValueError as e:
        assert "schedule" in str(e)
    else:
        raise AssertionError("tree_set changed a scheduled hyperparameter")


def test_a_numeric_hyperparameter_stays_settable() -> None:
    tx = gradtx.inject_stateful_hyperparams(gradtx.sgd)(learning_rate=0.1)
    state = gradtx.tree_set(tx.init(jnp.zeros(1)), learning_rate=0.5)
    np.testing.assert_allclose(tx.update(jnp.ones(1), state)[0], [-0.5])
    assert state.hyperparams_states == {}
