"""Mask helpers: resolving a mask tree or function, applying it, the errors
(``gradtx.masked`` is built on them); ``decay_mask``, the weight-decay
convention, on dicts and on Flax NNX state."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gradtx
import gradtx.tree as gt
from gradtx.tree import MaskedNode
from tests.tree import trees

PARAMS = {
    "enc": {"w": jnp.ones((2, 3)), "b": jnp.ones(3), "frozen": None},
    "head": (jnp.ones(2), jnp.ones(())),
}

MASKS: dict[str, Any] = {
    "full": {"enc": {"w": True, "b": False, "frozen": None}, "head": (True, False)},
    "prefix": {"enc": False, "head": True},
    "one_bool": True,
    "function": lambda p: jax.tree.map(lambda x: x.ndim > 1, p),
    "partial": functools.partial(
        lambda p, keep: {"enc": keep, "head": not keep}, keep=True
    ),
}
RESOLVED = {
    "full": {"enc": {"w": True, "b": False, "frozen": None}, "head": (True, False)},
    "prefix": {"enc": {"w": False, "b": False, "frozen": None}, "head": (True, True)},
    "one_bool": {"enc": {"w": True, "b": True, "frozen": None}, "head": (True, True)},
    "function": {
        "enc": {"w": True, "b": False, "frozen": None},
        "head": (False, False),
    },
    "partial": {"enc": {"w": True, "b": True, "frozen": None}, "head": (False, False)},
}


@pytest.mark.parametrize("name", sorted(MASKS))
def test_resolve_mask_gives_one_bool_per_leaf(name: str) -> None:
    resolved = gt.resolve_mask(MASKS[name], PARAMS)
    assert resolved == RESOLVED[name]
    assert trees.same_structure(resolved, PARAMS)


@pytest.mark.parametrize("name", sorted(MASKS))
def test_apply_mask_puts_masked_nodes_where_the_mask_is_false(name: str) -> None:
    resolved = gt.resolve_mask(MASKS[name], PARAMS)
    out = gt.apply_mask(PARAMS, resolved)
    for m, p, o in zip(
        jax.tree.leaves(resolved),
        jax.tree.leaves(PARAMS),
        jax.tree.leaves(out, is_leaf=lambda x: isinstance(x, MaskedNode)),
        strict=True,
    ):
        assert o is p if m else o == MaskedNode()
    assert out["enc"]["frozen"] is None
    if not gt.is_mask_fn(MASKS[name]):  # a prefix mask works without resolving
        same = gt.apply_mask(PARAMS, MASKS[name])
        assert trees.same_structure(same, out)


def test_masks_work_under_jit_and_with_masked_nodes_in_the_params() -> None:
    @jax.jit
    def f(p: Any) -> Any:
        kept = gt.apply_mask(p, gt.resolve_mask(MASKS["function"], p))
        return jax.tree.map(lambda x: 2 * x, kept)

    out = f(PARAMS)
    assert out["enc"]["b"] == MaskedNode() and float(out["enc"]["w"][0, 0]) == 2.0
    # Masked params seen by a nested mask: MaskedNode is an empty subtree.
    inner = gt.apply_mask(PARAMS, RESOLVED["prefix"])
    assert gt.resolve_mask(lambda p: jax.tree.map(lambda _: True, p), inner) == {
        "enc": {"w": MaskedNode(), "b": MaskedNode(), "frozen": None},
        "head": (True, True),
    }


def test_is_mask_fn_calls_plain_functions_only() -> None:
    assert gt.is_mask_fn(MASKS["function"]) and gt.is_mask_fn(MASKS["partial"])
    assert not gt.is_mask_fn(MASKS["full"]) and not gt.is_mask_fn(True)

    @jax.tree_util.register_pytree_node_class
    class CallableModule:  # like an NNX module: a pytree that is callable
        def __init__(self, flag: Any) -> None:
            self.flag = flag

        def __call__(self, x: Any) -> Any:
            return x

        def tree_flatten(self) -> Any:
            return (self.flag,), None

        @classmethod
        def tree_unflatten(cls, _: Any, children: Any) -> Any:
            return cls(*children)

    assert not gt.is_mask_fn(CallableModule(True))
    module_params = CallableModule(jnp.ones(2))
    assert gt.resolve_mask(CallableModule(True), module_params).flag is True


def test_numpy_bools_are_mask_leaves_and_become_python_bools() -> None:
    """NumPy bools are known without tracing (optax accepts them too); JAX
    arrays are not."""
    mask = {"enc": np.array(True), "head": (np.bool_(False), np.array(True))}
    gt.check_mask(mask)
    resolved = gt.resolve_mask(mask, PARAMS)
    assert all(type(m) is bool for m in jax.tree.leaves(resolved))
    assert resolved == gt.resolve_mask({"enc": True, "head": (False, True)}, PARAMS)
    for bad in (np.array([True]), np.array(1), jnp.array(True)):
        with pytest.raises(TypeError, match="mask leaves must be Python bools"):
            gt.check_mask({"a": bad})


def test_bad_masks_say_what_is_wrong() -> None:
    with pytest.raises(TypeError, match=r"mask\['head'\]\[0\] is Array\(True"):
        gt.resolve_mask({"enc": True, "head": (jnp.array(True), True)}, PARAMS)
    with pytest.raises(TypeError, match="mask leaves must be Python bools"):
        gt.check_mask({"a": 1})
    gt.check_mask(MASKS["function"])  # checked when called
    with pytest.raises(TypeError, match="Call a mask function first"):
        gt.apply_mask(PARAMS, MASKS["function"])
    with pytest.raises(gradtx.TreeMismatchError) as err:
        gt.resolve_mask({"enc": {"w": True, "bias": True}, "head": True}, PARAMS)
    assert str(err.value) == (
        "resolve_mask: mask['enc'] is dict(['bias'], ['w']) but params['enc'] is "
        "dict(['b'], ['frozen'], ['w']): a mask must have the structure of the "
        "params, or a prefix of it (one bool for a whole subtree)."
    )
    with pytest.raises(
        ValueError, match=r"apply_mask: mask\['head'\] is tuple\(\[0\]\) but tree"
    ):
        gt.apply_mask(PARAMS, {"enc": True, "head": (True,)})
    with pytest.raises(TypeError, match="mask leaves"):
        gt.resolve_mask(lambda p: {"enc": 1, "head": True}, PARAMS)


def test_masked_node_is_the_one_class_of_gradtx() -> None:
    assert gt.MaskedNode is gradtx.MaskedNode


def test_decay_mask_on_a_nested_dict() -> None:
    params = {
        "conv": {"kernel": jnp.ones((3, 3, 2, 4)), "bias": jnp.ones(4)},
        "norm": {"scale": jnp.ones(4), "bias": jnp.ones(4)},
        "embed": {"embedding": jnp.ones((10, 4))},
        "layers": [
            {"w": jnp.ones((4, 4))},
            {"w": jnp.ones((4, 4)), "gain": jnp.ones(4)},
        ],
        "temperature": jnp.ones(()),
    }
    expected = {
        "conv": {"kernel": True, "bias": False},
        "norm": {"scale": False, "bias": False},
        "embed": {"embedding": True},
        "layers": [{"w": True}, {"w": True, "gain": False}],
        "temperature": False,
    }
    assert gradtx.decay_mask(params) == expected


def test_decay_mask_names_are_configurable() -> None:
    params = {"bias": jnp.ones((2, 2)), "w": jnp.ones((2, 2)), "v": jnp.ones(3)}
    mask = functools.partial(gradtx.decay_mask, no_decay_names={"w"}, min_ndim=1)
    assert mask(params) == {"bias": True, "w": False, "v": True}


def test_nnx_model_with_adamw_and_decay_mask_decays_only_weights() -> None:
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.conv = nnx.Conv(2, 3, (3, 3), rngs=rngs)
            self.bn = nnx.BatchNorm(3, rngs=rngs)
            self.linear = nnx.Linear(3, 2, rngs=rngs)
            self.ln = nnx.LayerNorm(2, rngs=rngs)

        def __call__(self, x: jax.Array) -> jax.Array:
            x = nnx.relu(self.bn(self.conv(x)))
            return self.ln(self.linear(x.mean(axis=(1, 2))))

    model = Net(nnx.Rngs(0))
    # Make every param nonzero, so that decay would show on each of them.
    for _, var in nnx.iter_graph(model):
        if isinstance(var, nnx.Param):
            var[...] = jnp.full_like(var[...], 0.5)
    before = jax.tree.map(jnp.array, nnx.state(model, nnx.Param))
    lr, wd = 0.1, 0.5
    opt = nnx.Optimizer(
        model, gradtx.adamw(lr, weight_decay=wd, mask=gradtx.decay_mask), wrt=nnx.Param
    )
    # Zero gradients: Adam's step is 0, so any change is decay, -lr*wd*theta.
    opt.update(model, jax.tree.map(jnp.zeros_like, nnx.state(model, nnx.Param)))
    after = nnx.state(model, nnx.Param)
    decayed = {"conv/kernel", "linear/kernel"}
    seen = set()
    flat_before = jax.tree_util.tree_flatten_with_path(before)[0]
    for (path, old), new in zip(flat_before, jax.tree.leaves(after), strict=True):
        name = "/".join(
            str(k.key) for k in path if isinstance(k, jax.tree_util.DictKey)
        )
        seen.add(name)
        factor = 1 - lr * wd if name in decayed else 1.0
        np.testing.assert_allclose(new, factor * old, rtol=1e-6, err_msg=name)
    assert decayed <= seen and {"bn/scale", "bn/bias", "ln/scale"} <= seen
