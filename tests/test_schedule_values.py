"""What a schedule returns is checked where it is used, never silently trusted.

Shape and dtype are static, so a schedule that returns an array or a non-real
value raises at trace time, also under ``jit``. A value out of range raises
when the step count is concrete (eager); under ``jit`` it cannot raise, and
the updates become NaN instead of a silently wrong step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx

PARAMS = jnp.ones(3, jnp.float32)
GRADS = jnp.asarray([0.5, -1.0, 2.0], jnp.float32)

# Every place a schedule enters a transformation, by the argument's name.
CONSUMERS: dict[str, Callable[[Any], gradtx.GradientTransformation]] = {
    "learning_rate": lambda f: gradtx.sgd(f),
    "weight_decay": lambda f: gradtx.adamw(0.1, weight_decay=f),
    "step_size_fn": lambda f: gradtx.scale_by_schedule(f),
    "inject": lambda f: gradtx.inject_hyperparams(gradtx.sgd)(learning_rate=f),
    "every_k_schedule": lambda f: gradtx.MultiSteps(gradtx.sgd(0.1), f),
}


def _step(tx: gradtx.GradientTransformation, use_jit: bool) -> Any:
    update = jax.jit(tx.update) if use_jit else tx.update
    return update(GRADS, tx.init(PARAMS), PARAMS)[0]


@pytest.mark.parametrize("use_jit", [False, True])
@pytest.mark.parametrize("where", list(CONSUMERS))
def test_a_schedule_returning_an_array_raises(where: str, use_jit: bool) -> None:
    # Before: a per-element learning rate, although an array one is refused.
    name = "learning_rate" if where == "inject" else where
    schedule = lambda count: jnp.full(3, 2, jnp.int32)  # noqa: E731
    with pytest.raises(ValueError, match=rf"{name}: the schedule .* shape \(3,\)"):
        _step(CONSUMERS[where](schedule), use_jit)


@pytest.mark.parametrize("value", [True, 1j, "0.1"])
def test_a_schedule_returning_no_real_number_raises(value: Any) -> None:
    with pytest.raises(TypeError, match="learning_rate: the schedule"):
        _step(gradtx.sgd(lambda count: value), use_jit=False)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("learning_rate", -0.5),
        ("learning_rate", np.inf),
        ("weight_decay", -1e-4),
        ("step_size_fn", np.nan),
        ("every_k_schedule", 0),
        ("every_k_schedule", -2),
        ("every_k_schedule", 2.5),
    ],
)
def test_a_bad_value_raises_eagerly_and_is_nan_under_jit(
    where: str, value: float
) -> None:
    tx = CONSUMERS[where](lambda count: value)
    with pytest.raises(ValueError, match=rf"{where}.*{value!r}"):
        _step(tx, use_jit=False)
    # Before: an ascent on a negative learning rate, or an optimizer step on
    # every call for k <= 0; now every update is NaN, which shows in the loss.
    assert np.all(np.isnan(_step(tx, use_jit=True)))


def test_valid_values_are_unchanged_under_jit() -> None:
    lr = gradtx.linear_schedule(0.5, 0.0, transition_steps=4)
    tx = gradtx.sgd(lr)
    update, state = jax.jit(tx.update), tx.init(PARAMS)
    for t in range(6):
        updates, state = update(GRADS, state, PARAMS)
        np.testing.assert_allclose(updates, -max(0.5 - t / 8, 0.0) * GRADS, rtol=1e-6)


def test_multisteps_follows_a_changing_k() -> None:
    # k = 1 for the first optimizer step, then 2: steps on calls 1, 3, 5.
    tx = gradtx.MultiSteps(gradtx.sgd(1.0), lambda step: jnp.where(step < 1, 1, 2))
    traces: list[int] = []

    def traced(*args: object) -> object:
        traces.append(1)  # runs once per compilation
        return tx.update(*args)

    update, state = jax.jit(traced), tx.init(PARAMS)
    outs = []
    for i in range(6):
        updates, state = update(GRADS * (i + 1), state, PARAMS)
        outs.append(np.asarray(updates))
    stepped = [bool(np.any(u != 0)) for u in outs]
    assert stepped == [True, False, True, False, True, False]
    # Each step is minus the mean of the gradients since the last one.
    np.testing.assert_allclose(outs[0], -1.0 * GRADS)
    np.testing.assert_allclose(outs[2], -2.5 * GRADS, rtol=1e-6)
    np.testing.assert_allclose(outs[4], -4.5 * GRADS, rtol=1e-6)
    # One compilation: the count and k are traced values, not constants.
    # (Counted at trace time: a cache size can be emptied by other tests.)
    assert len(traces) == 1
