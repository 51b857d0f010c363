"""Finding the parts of a state: ``get_all_with_path`` and ``map_params`` give
optax's results."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
import gradtx.tree as gt
from tests.tree import trees

PARAMS = {"w": jnp.zeros((2, 3)), "b": jnp.zeros(3)}


class Inner(NamedTuple):
    count: Any
    learning_rate: Any


STATES: dict[str, Any] = {
    "optax_adam": optax.adam(1e-3).init(PARAMS),
    "optax_injected_chain": optax.chain(
        optax.inject_hyperparams(optax.sgd)(learning_rate=1.0),
        optax.chain(
            optax.adam(1.0), optax.inject_hyperparams(optax.adam)(learning_rate=1e-4)
        ),
    ).init(PARAMS),
    "optax_schedule": optax.inject_hyperparams(optax.sgd)(
        learning_rate=lambda n: 1 / (n + 1)
    ).init(PARAMS),
    "gradtx_named_chain": gradtx.named_chain(
        ("clip", gradtx.clip_by_global_norm(1.0)), ("adam", gradtx.adam(1e-3))
    ).init(PARAMS),
    "nested_dicts": {"a": {"a": 1.0, "count": 2}, "b": [{"a": 3}], "c": None},
    "namedtuple_in_dict": {"x": Inner(count=1, learning_rate={"count": 5})},
}
KEYS = ["count", "learning_rate", "a", "mu", "ScaleByAdamState", "Inner", "missing"]


def _plain(path: tuple[Any, ...]) -> tuple[Any, ...]:
    """A path with either library's NamedTupleKey as a comparable tuple."""
    return tuple(
        ("NamedTupleKey", k.tuple_name, k.name) if hasattr(k, "tuple_name") else k
        for k in path
    )


def _same(a: Any, b: Any) -> bool:
    if not trees.same_structure(a, b):
        return False
    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


@pytest.mark.parametrize("state", sorted(STATES))
def test_get_all_with_path_matches_optax(state: str) -> None:
    tree = STATES[state]
    for key in KEYS:
        ours = gt.get_all_with_path(tree, key)
        theirs = optax.tree.get_all_with_path(tree, key)
        assert [_plain(p) for p, _ in ours] == [_plain(p) for p, _ in theirs], key
        assert all(_same(a, b) for (_, a), (_, b) in zip(ours, theirs, strict=True))
        arrays = lambda _, v: isinstance(v, jax.Array)  # noqa: E731
        ours = gt.get_all_with_path(tree, key, arrays)
        assert len(ours) == len(optax.tree.get_all_with_path(tree, key, arrays))


def test_paths_print_like_optax_and_work_under_jit() -> None:
    state = STATES["optax_injected_chain"]
    paths = [jax.tree_util.keystr(p) for p, _ in gt.get_all_with_path(state, "count")]
    want = [
        jax.tree_util.keystr(p) for p, _ in optax.tree.get_all_with_path(state, "count")
    ]
    assert paths == want and paths[0] == "[0]InjectStatefulHyperparamsState.count"

    def adam_count(path: Any, _: Any) -> bool:  # either library's NamedTupleKey
        return getattr(path[-1], "tuple_name", None) == "ScaleByAdamState"

    @jax.jit
    def counts(s: Any) -> Any:
        return [v for _, v in gt.get_all_with_path(s, "count", adam_count)]

    want = optax.tree.get_all_with_path(state, "count", adam_count)
    assert len(want) == 2 and [int(c) for c in counts(state)] == [0, 0]
    assert all(
        isinstance(p[-1], gt.NamedTupleKey)
        for p, _ in gt.get_all_with_path(state, "count", adam_count)
    )


