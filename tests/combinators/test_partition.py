"""partition: semantics and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

PARAMS = {
    "encoder": {"w": jnp.full((4, 3), 0.5), "b": jnp.full((3,), -1.0)},
    "head": {"w": jnp.full((3, 2), 2.0), "b": jnp.zeros((2,))},
}
GRADS = jax.tree.map(lambda p: jnp.full_like(p, 0.25), PARAMS)


def _labels(params: dict) -> dict:
    return {
        layer: {name: "bias" if name == "b" else "weight" for name in leaves}
        for layer, leaves in params.items()
    }


def test_partition_applies_each_transformation_to_its_own_leaves() -> None:
    tx = gradtx.partition(
        {"weight": gradtx.sgd(0.1, momentum=0.5), "bias": gradtx.scale(3.0)}, _labels
    )
    updates, state = tx.update(GRADS, tx.init(PARAMS), PARAMS)
    # By hand: the first momentum step is -0.1 * g on weights; 3 * g on biases.
    np.testing.assert_allclose(updates["encoder"]["w"], -0.025)
    np.testing.assert_allclose(updates["head"]["b"], 0.75)
    # Each label's state covers only its leaves: no velocity for the biases.
    velocity = gradtx.tree_get(state.inner_states["weight"], "trace")
    assert velocity["encoder"]["b"] == gradtx.MaskedNode()
    assert velocity["head"]["w"].shape == (3, 2)


def test_partition_with_a_prefix_tree_of_labels() -> None:
    tx = gradtx.multi_transform(
        {"frozen": gradtx.set_to_zero(), "train": gradtx.sgd(1.0)},
        {"encoder": "frozen", "head": "train"},
    )
    updates, _ = tx.update(GRADS, tx.init(PARAMS), PARAMS)
    assert all(
        float(jnp.abs(x).max()) == 0 for x in jax.tree.leaves(updates["encoder"])
    )
    np.testing.assert_allclose(updates["head"]["w"], -0.25)


def test_a_label_without_a_transformation_names_its_path() -> None:
    tx = gradtx.partition({"weight": gradtx.sgd(0.1)}, _labels)
    with pytest.raises(ValueError, match=r"param_labels\['encoder'\]\['b'\] is 'bias'"):
        tx.init(PARAMS)


def test_a_transformation_of_no_leaves_is_an_empty_group_as_in_optax() -> None:
    # "embed" labels no leaf: an empty group, as optax allows (a config that
    # freezes nothing in this model); the others' updates are unchanged.
    runs = {}
    for lib in (gradtx, optax):
        tx = lib.partition(
            {"weight": lib.sgd(0.1), "bias": lib.sgd(0.1), "embed": lib.adam(1.0)},
            _labels,
        )
        state = tx.init(PARAMS)
        runs[lib.__name__] = tx.update(PARAMS, state, PARAMS)[0]
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6),
        runs["gradtx"],
        runs["optax"],
    )
    jax.tree.map(
        lambda g, p: np.testing.assert_allclose(g, -0.1 * p, rtol=1e-6),
        runs["gradtx"],
        PARAMS,
    )


def test_partition_rejects_bad_transforms() -> None:
    with pytest.raises(TypeError, match="non-empty mapping"):
        gradtx.partition({}, _labels)
    with pytest.raises(TypeError, match=r"transforms\['weight'\].*Did you mean adam"):
        gradtx.partition({"weight": gradtx.adam}, _labels)  # type: ignore[dict-item]
