"""conditionally_transform / conditionally_mask: parity with optax over several
steps, the rule checked by hand, jit == eager, and bad arguments."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gradtx import combinators as comb
from gradtx import transforms as tf


def _tree(seed: int) -> dict[str, jax.Array]:
    rng = np.random.default_rng(seed)
    return {
        "w": jnp.asarray(rng.normal(size=(3, 2)), jnp.float32),
        "b": jnp.asarray(rng.normal(size=2), jnp.float32),
        "c": jnp.asarray(rng.normal(size=2) + 1j * rng.normal(size=2), jnp.complex64),
    }


def _close(a: Any, b: Any) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-6)


def _every_third(step: Any) -> Any:
    return step % 3 == 1


@pytest.mark.parametrize("masked", [False, True])
def test_matches_optax_and_the_rule(masked: bool) -> None:
    ours = comb.conditionally_mask if masked else comb.conditionally_transform
    theirs = optax.conditionally_mask if masked else optax.conditionally_transform
    tx, otx = ours(tf.ema(0.5), _every_third), theirs(optax.ema(0.5), _every_third)
    params = _tree(100)
    state, ostate, estate = tx.init(params), otx.init(params), tx.init(params)
    step = jax.jit(tx.update)
    m, t_inner = jax.tree.map(np.zeros_like, params), 0
    for i in range(7):
        g = _tree(i)
        u, state = step(g, state)
        e, estate = tx.update(g, estate)
        o, ostate = otx.update(g, ostate)
        _close(u, o)
        _close(u, e)
        _close(state, ostate)
        # By hand: the debiased EMA advances only at the chosen steps.
        if i % 3 == 1:
            t_inner += 1
            m = {k: 0.5 * m[k] + 0.5 * np.asarray(g[k]) for k in g}
            want = {k: m[k] / (1 - 0.5**t_inner) for k in g}
        else:
            want = jax.tree.map(np.zeros_like, g) if masked else g
        _close(u, want)
        assert int(state.step) == i + 1 and state.step.dtype == jnp.int32


def test_extra_args_reach_the_condition_when_asked() -> None:
    tx = comb.conditionally_transform(
        tf.scale(2.0), lambda step, flag: flag, forward_extra_args=True
    )
    state = tx.init(jnp.zeros(2))
    on, _ = tx.update(jnp.ones(2), state, flag=jnp.array(True))
    off, _ = tx.update(jnp.ones(2), state, flag=jnp.array(False))
    np.testing.assert_array_equal(on, [2.0, 2.0])
    np.testing.assert_array_equal(off, [1.0, 1.0])


@pytest.mark.parametrize(
    "wrap", [comb.conditionally_transform, comb.conditionally_mask]
)
def test_bad_arguments_name_the_function_and_argument(wrap: Any) -> None:
    name = wrap.__name__
    with pytest.raises(TypeError, match=f"{name}'s inner"):
        wrap(tf.scale, _every_third)
    with pytest.raises(TypeError, match=f"{name}: should_transform_fn"):
        wrap(tf.scale(1.0), 3)
    with pytest.raises(TypeError, match=f"{name}: forward_extra_args"):
        wrap(tf.scale(1.0), _every_third, forward_extra_args="yes")
    tx = wrap(tf.scale(1.0), lambda step: jnp.ones(2, bool))
    with pytest.raises(ValueError, match=f"{name}: should_transform_fn"):
        tx.update(jnp.ones(2), tx.init(jnp.zeros(2)))
