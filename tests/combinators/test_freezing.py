"""freeze, selective_transform, set_to_zero."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gradtx

PARAMS = {
    "encoder": {"w": jnp.full((4, 3), 0.5), "b": jnp.full((3,), -1.0)},
    "head": {"w": jnp.full((3, 2), 2.0), "b": jnp.zeros((2,))},
}
GRADS = jax.tree.map(lambda p: jnp.full_like(p, 0.25), PARAMS)


def test_selective_transform_keeps_no_state_for_frozen_leaves() -> None:
    freeze = {"encoder": True, "head": False}
    tx = gradtx.selective_transform(gradtx.adam(0.1), freeze_mask=freeze)
    state = tx.init(PARAMS)
    # Adam's two moments over the head only (6 + 2 floats each) and a count.
    head_floats = sum(x.size for x in jax.tree.leaves(PARAMS["head"]))
    state_floats = sum(x.size for x in jax.tree.leaves(state))
    assert state_floats == 2 * head_floats + 1
    updates, _ = tx.update(GRADS, state, PARAMS)
    assert all(
        float(jnp.abs(x).max()) == 0 for x in jax.tree.leaves(updates["encoder"])
    )
    # Adam's first step is -lr * sign(g) (up to eps), on the head.
    np.testing.assert_allclose(updates["head"]["w"], -0.1, rtol=1e-6)


def test_freeze_zeroes_updates_but_a_preceding_optimizer_keeps_state() -> None:
    tx = gradtx.chain(gradtx.adam(0.1), gradtx.freeze(lambda p: _frozen(p)))
    state = tx.init(PARAMS)
    updates, _ = tx.update(GRADS, state, PARAMS)
    assert all(
        float(jnp.abs(x).max()) == 0 for x in jax.tree.leaves(updates["encoder"])
    )
    np.testing.assert_allclose(updates["head"]["b"], -0.1, rtol=1e-6)
    mu = gradtx.tree_get(state, "mu")
    assert mu["encoder"]["w"].shape == (4, 3)  # documented: optax.freeze's semantics


def _frozen(params: dict) -> dict:
    return {layer: layer == "encoder" for layer in params}


def test_set_to_zero_keeps_shapes_and_dtypes() -> None:
    tree = {"a": jnp.ones((2, 3), jnp.bfloat16), "b": jnp.ones(4, jnp.complex64)}
    out, _ = gradtx.set_to_zero().update(tree, gradtx.EmptyState())
    for x, y in zip(jax.tree.leaves(out), jax.tree.leaves(tree), strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
        assert not np.any(np.asarray(x))


def test_a_numpy_bool_freezes_all_or_nothing_as_in_optax() -> None:
    for flag in (np.array(True), np.array(False), np.bool_(True)):
        for ours, theirs in (
            (gradtx.freeze(flag), optax.freeze(flag)),
            (
                gradtx.selective_transform(gradtx.sgd(1.0), freeze_mask=flag),
                optax.selective_transform(optax.sgd(1.0), freeze_mask=flag),
            ),
        ):
            got, _ = ours.update(GRADS, ours.init(PARAMS), PARAMS)
            want, _ = theirs.update(GRADS, theirs.init(PARAMS), PARAMS)
            for x, y in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
                np.testing.assert_array_equal(x, y)
