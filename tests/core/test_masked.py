"""masked: apply a transformation to a subset of the leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx

F32 = jnp.float32
PARAMS = {
    "dense": {"kernel": jnp.ones((3, 2), F32), "bias": jnp.ones(2, F32)},
    "norm": {"scale": jnp.ones(2, F32)},
}
GRADS = jax.tree.map(lambda x: 0.5 * x, PARAMS)


def test_masked_out_leaves_pass_through_and_hold_no_state() -> None:
    mask = {"dense": {"kernel": True, "bias": False}, "norm": False}  # a prefix tree
    tx = gradtx.masked(gradtx.adam(0.1), mask)
    state = tx.init(PARAMS)
    # Only the kernel has moments: 2 moments x 6 floats + the counter.
    assert sum(x.size for x in jax.tree.leaves(state)) == 2 * 6 + 1
    u, _ = tx.update(GRADS, state, PARAMS)
    np.testing.assert_allclose(u["dense"]["kernel"], -0.1, rtol=1e-6)
    assert u["dense"]["bias"] is GRADS["dense"]["bias"]
    assert u["norm"]["scale"] is GRADS["norm"]["scale"]


def test_matches_optax_masked_with_a_mask_function() -> None:
    def mask_fn(p: Any) -> Any:
        return jax.tree.map(lambda x: x.ndim > 1, p)

    ours = gradtx.masked(gradtx.adam(0.1), mask_fn)
    theirs = optax.masked(optax.adam(0.1), mask_fn)
    so, st = ours.init(PARAMS), theirs.init(PARAMS)
    po = pt = PARAMS
    for i in range(10):
        uo, so = ours.update(
            jax.tree.map(lambda x, k=i: jnp.sin(x * (k + 1)), po), so, po
        )
        ut, st = theirs.update(
            jax.tree.map(lambda x, k=i: jnp.sin(x * (k + 1)), pt), st, pt
        )
        po, pt = gradtx.apply_updates(po, uo), optax.apply_updates(pt, ut)
    for a, b in zip(jax.tree.leaves(po), jax.tree.leaves(pt), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


@jax.tree_util.register_pytree_node_class
@dataclass
class CallableModule:
    """A pytree that is also callable, like a Flax NNX or equinox module."""

    kernel: Any
    bias: Any

    def __call__(self, x: Any) -> Any:
        raise AssertionError("a callable pytree must not be called as a mask function")

    def tree_flatten(self) -> tuple[tuple[Any, Any], None]:
        return (self.kernel, self.bias), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: Any) -> CallableModule:
        return cls(*children)


def test_a_callable_pytree_is_a_mask_tree_not_a_mask_function() -> None:
    params = CallableModule(jnp.ones((2, 2), F32), jnp.ones(2, F32))
    tx = gradtx.masked(gradtx.scale(0.0), CallableModule(True, False))
    u, _ = tx.update(params, tx.init(params), params)
    np.testing.assert_array_equal(u.kernel, 0.0)
    np.testing.assert_array_equal(u.bias, 1.0)


def _scale_by_tags(lib: Any = gradtx) -> Any:
    """Multiplies each update by its leaf of the ``tags`` extra argument (a
    ``lib.GradientTransformationExtraArgs``: optax drops the extra arguments
    of a class it does not know)."""

    def update(updates: Any, state: Any, params: Any = None, **kw: Any) -> Any:
        return jax.tree.map(lambda u, t: u * t, updates, kw["tags"]), state

    return lib.GradientTransformationExtraArgs(lambda p: gradtx.EmptyState(), update)


def test_mask_compatible_extra_args_masks_trees_shaped_like_the_updates() -> None:
    """As optax's keyword: the inner transformation gets only its leaves of an
    extra argument shaped like the updates; others (a scalar) pass as they are."""
    params = {"w": jnp.ones(2), "b": jnp.full(3, 2.0)}
    tags = {"w": jnp.full(2, 3.0), "b": jnp.full(3, 5.0)}
    mask = {"w": True, "b": False}
    got = {}
    for lib in (gradtx, optax):
        tx = lib.masked(_scale_by_tags(lib), mask, mask_compatible_extra_args=True)
        got[lib.__name__], _ = tx.update(
            params, tx.init(params), params, tags=tags, lr=1
        )
        labels = {"w": "a", "b": "b"}
        part = lib.partition(
            {"a": _scale_by_tags(lib), "b": _scale_by_tags(lib)},
            labels,
            mask_compatible_extra_args=True,
        )
        got[lib.__name__ + "p"], _ = part.update(
            params, part.init(params), params, tags=tags
        )
    np.testing.assert_array_equal(got["gradtx"]["w"], [3.0, 3.0])  # 1 * 3
    np.testing.assert_array_equal(got["gradtx"]["b"], [2.0, 2.0, 2.0])  # untouched
    np.testing.assert_array_equal(got["gradtxp"]["b"], [10.0, 10.0, 10.0])
    for k in params:
        np.testing.assert_array_equal(got["gradtx"][k], got["optax"][k])
        np.testing.assert_array_equal(got["gradtxp"][k], got["optaxp"][k])
    # Without it the inner transformation gets the whole tree: a mismatch.
    plain = gradtx.masked(_scale_by_tags(), mask)
    with pytest.raises(ValueError):
        plain.update(params, plain.init(params), params, tags=tags)


def test_masked_is_an_extra_args_transformation_as_in_optax() -> None:
    """optax's masked, partition, freeze and selective_transform return
    GradientTransformationExtraArgs; so do gradtx's."""
    mask = {"w": True, "b": False}
    built = [
        (gradtx.masked(gradtx.sgd(0.1), mask), optax.masked(optax.sgd(0.1), mask)),
        (
            gradtx.partition({0: gradtx.sgd(0.1)}, 0),
            optax.partition({0: optax.sgd(0.1)}, 0),
        ),
        (gradtx.freeze(mask), optax.freeze(mask)),
        (
            gradtx.selective_transform(gradtx.sgd(0.1), freeze_mask=mask),
            optax.selective_transform(optax.sgd(0.1), freeze_mask=mask),
        ),
    ]
    for ours, theirs in built:
        assert isinstance(theirs, optax.GradientTransformationExtraArgs)
        assert isinstance(ours, gradtx.GradientTransformationExtraArgs)
