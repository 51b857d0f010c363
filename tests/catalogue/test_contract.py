"""The contract every gradtx transformation and optimizer must keep.

One parametrized suite over the whole catalogue in ``cases.py``: jit equals
eager, a second call does not recompile, ``vmap`` over parameter sets equals a
loop, gradients flow through ``update`` (checked against finite differences),
the state keeps its structure and dtypes (so it survives ``lax.cond``), every
floating dtype is preserved, and empty pytrees work.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
from tests.catalogue.cases import CASES, NAMES

DTYPES = {
    "f16": jnp.float16,
    "bf16": jnp.bfloat16,
    "f32": jnp.float32,
    "f64": jnp.float64,
    "c64": jnp.complex64,
}


def _params(dtype: Any = jnp.float32, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)

    def leaf(*shape: int) -> jax.Array:
        x = rng.normal(size=shape)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            x = x + 1j * rng.normal(size=shape)
        return jnp.asarray(x, dtype)

    return {"kernel": leaf(3, 2), "bias": leaf(2), "scale": leaf()}


def _grads(params: dict, seed: int) -> dict:
    g = _params(jnp.result_type(params["bias"]), seed)
    return jax.tree.map(lambda x: x.astype(params["bias"].dtype), g)


def _steps(tx: Any, params: dict, n: int, update: Any = None) -> tuple[dict, Any]:
    update = update or tx.update
    state = tx.init(params)
    for i in range(n):
        u, state = update(_grads(params, i + 1), state, params)
        params = gradtx.apply_updates(params, u)
    return params, state


def _specs(tree: Any) -> Any:
    return jax.tree.map(lambda x: (jnp.shape(x), jnp.result_type(x)), tree)


@pytest.mark.parametrize("name", NAMES)
def test_jit_equals_eager_and_compiles_once(name: str) -> None:
    tx = CASES[name][0]()
    params = _params()
    update = jax.jit(tx.update)
    eager, eager_state = _steps(tx, params, 3)
    jitted, jit_state = _steps(tx, params, 3, update)
    assert update._cache_size() == 1  # type: ignore[attr-defined]
    for a, b in zip(
        jax.tree.leaves((eager, eager_state)),
        jax.tree.leaves((jitted, jit_state)),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_state_structure_and_dtypes_are_stable(name: str) -> None:
    tx = CASES[name][0]()
    params = _params()
    state = tx.init(params)
    g = _grads(params, 1)
    # eval_shape traces without compiling: structure and dtypes are static.
    _, new_state = jax.eval_shape(tx.update, g, state, params)
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    assert _specs(new_state) == _specs(state)

    # Hence the update can sit in a lax.cond branch beside "skip this step".
    def maybe_step(skip: jax.Array) -> Any:
        return jax.lax.cond(
            skip,
            lambda: (jax.tree.map(jnp.zeros_like, g), state),
            lambda: tx.update(g, state, params),
        )

    _, s = jax.eval_shape(maybe_step, jnp.asarray(True))
    assert _specs(s) == _specs(state)
    # Every counter is an int32 scalar, also under jax_enable_x64.
    for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]:
        if "count" in jax.tree_util.keystr(path):
            assert leaf.dtype == jnp.int32 and leaf.shape == ()


@pytest.mark.parametrize("name", NAMES)
def test_vmap_over_parameter_sets_equals_a_loop(name: str) -> None:
    tx = CASES[name][0]()
    sets = [_params(seed=s) for s in range(3)]
    grads = [_grads(p, 7) for p in sets]
    batched_p = jax.tree.map(lambda *xs: jnp.stack(xs), *sets)
    batched_g = jax.tree.map(lambda *xs: jnp.stack(xs), *grads)

    @jax.jit
    def batched(ps: dict, gs: dict) -> Any:
        return jax.vmap(tx.update)(gs, jax.vmap(tx.init)(ps), ps)[0]

    @jax.jit
    def single(p: dict, g: dict) -> Any:
        return tx.update(g, tx.init(p), p)[0]

    u = batched(batched_p, batched_g)
    for i, (p, g) in enumerate(zip(sets, grads, strict=True)):
        expected = single(p, g)
        for a, b in zip(jax.tree.leaves(u), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(a[i], b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_through_update_matches_finite_differences(name: str) -> None:
    tx = CASES[name][0]()
    params = _params(jnp.float64)
    state = tx.init(params)
    # Take two steps first so that moments are non-trivial (eagerly: the ops'
    # compiled kernels are shared by every case, a jitted update is not).
    for i in range(2):
        _, state = tx.update(_grads(params, i + 1), state, params)
    g0 = _grads(params, 5)
    direction = _grads(params, 9)

    def f(t: jax.Array) -> jax.Array:
        g = jax.tree.map(lambda a, d: a + t * d, g0, direction)
        u, _ = tx.update(g, state, params)
        return sum(jnp.sum(jnp.sin(x)) for x in jax.tree.leaves(u))

    analytic = jax.jit(jax.grad(f))(jnp.float64(0.0))
    h = 1e-6
    f_jit = jax.jit(f)
    numeric = (f_jit(jnp.float64(h)) - f_jit(jnp.float64(-h))) / (2 * h)
    assert np.isfinite(analytic)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=list(DTYPES))
@pytest.mark.parametrize("name", NAMES)
def test_every_dtype_is_preserved(name: str, dtype: str) -> None:
    make, _, complex_ok = CASES[name]
    dt = DTYPES[dtype]
    tx = make()
    params = _params(dt)
    if dt == jnp.complex64 and not complex_ok:
        with pytest.raises((TypeError, ValueError)):
            tx.update(_grads(params, 1), tx.init(params), params)
        return
    state = tx.init(params)
    init_specs = _specs(state)
    # Eagerly (jit gives the same dtypes: test_jit_equals_eager...), so that
    # the many cases share the ops' compiled kernels instead of compiling.
    u, state = tx.update(_grads(params, 1), state, params)
    new_params = gradtx.apply_updates(params, u)
    for x in jax.tree.leaves((u, new_params)):
        assert x.dtype == dt
    for x in jax.tree.leaves(u):
        assert bool(jnp.all(jnp.isfinite(x)))
    assert _specs(state) == init_specs


@pytest.mark.parametrize("name", NAMES)
def test_empty_pytree(name: str) -> None:
    tx = CASES[name][0]()
    if "mask" in name:  # the mask function indexes the params: not for {}
        pytest.skip("mask function needs the params' keys")
    state = tx.init({})
    u, new_state = jax.jit(tx.update)({}, state, {})
    assert u == {}
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
