"""Mask helpers: resolving a mask tree or function, applying it, the errors.

They port ``gradtx.combinators._masking`` (``_resolve``, ``_select``,
``_is_mask_fn``), which will import them; while both exist, a parity test
checks that they agree.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import jax
import jax.numpy as jnp
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


def test_agrees_with_the_combinators_module_while_it_has_its_own_copy() -> None:
    masking = pytest.importorskip("gradtx.combinators._masking")
    resolve = getattr(masking, "_resolve", None)
    select = getattr(masking, "_select", None)
    if resolve is None or select is None:
        pytest.skip("gradtx.combinators._masking uses gradtx.tree now")
    if "fn" in inspect.signature(resolve).parameters:  # who complains, first
        resolve = functools.partial(resolve, "masked")
        select = functools.partial(select, "masked")

    def canonical(t: Any) -> Any:  # either module's MaskedNode as one marker
        masked = lambda x: type(x).__name__ == "MaskedNode"  # noqa: E731
        return jax.tree.map(lambda x: "masked" if masked(x) else x, t, is_leaf=masked)

    for name, mask in MASKS.items():
        ours = gt.apply_mask(PARAMS, gt.resolve_mask(mask, PARAMS))
        theirs = select(resolve(mask, PARAMS), PARAMS, True, "params")
        pairs = zip(
            jax.tree.leaves(canonical(ours)),
            jax.tree.leaves(canonical(theirs)),
            strict=True,
        )
        assert all(a is b or a == b == "masked" for a, b in pairs), name
        assert trees.same_structure(canonical(ours), canonical(theirs)), name
        assert gt.is_mask_fn(mask) == masking._is_mask_fn(mask)


@pytest.mark.xfail(
    strict=True, reason="until gradtx.combinators imports MaskedNode from gradtx.tree"
)
def test_masked_node_is_the_one_class_of_gradtx() -> None:
    assert gt.MaskedNode is gradtx.MaskedNode
