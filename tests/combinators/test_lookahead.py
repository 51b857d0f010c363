"""lookahead: optax's, its (fast, slow) params, and its errors.

Its rule against Zhang et al.'s Algorithm 1 is in
``tests/optimizers/test_wrappers.py``.
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


def _params() -> dict[str, jax.Array]:
    rng = np.random.default_rng(0)
    return {
        "w": jnp.asarray(rng.normal(size=(3, 2)), F32),
        "b": jnp.asarray(rng.normal(size=(2,)), F32),
    }


def _run(tx: Any, apply: Any, pair: Any, steps: int = 11) -> Any:
    """``steps`` steps with gradients ``0.5 fast + noise``, in one jitted scan."""
    rng = np.random.default_rng(1)
    noise = {
        k: jnp.asarray(rng.normal(size=(steps, *v.shape)), F32)
        for k, v in pair.fast.items()
    }

    @jax.jit
    def run(pair: Any) -> Any:
        def body(carry: Any, n: Any) -> tuple[Any, None]:
            p, s = carry
            g = jax.tree.map(lambda f, e: 0.5 * f + e, p.fast, n)
            u, s = tx.update(g, s, p)
            return (apply(p, u), s), None

        (p, _), _ = jax.lax.scan(body, (pair, tx.init(pair)), noise)
        return p

    return run(pair)


def test_matches_optax() -> None:
    """With reset_state (both modes are checked against Zhang et al.'s
    Algorithm 1 in tests/optimizers/test_wrappers.py)."""
    reset_state = True
    ours = _run(
        gradtx.lookahead(gradtx.adam(0.05), 3, 0.5, reset_state=reset_state),
        gradtx.apply_updates,
        gradtx.LookaheadParams.init_synced(_params()),
    )
    theirs = _run(
        optax.lookahead(optax.adam(0.05), 3, 0.5, reset_state=reset_state),
        optax.apply_updates,
        optax.LookaheadParams.init_synced(_params()),
    )
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert not np.allclose(ours.fast["w"], ours.slow["w"])  # 11 = 3 * 3 + 2


def test_takes_optax_params_and_returns_their_type() -> None:
    tx = gradtx.lookahead(gradtx.sgd(0.1), 2, 0.5)
    pair = optax.LookaheadParams.init_synced(_params())
    grads = jax.tree.map(jnp.ones_like, pair.fast)
    updates, _ = jax.jit(tx.update)(grads, tx.init(pair), pair)
    assert type(updates) is optax.LookaheadParams


def test_init_takes_the_fast_params_alone_as_optax_does() -> None:
    tx = gradtx.lookahead(gradtx.adam(0.1), 2, 0.5)
    params = _params()
    alone = tx.init(params)
    paired = tx.init(gradtx.LookaheadParams.init_synced(params))
    assert jax.tree.structure(alone) == jax.tree.structure(paired)


def test_init_synced_copies_so_a_donating_step_writes_both() -> None:
    tx = gradtx.lookahead(gradtx.sgd(0.1), 2, 0.5)
    pair = gradtx.LookaheadParams.init_synced(_params())
    assert pair.slow["w"] is not pair.fast["w"]
    step = gradtx.make_step(tx)
    grads = jax.tree.map(jnp.ones_like, pair.fast)
    new, _ = step(pair, tx.init(pair), grads)
    np.testing.assert_allclose(new.fast["w"], _params()["w"] - 0.1, rtol=1e-6)


def test_update_needs_the_pair_and_says_how() -> None:
    tx = gradtx.lookahead(gradtx.sgd(0.1), 2, 0.5)
    params = _params()
    with pytest.raises(
        ValueError, match=r"lookahead: params must be a LookaheadParams.*init_synced"
    ):
        tx.update(params, tx.init(params), params)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"sync_period": 0},
            ValueError,
            "lookahead: sync_period is 0; expected an int >= 1",
        ),
        ({"sync_period": 2.5}, ValueError, "lookahead: sync_period is 2.5"),
        (
            {"slow_step_size": 1.5},
            ValueError,
            r"lookahead: slow_step_size must be in \[0, 1\]",
        ),
        (
            {"reset_state": "yes"},
            TypeError,
            "lookahead: reset_state must be True or False",
        ),
        ({"fast_optimizer": gradtx.adam}, TypeError, r"Did you mean adam\(...\)"),
    ],
    ids=[
        "sync_period-0",
        "sync_period-float",
        "slow_step_size",
        "reset_state",
        "uncalled",
    ],
)
def test_bad_arguments(kwargs: dict, error: type[Exception], message: str) -> None:
    args = {"fast_optimizer": gradtx.sgd(0.1), "sync_period": 2, "slow_step_size": 0.5}
    with pytest.raises(error, match=message):
        gradtx.lookahead(**{**args, **kwargs})
