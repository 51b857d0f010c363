"""apply_if_finite: NaN/inf steps are skipped exactly, counted, then let through;
apply_if_norm_below: large steps are dropped."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.sample_trees import LAYER_GRADS as GRADS
from tests.sample_trees import LAYER_PARAMS as PARAMS
from tests.sample_trees import norm64 as _norm

SHAPES = {"w": (3, 2), "b": (2,), "big": (5000,)}


def _grads(step: int, bad: dict[int, float]) -> dict[str, jax.Array]:
    rng = np.random.default_rng(step)
    g = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    if step in bad:
        g["big" if step % 2 else "b"][1] = bad[step]
    return {k: jnp.asarray(v) for k, v in g.items()}


def _run(tx: Any, apply: Any, bad: dict[int, float], steps: int) -> list[Any]:
    params = {k: jnp.ones(s, jnp.float32) for k, s in SHAPES.items()}
    state = tx.init(params)
    step = jax.jit(lambda p, s, g: _step(tx, apply, p, s, g))
    history = []
    for i in range(1, steps + 1):
        params, state = step(params, state, _grads(i, bad))
        history.append((params, state))
    return history


def _step(tx: Any, apply: Any, params: Any, state: Any, grads: Any) -> Any:
    updates, state = tx.update(grads, state, params)
    return apply(params, updates), state


def _same(a: Any, b: Any) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_a_nan_step_leaves_params_and_inner_state_as_after_the_last_good_step() -> None:
    tx = gradtx.apply_if_finite(gradtx.adam(0.1), max_consecutive_errors=3)
    h = _run(tx, gradtx.apply_updates, {3: np.nan}, steps=4)
    (p2, s2), (p3, s3), (_, s4) = h[1], h[2], h[3]
    _same(p3, p2)
    _same(s3.inner_state, s2.inner_state)
    assert (int(s3.notfinite_count), bool(s3.last_finite), int(s3.total_notfinite)) == (
        1,
        False,
        1,
    )
    # The next finite step resets the run but not the total.
    assert (int(s4.notfinite_count), bool(s4.last_finite), int(s4.total_notfinite)) == (
        0,
        True,
        1,
    )
    assert int(gradtx.tree_get(s4, "count")) == 3  # Adam saw steps 1, 2, 4


def test_after_max_consecutive_errors_the_bad_updates_go_through() -> None:
    tx = gradtx.apply_if_finite(gradtx.sgd(0.1), max_consecutive_errors=2)
    bad = {2: np.inf, 3: np.nan, 4: -np.inf}
    h = _run(tx, gradtx.apply_updates, bad, steps=4)
    _same(h[2][0], h[0][0])  # steps 2 and 3 skipped
    assert int(h[3][1].notfinite_count) == 3
    assert not np.all(np.isfinite(np.asarray(h[3][0]["b"])))  # step 4 went through


def test_matches_optax_apply_if_finite_with_injected_nans() -> None:
    bad = {3: np.nan, 6: np.inf, 7: np.nan, 8: np.nan, 12: np.nan}
    ours = _run(
        gradtx.apply_if_finite(gradtx.adam(0.05), 2), gradtx.apply_updates, bad, 50
    )
    theirs = _run(
        optax.apply_if_finite(optax.adam(0.05), 2), optax.apply_updates, bad, 50
    )
    for (p, s), (op, os) in zip(ours, theirs, strict=True):
        for k in SHAPES:
            np.testing.assert_allclose(p[k], op[k], rtol=0, atol=1e-6)
        for field in ("notfinite_count", "last_finite", "total_notfinite"):
            assert int(getattr(s, field)) == int(getattr(os, field)), field


@pytest.mark.parametrize("bad", [-1, 1.0, True, None])
def test_max_consecutive_errors_must_be_a_nonnegative_int(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_consecutive_errors"):
        gradtx.apply_if_finite(gradtx.sgd(0.1), bad)


def test_apply_if_norm_below_drops_large_steps_and_keeps_state() -> None:
    tx = gradtx.apply_if_norm_below(gradtx.adam(0.1), max_norm=_norm(GRADS) * 0.5)
    state = tx.init(PARAMS)
    small = jax.tree.map(lambda g: g * 0.1, GRADS)
    _u1, s1 = tx.update(small, state, PARAMS)
    u2, s2 = tx.update(GRADS, s1, PARAMS)  # too large: skipped
    assert int(s2.total_skipped) == 1
    assert float(s2.last_norm) == pytest.approx(_norm(GRADS), rel=1e-6)
    assert all(not np.any(np.asarray(x)) for x in jax.tree.leaves(u2))
    kept, before = jax.tree.leaves(s2.inner_state), jax.tree.leaves(s1.inner_state)
    for a, b in zip(kept, before, strict=True):
        np.testing.assert_array_equal(a, b)
    nan = jax.tree.map(lambda g: g * jnp.nan, small)
    _, s3 = tx.update(nan, s2, PARAMS)  # a NaN norm is not below the limit
    assert int(s3.total_skipped) == 2
