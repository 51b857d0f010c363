"""The public API of ``gradtx.tree``: one ``__all__``, and optax's signatures
for every name the two share."""

from __future__ import annotations

import inspect
import types

import optax
import pytest

import gradtx.tree as gt

# The optax.tree names gradtx.tree provides, with optax's arguments.
SHARED = [
    "add",
    "add_scale",
    "allclose",
    "batch_shape",
    "bias_correction",
    "cast",
    "cast_like",
    "clip",
    "conj",
    "div",
    "dtype",
    "full_like",
    "get_all_with_path",
    "map_params",
    "max",
    "min",
    "mul",
    "norm",
    "ones_like",
    "random_like",
    "real",
    "scale",
    "size",
    "split_key_like",
    "sub",
    "sum",
    "unwrap_random_key_data",
    "update_infinity_moment",
    "update_moment",
    "update_moment_per_elem_norm",
    "vdot",
    "where",
    "zeros_like",
]
# Shared names with gradtx's own semantics (documented in gradtx.tree._state).
GRADTX_SEMANTICS = ["get", "set"]
GRADTX_ONLY = [
    "Mask",
    "MaskedNode",
    "NamedTupleKey",
    "all_finite",
    "apply_mask",
    "check_mask",
    "decay_mask",
    "is_mask_fn",
    "resolve_mask",
]


def test_all_lists_exactly_the_public_names_once_sorted() -> None:
    public = {
        n
        for n, v in vars(gt).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert gt.__all__ == sorted(gt.__all__)
    assert len(gt.__all__) == len(set(gt.__all__))
    assert set(gt.__all__) == public
    assert public == set(SHARED + GRADTX_SEMANTICS + GRADTX_ONLY)


def test_shared_names_are_in_optax_tree() -> None:
    missing = [n for n in SHARED + GRADTX_SEMANTICS if not hasattr(optax.tree, n)]
    assert not missing
    assert not [n for n in GRADTX_ONLY if hasattr(optax.tree, n)]


def _params(fn: object) -> list[tuple[str, object, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", SHARED)
def test_signature_is_optax(name: str) -> None:
    assert _params(getattr(gt, name)) == _params(getattr(optax.tree, name))


@pytest.mark.parametrize("name", sorted(gt.__all__))
def test_every_public_name_is_documented_with_an_example(name: str) -> None:
    obj = getattr(gt, name)
    if name == "Mask":  # a type alias
        return
    doc = inspect.getdoc(obj) or ""
    assert doc.splitlines()[0].endswith("."), name
    assert ">>> " in doc, name
