"""batch_shape, unwrap_random_key_data and the tree_utils names, vs optax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
import gradtx.tree as gt


def test_batch_shape_broadcasts_like_optax() -> None:
    tree = {"w": jnp.arange(3.0), "b": jnp.asarray(2.0)}
    ours, theirs = gt.batch_shape(tree, (2, 4)), optax.tree.batch_shape(tree, (2, 4))
    for key in tree:
        assert ours[key].shape == theirs[key].shape == (2, 4, *tree[key].shape)
        np.testing.assert_array_equal(ours[key][1, 3], np.asarray(tree[key]))
    with pytest.raises(TypeError, match="batch_shape: shape must be a tuple"):
        gt.batch_shape(tree, 3)  # type: ignore[arg-type]


def test_unwrap_random_key_data_gives_the_raw_key() -> None:
    key = jax.random.key(3)
    tree = {"k": key, "x": jnp.ones(2)}
    ours = gt.unwrap_random_key_data(tree)
    np.testing.assert_array_equal(ours["k"], jax.random.key_data(key))
    np.testing.assert_array_equal(
        ours["k"], optax.tree.unwrap_random_key_data(tree)["k"]
    )
    assert ours["x"] is tree["x"]


def test_tree_utils_has_every_optax_name_as_gradtx_tree_s_function() -> None:
    wanted = {
        n
        for n in dir(optax.tree_utils)
        if n.startswith("tree_") or n == "NamedTupleKey"
    }
    assert set(gradtx.tree_utils.__all__) == wanted
    for name in wanted:
        short = name if name == "NamedTupleKey" else name[len("tree_") :]
        assert getattr(gradtx.tree_utils, name) is getattr(gt, short)
    assert gradtx.tree_map_params is gt.map_params
