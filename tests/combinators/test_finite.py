"""apply_if_finite: NaN/inf steps are skipped exactly, counted, then let through."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

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


@pytest.mark.parametrize("position", ["none", "small", "big", "complex"])
def test_all_finite_matches_numpy(position: str) -> None:
    rng = np.random.default_rng(0)
    tree = {f"s{i}": rng.normal(size=(3,)).astype(np.float32) for i in range(30)}
    tree["big"] = rng.normal(size=(6000,)).astype(np.float32)
    tree["c"] = (rng.normal(size=4) + 1j * rng.normal(size=4)).astype(np.complex64)
    if position == "small":
        tree["s17"][2] = np.inf
    elif position == "big":
        tree["big"][5999] = np.nan
    elif position == "complex":
        tree["c"][1] = complex(1.0, np.inf)
    expected = all(np.all(np.isfinite(x)) for x in tree.values())
    got = jax.jit(gradtx.all_finite)({k: jnp.asarray(v) for k, v in tree.items()})
    assert bool(got) == expected
