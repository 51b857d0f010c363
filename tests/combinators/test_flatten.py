"""flatten: the same updates as the unpacked transformation, on packed state."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
from tests.catalogue.cases import CASES, OPTIMIZER_NAMES

# "w" (1,200 elements) stays a leaf at max_leaf_size=500; the rest are packed.
SHAPES = {"w": (40, 30), "b": (30,), "s": (5,), "emb": (3, 4), "t": ()}
MAX = 500


def _tree(seed: int, dtypes: dict[str, Any] | None = None) -> dict[str, jax.Array]:
    rng = np.random.default_rng(seed)
    dtypes = dtypes or {}
    return {
        k: jnp.asarray(rng.normal(size=shape), dtypes.get(k, jnp.float32))
        for k, shape in SHAPES.items()
    }


def _run(tx: Any, params: Any, steps: int = 6) -> Any:
    @jax.jit
    def step(params: Any, state: Any, grads: Any) -> Any:
        updates, state = tx.update(grads, state, params)
        return gradtx.apply_updates(params, updates), state

    state = tx.init(params)
    for i in range(steps):
        params, state = step(params, state, _tree(100 + i))
    return params, state


def _assert_close(a: Any, b: Any, tol: float = 1e-6) -> None:
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(
            np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=tol, atol=tol
        )


# Rules that are not element-wise: packing small leaves into one vector makes
# them one layer (norms per leaf: trust ratios, NovoGrad's second moment,
# Adafactor's clipping and relative step; SM3's and Adafactor's per-axis
# statistics of matrices) or draws other noise (a key per leaf). flatten runs
# them, but not as unpacked.
PER_LEAF_RULES = {"fromage", "lars_decayed_grad_norm", "novograd", "noisy_sgd"}
PER_LEAF_RULES |= {"adafactor", "adafactor_pytorch", "sm3"}
# Muon orthogonalizes each matrix: packed into the vector, a small matrix
# takes Muon's AdamW instead.
PER_LEAF_RULES |= {"muon"}
# State that stacks copies of each leaf along a leading axis (L-BFGS's memory
# of memory_size pairs): packed, it stacks the packed vector.
STACKED = {"lbfgs": 3}


@pytest.mark.parametrize("name", sorted(n for n in OPTIMIZER_NAMES if "mask" not in n))
def test_flatten_matches_the_unpacked_transformation(name: str) -> None:
    if name in PER_LEAF_RULES:
        pytest.skip("a per-leaf rule: packing leaves changes it")
    factory = CASES[name][0]
    params = _tree(0)
    expected, _ = _run(factory(), params)
    got, state = _run(gradtx.flatten(factory(), max_leaf_size=MAX), params)
    _assert_close(got, expected)
    # The state is over one packed vector plus the large leaf, not per leaf.
    for flat in jax.tree.leaves(
        state, is_leaf=lambda x: isinstance(x, gradtx.Flattened)
    ):
        if isinstance(flat, gradtx.Flattened):
            small = sum(int(np.prod(s)) for k, s in SHAPES.items() if k != "w")
            lead = flat.packed[0].shape[:-1] if name in STACKED else ()
            assert lead in {(), (STACKED.get(name),)}
            assert [x.shape for x in flat.packed] == [(*lead, small)]
            assert [x.shape for x in flat.leaves] == [(*lead, *SHAPES["w"])]


def test_flatten_everything_matches_optax_flatten() -> None:
    params = _tree(0)
    got, _ = _run(gradtx.flatten(gradtx.adamw(0.05), max_leaf_size=None), params)
    expected, _ = _run(optax.flatten(optax.adamw(0.05)), params)
    _assert_close(got, expected)


def test_state_size_does_not_grow_with_the_number_of_small_leaves() -> None:
    def n_state_arrays(n: int) -> int:
        params = {f"b{i:03d}": jnp.zeros((3,)) for i in range(n)}
        return len(jax.tree.leaves(gradtx.flatten(gradtx.adam(1e-3)).init(params)))

    # count, mu and nu: three arrays however many leaves (unpacked: 1 + 2n).
    assert n_state_arrays(5) == n_state_arrays(50) == 3


def test_one_packed_vector_per_dtype_and_dtypes_kept() -> None:
    dtypes = {"b": jnp.bfloat16, "s": jnp.bfloat16}
    params = _tree(0, dtypes)
    state = gradtx.flatten(gradtx.adam(1e-3)).init(params)
    mu = gradtx.tree_get(state, "mu")
    assert sorted(str(x.dtype) for x in mu.packed) == ["bfloat16", "float32"]
    assert mu.leaves == ()  # the default threshold packs all of these
    grads = {k: v.astype(params[k].dtype) for k, v in _tree(1).items()}
    unpacked = gradtx.adam(1e-3)
    expected = unpacked.update(grads, unpacked.init(params), params)[0]
    got = gradtx.flatten(gradtx.adam(1e-3)).update(grads, state, params)[0]
    _assert_close(got, expected, tol=1e-2)


def test_works_in_make_step_with_every_buffer_donated() -> None:
    tx = gradtx.flatten(gradtx.adam(0.05), max_leaf_size=MAX)
    params = _tree(0)
    state = tx.init(params)
    compiled = gradtx.make_step(tx).lower(params, state, params).compile()
    nbytes = sum(x.nbytes for x in jax.tree.leaves((params, state)))
    assert compiled.memory_analysis().alias_size_in_bytes == nbytes


def test_none_leaves_and_extra_args_pass_through() -> None:
    seen = {}

    def update(updates: Any, state: Any, params: Any = None, **extra: Any) -> Any:
        seen.update(extra)
        return updates, state

    inner = gradtx.GradientTransformation(lambda p: gradtx.EmptyState(), update)
    tx = gradtx.flatten(inner)
    params = {"a": jnp.ones(2), "n": None}
    out, _ = tx.update(params, tx.init(params), params, loss=1.5)
    assert out["n"] is None and seen == {"loss": 1.5}
    np.testing.assert_array_equal(out["a"], params["a"])


@pytest.mark.parametrize("bad", [-1, 1.5, True, "big"])
def test_bad_max_leaf_size_is_a_clear_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_leaf_size"):
        gradtx.flatten(gradtx.sgd(0.1), max_leaf_size=bad)


def test_inner_must_be_a_transformation() -> None:
    with pytest.raises(TypeError, match=r"Did you mean adam\(\.\.\.\)"):
        gradtx.flatten(gradtx.adam)  # type: ignore[arg-type]


def test_updates_with_other_dtypes_than_params_name_the_leaf() -> None:
    params = _tree(0, {"s": jnp.bfloat16})
    tx = gradtx.flatten(gradtx.sgd(0.1))
    grads = {k: v.astype(jnp.float32) for k, v in params.items()}
    with pytest.raises(ValueError, match=r"updates\['s'\] is float32 but its param"):
        tx.update(grads, tx.init(params), params)
