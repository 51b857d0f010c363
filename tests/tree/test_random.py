"""Random trees: the same keys and samples as optax.tree, eagerly and under jit."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx.tree as gt
from tests.tree import trees
from tests.tree.trees import BF16, C64, F32, I32

TARGET = {"w": jnp.zeros((2, 3), F32), "b": (jnp.zeros((), BF16), None)}
TARGET["z"] = jnp.zeros(2, C64)
REAL_TARGET = gt.real(TARGET)  # for samplers of real dtypes only


def _no_out_sharding(key: jax.Array, shape: Any, dtype: Any) -> jax.Array:
    return jax.random.uniform(key, shape, dtype)


CASES: trees.Cases = {
    "normal": (lambda m, k, t: m.random_like(k, t), (jax.random.key(0), TARGET)),
    "rademacher_int32": (
        lambda m, k, t: m.random_like(k, t, jax.random.rademacher, I32),
        (jax.random.key(2), REAL_TARGET),
    ),
    "no_out_sharding": (  # a sampler without ``out_sharding``
        lambda m, k, t: m.random_like(k, t, sampler=_no_out_sharding),
        (jax.random.PRNGKey(4), REAL_TARGET),
    ),
}
JITTED = trees.jit_all(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_random_like_matches_optax(name: str) -> None:
    fn, args = CASES[name]
    jitted, want = JITTED()[name]  # optax's, under jit
    got = fn(gt, *args)
    trees.assert_close(got, want)
    trees.assert_close(jitted, want)
    _, (_, target) = CASES[name]
    dtype = {"rademacher_int32": I32}  # else the target's
    for x, t in zip(jax.tree.leaves(got), jax.tree.leaves(target), strict=True):
        assert x.shape == t.shape and x.dtype == dtype.get(name, t.dtype)


def _data(t: Any) -> list[np.ndarray]:
    """The bits of each key (typed ``key`` or legacy ``PRNGKey``)."""
    typed = lambda k: jax.dtypes.issubdtype(k.dtype, jax.dtypes.prng_key)  # noqa: E731
    return [
        np.asarray(jax.random.key_data(k) if typed(k) else k)
        for k in jax.tree.leaves(t)
    ]


@pytest.mark.parametrize("key", [jax.random.key(0), jax.random.PRNGKey(1)])
def test_split_key_like_matches_optax(key: jax.Array) -> None:
    got, jitted = trees.eager_and_jit(gt.split_key_like, key, TARGET)
    want = optax.tree.split_key_like(key, TARGET)
    assert trees.same_structure(got, TARGET)
    for g, j, w in zip(_data(got), _data(jitted), _data(want), strict=True):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(j, w)
    assert gt.split_key_like(key, {"none": None}) == {"none": None}