@pytest.mark.parametrize(
    "tx",
    [
        optax.adam(1e-3),
        optax.chain(optax.add_decayed_weights(1e-4), optax.sgd(0.1, 0.9)),
    ],
)
def test_map_params_matches_optax(tx: Any) -> None:
    state = tx.init(PARAMS)
    specs = {"w": "model", "b": "replicated"}
    options: list[dict[str, Any]] = [{}, {"transform_non_params": lambda _: None}]
    for kwargs in options:
        ours = gt.map_params(tx, lambda _, s: s, state, specs, **kwargs)
        theirs = optax.tree.map_params(tx, lambda _, s: s, state, specs, **kwargs)
        assert ours == theirs
    ours = gt.map_params(tx.init, lambda v: v + 1, state)
    theirs = optax.tree.map_params(tx.init, lambda v: v + 1, state)
    assert _same(ours, theirs)


def test_map_params_finds_the_moments_of_gradtx_states() -> None:
    tx = gradtx.named_chain(
        ("clip", gradtx.clip_by_global_norm(1.0)), ("adam", gradtx.adam(1e-3))
    )
    state = tx.init(PARAMS)
    specs = gt.map_params(
        tx,
        lambda _, s: s,
        state,
        {"w": "model", "b": "data"},
        transform_non_params=lambda _: "replicated",
    )
    assert gt.get(specs, "mu") == gt.get(specs, "nu") == {"w": "model", "b": "data"}
    assert gt.get(specs, "count") == "replicated"


def test_map_params_says_when_an_init_needs_the_real_params() -> None:
    tx = gradtx.flatten(gradtx.adam(1e-3))  # init packs the leaves: reads them
    with pytest.raises(ValueError, match=r"^map_params: state does not have the"):
        gt.map_params(tx, lambda x: x, tx.init(PARAMS))
    array_init = gradtx.GradientTransformation(
        lambda p: jnp.zeros_like(p), gradtx.identity().update
    )
    with pytest.raises(ValueError, match=r"^map_params: initable's init failed on"):
        gt.map_params(array_init, lambda x: x, jnp.zeros(2))


@pytest.mark.parametrize("as_fn", [False, True], ids=["mask_tree", "mask_fn"])
def test_map_params_maps_masked_states_as_optax(as_fn: bool) -> None:
    """masked (with a mask tree or function), partition and selective_transform
    keep the stand-in for the params whole, as optax's masked does."""
    mask = {"w": True, "b": False}
    arg: Any = (lambda _: mask) if as_fn else mask
    frozen = {"w": False, "b": True}
    labels = {"w": "a", "b": "s"}
    pairs = [
        (gradtx.masked(gradtx.adam(1e-3), arg), optax.masked(optax.adam(1e-3), arg)),
        (
            gradtx.partition({"a": gradtx.adam(1e-3), "s": gradtx.scale(0.5)}, labels),
            optax.partition({"a": optax.adam(1e-3), "s": optax.scale(0.5)}, labels),
        ),
        (
            gradtx.selective_transform(gradtx.adam(1e-3), freeze_mask=frozen),
            optax.selective_transform(optax.adam(1e-3), freeze_mask=frozen),
        ),
    ]
    specs = {"w": "model", "b": "data"}
    for ours_tx, theirs_tx in pairs:
        ours = gt.map_params(ours_tx, lambda v: v + 1, ours_tx.init(PARAMS))
        theirs = optax.tree.map_params(
            theirs_tx, lambda v: v + 1, theirs_tx.init(PARAMS)
        )
        assert [np.asarray(x).tolist() for x in jax.tree.leaves(ours)] == [
            np.asarray(x).tolist() for x in jax.tree.leaves(theirs)
        ]
        # Masked-out leaves are MaskedNodes, seen with is_leaf (optax's recipe).
        named = gt.map_params(
            ours_tx,
            lambda v, spec: None if isinstance(v, gt.MaskedNode) else spec,
            ours_tx.init(PARAMS),
            specs,
            is_leaf=lambda v: isinstance(v, gt.MaskedNode),
            transform_non_params=lambda _: None,
        )
        assert gt.get_all_with_path(named, "mu")[0][1] == {"w": "model", "b": None}
