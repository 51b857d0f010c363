"""Reductions and norms against optax.tree, and where gradtx differs on purpose.

Shared functions give optax's results (up to the order of summation) on
mixed trees, eagerly and under ``jit``. Where gradtx is more exact (half
precision accumulated in float32, exact integer extremes, the norm of an
empty tree), the result is checked against an exact float64 NumPy
reference, and optax's is shown to differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gradtx
import gradtx.tree as gt
from tests.tree import trees
from tests.tree.trees import BF16, C64, F32, F64, I32

X, Y = trees.tree(0), trees.tree(1)
EXACT = trees.tree(2, (F32, F32, F64, C64, I32, F32))  # no half precision
EXACT2 = trees.tree(3, (F32, F32, F64, C64, I32, F32))
SCALARS = (1.0, {"k1": 2.0, "k2": (3.0, -4.0)}, 5.0)
NANS = {"a": jnp.array([1.0, jnp.nan]), "b": jnp.array([jnp.inf])}
EMPTY: dict[str, Any] = {"none": None, "nothing": (), "zero_size": jnp.zeros((0, 3))}

CASES: trees.Cases = {
    "sum": (lambda m, t: m.sum(t), (EXACT,)),
    "sum_mixed": (lambda m, t: m.sum(t), (X,)),
    "sum_associative": (lambda m, t: m.sum(t, associative_reduction=True), (EXACT,)),
    "sum_scalars": (lambda m, t: m.sum(t), (SCALARS,)),
    "sum_empty": (lambda m, t: m.sum(t), (EMPTY,)),
    "max": (lambda m, t: m.max(t), (EXACT,)),
    "max_mixed": (lambda m, t: m.max(t), (X,)),
    "max_empty": (lambda m, t: m.max(t), (EMPTY,)),
    "min": (lambda m, t: m.min(t), (EXACT,)),
    "min_empty": (lambda m, t: m.min(t), (EMPTY,)),
    "vdot": (lambda m, x, y: m.vdot(x, y), (EXACT, EXACT2)),
    "vdot_mixed": (lambda m, x, y: m.vdot(x, y), (X, Y)),
    "vdot_scalars": (lambda m, x, y: m.vdot(x, y), (SCALARS, SCALARS)),
    "vdot_empty": (lambda m, x, y: m.vdot(x, y), (EMPTY, EMPTY)),
    "norm": (lambda m, t: m.norm(t), (EXACT,)),
    "norm_mixed": (lambda m, t: m.norm(t), (X,)),
    "norm_2_squared": (lambda m, t: m.norm(t, ord=2, squared=True), (EXACT,)),
    "norm_1": (lambda m, t: m.norm(t, ord=1), (EXACT,)),
    "norm_inf": (lambda m, t: m.norm(t, ord=jnp.inf), (EXACT,)),
    "norm_inf_mixed": (lambda m, t: m.norm(t, ord="inf"), (X,)),
    "norm_infinity_squared": (lambda m, t: m.norm(t, "infinity", True), (EXACT,)),
    "norm_scalars": (lambda m, t: m.norm(t), (SCALARS,)),
    "allclose_same": (lambda m, x: m.allclose(x, x), (X,)),
    "allclose_different": (lambda m, x, y: m.allclose(x, y), (X, Y)),
    "allclose_tolerances": (
        lambda m, x, y: m.allclose(x, y, rtol=0.0, atol=10.0),
        (EXACT, EXACT2),
    ),
    "allclose_nan": (lambda m, x: m.allclose(x, x), (NANS,)),
    "allclose_equal_nan": (lambda m, x: m.allclose(x, x, equal_nan=True), (NANS,)),
}
JITTED = trees.jit_all(CASES)


# optax's L-infinity norm ignores zero-size leaves for the result's dtype (float32
# here, though a zero-size leaf is float64); gradtx's is the widest of all leaves.
DTYPE_DIFFERS = {"norm_inf", "norm_inf_mixed", "norm_infinity_squared"}


# Checked eagerly too: one case per function or behaviour (each eager
# operation on a new shape and dtype compiles a kernel).
EAGER = {
    "allclose_different",
    "max_empty",
    "max_mixed",
    "norm_inf_mixed",
    "norm_mixed",
    "norm_scalars",
    "sum_associative",
    "sum_empty",
    "sum_mixed",
    "sum_scalars",
    "vdot_empty",
    "vdot_mixed",
}


assert CASES.keys() >= EAGER  # no typo in EAGER


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_optax_under_jit_and_eagerly(name: str) -> None:
    fn, args = CASES[name]
    jitted, want = JITTED()[name]  # optax's, under jit
    tol = trees.rtol(*args)
    results = [jitted, fn(gt, *args)] if name in EAGER else [jitted]
    for got in results:
        trees.assert_close(got, want, tol, dtypes=False)
        if name not in DTYPE_DIFFERS:
            assert jnp.result_type(got) == jnp.result_type(want)


def test_size_matches_optax_and_is_a_python_int_under_jit() -> None:
    for t in (X, SCALARS, EMPTY, {}):
        assert gt.size(t) == optax.tree.size(t)
        assert isinstance(gt.size(t), int)

    def f(t: Any) -> jax.Array:
        n = gt.size(t)
        assert isinstance(n, int)  # static: usable as a shape
        return jnp.zeros(n)

    assert jax.eval_shape(f, X).shape == (optax.tree.size(X),)


# Where gradtx differs on purpose, computed for both libraries under one jit
# and checked against exact float64 NumPy references.
ONES = {"a": jnp.ones(257, BF16)}  # bfloat16 has no 257
HALF = {"a": ONES["a"], "b": trees.tree(4, (BF16,))}
HALF2 = {"a": ONES["a"], "b": trees.tree(5, (BF16,))}
F16 = {"w": jnp.full((4,), 300.0, jnp.float16)}  # 300**2 overflows float16
MIXED_HALF = {**F16, "b": jnp.ones(3, BF16)}
INTS = {"a": jnp.array([3, -4], I32)}
BIG_INTS = {"a": jnp.array([2**53 + 1, 0], jnp.int64), "b": jnp.array([-(2**53) - 1])}
BIG = {"w": trees.leaf(np.random.default_rng(7), (5000,), F32), "x": X}
FINITE_CASES = {
    "mixed": X,
    "exact": EXACT,
    "empty": EMPTY,
    "nans": NANS,
    "inf_in_bfloat16": {"x": X, "h": jnp.array([1.0, jnp.inf], BF16)},
    "nan_in_complex": {"x": X, "z": jnp.array([1.0 + 1j * jnp.nan], C64)},
    "ints": {"i": jnp.ones(2, I32)},
}
DIFFERS: trees.Cases = {
    "sum_half": (lambda m, t: m.sum(t), (HALF,)),
    "sum_half_associative": (lambda m, t: m.sum(t, True), (HALF,)),
    "sum_ones": (lambda m, t: m.sum(t), (ONES,)),
    "vdot_half": (lambda m, x, y: m.vdot(x, y), (HALF, HALF2)),
    "norm_mixed_half": (lambda m, t: m.norm(t), (MIXED_HALF,)),
    "norm_float16": (lambda m, t: m.norm(t), (F16,)),
    "norm_half_2": (lambda m, t: m.norm(t, 2), (HALF,)),
    "norm_half_1": (lambda m, t: m.norm(t, 1), (HALF,)),
    "norm_ints": (lambda m, t: [m.norm(t, o) for o in (None, 1, jnp.inf)], (INTS,)),
    "norm_empty": (lambda m, t: [m.norm(t, o) for o in (None, 1, jnp.inf)], (EMPTY,)),
    "extremes_ints": (lambda m, t: (m.max(t), m.min(t)), (BIG_INTS,)),
}
JITTED_DIFFERS = trees.jit_all(DIFFERS)


def _f64(*ts: Any) -> np.ndarray:
    """All elements of the trees, as one float64 vector."""
    leaves = [np.asarray(x, np.float64).ravel() for t in ts for x in jax.tree.leaves(t)]
    return np.concatenate(leaves)


def test_half_precision_sums_and_dots_accumulate_in_float32() -> None:
    vdot = float(np.dot(_f64(HALF), _f64(HALF2)))
    for name, exact in (
        ("sum_half", _f64(HALF).sum()),
        ("sum_half_associative", _f64(HALF).sum()),
        ("vdot_half", vdot),
        ("sum_ones", 257.0),
    ):
        ours, theirs = JITTED_DIFFERS()[name]
        assert ours.dtype == F32 and theirs.dtype == BF16, name
        np.testing.assert_allclose(ours, exact, rtol=1e-6)
    assert float(JITTED_DIFFERS()["sum_ones"][1]) == 256.0  # optax: rounded to bf16
    assert float(gt.sum(ONES)) == 257.0  # eagerly too


def test_norm_accumulates_half_precision_in_float32() -> None:
    for name, exact in (
        ("norm_mixed_half", np.sqrt(np.sum(_f64(MIXED_HALF) ** 2))),
        ("norm_float16", 600.0),
        ("norm_half_2", np.sqrt(np.sum(_f64(HALF) ** 2))),
        ("norm_half_1", np.sum(np.abs(_f64(HALF)))),
    ):
        ours, _ = JITTED_DIFFERS()[name]
        assert ours.dtype == F32, name
        np.testing.assert_allclose(ours, exact, rtol=1e-6)
    assert not np.isfinite(JITTED_DIFFERS()["norm_float16"][1])  # optax overflows
    assert JITTED_DIFFERS()["norm_half_1"][1].dtype == BF16
    assert float(gt.norm(F16)) == 600.0  # eagerly too


def test_norms_are_real_floats_and_zero_for_empty_trees() -> None:
    ours, theirs = JITTED_DIFFERS()["norm_ints"]
    assert [float(n) for n in ours] == [5.0, 7.0, 4.0]
    assert all(n.dtype == F32 for n in ours)
    assert jnp.issubdtype(theirs[1].dtype, jnp.integer)  # optax: an integer L1 norm
    ours, theirs = JITTED_DIFFERS()["norm_empty"]
    assert [float(n) for n in ours] == [0.0, 0.0, 0.0]
    assert float(theirs[2]) == -np.inf  # optax: the L-infinity norm of nothing
    assert float(gt.norm(EMPTY, jnp.inf)) == 0.0


def test_integer_extremes_are_exact() -> None:
    (top, bottom), (optax_top, _) = JITTED_DIFFERS()["extremes_ints"]
    assert top.dtype == bottom.dtype == jnp.int64
    assert int(top) == 2**53 + 1 and int(bottom) == -(2**53) - 1
    assert float(optax_top) == 2.0**53  # optax: through float64, rounded
    assert int(gt.max(BIG_INTS)) == 2**53 + 1  # eagerly too


@jax.jit
def _gradtx_norms_and_finiteness(
    norm_trees: list[Any], finite_trees: dict[str, Any]
) -> Any:
    norms = [
        (gt.norm(t), gradtx.global_norm(t), gt.norm(t, squared=True))
        for t in norm_trees
    ]
    finite = {
        n: (gt.all_finite(t), gradtx.all_finite(t)) for n, t in finite_trees.items()
    }
    return norms, finite


def test_norm_is_gradtx_global_norm_and_sum_of_squares() -> None:
    norms, _ = _gradtx_norms_and_finiteness([X, EXACT, BIG, EMPTY], FINITE_CASES)
    for norm, global_norm, squared in norms:
        np.testing.assert_array_equal(norm, global_norm)
        np.testing.assert_allclose(squared, norm**2, rtol=1e-6)
    np.testing.assert_array_equal(gt.norm(BIG), gradtx.global_norm(BIG))  # eagerly


def test_all_finite_matches_a_numpy_reference_and_gradtx_all_finite() -> None:
    _, finite = _gradtx_norms_and_finiteness([X, EXACT, BIG, EMPTY], FINITE_CASES)
    for name, t in FINITE_CASES.items():
        want = all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(t))
        ours, current = finite[name]
        assert ours.dtype == jnp.bool_ and bool(ours) == bool(current) == want, name
    for name in ("mixed", "nan_in_complex"):  # eagerly too
        assert bool(gt.all_finite(FINITE_CASES[name])) == (name == "mixed")


def test_reductions_under_vmap_are_per_example() -> None:
    batch = {"a": jnp.arange(6.0).reshape(3, 2), "b": jnp.array([1.0, jnp.nan, 2.0])}
    fns: list[Callable[[Any], jax.Array]] = [gt.sum, gt.norm, gt.max, gt.all_finite]
    got = jax.jit(lambda b: [jax.vmap(fn)(b) for fn in fns])(batch)
    rows = np.concatenate([np.asarray(batch["a"]), np.asarray(batch["b"])[:, None]], 1)
    want = [
        rows.sum(1),
        np.sqrt((rows**2).sum(1)),
        rows.max(1),
        np.isfinite(rows).all(1),
    ]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6)


def test_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match=r"unsupported ord=3; use one of None, 2, 1"):
        gt.norm(X, ord=3)
    short = {**EXACT2, "step": jnp.ones(2, F32)}
    shape = r"vdot: tree_y\['step'\]: expected float32\[3\] \(as in tree_x\)"
    with pytest.raises(gradtx.TreeMismatchError, match=shape):
        gt.vdot(EXACT, short)
    structure = r"allclose: a\['skip'\] is None but b\['skip'\]"
    with pytest.raises(gradtx.TreeMismatchError, match=structure):
        gt.allclose(X, {**Y, "skip": jnp.ones(1)})


@pytest.mark.parametrize("position", ["none", "small", "big", "complex"])
def test_all_finite_matches_numpy(position: str) -> None:
    rng = np.random.default_rng(0)
    tree = {f"s{i}": rng.normal(size=(3,)).astype(np.float32) for i in range(30)}
    tree["big"] = rng.normal(size=(6000,)).astype(np.float32)
    tree["c"] = (rng.normal(size=4) + 1j * rng.normal(size=4)).astype(np.complex64)
    if position == "small":
        tree["s17"][2] = np.inf
    elif position == "big":
        tree["big"][5999] = np.nan
    elif position == "complex":
        tree["c"][1] = complex(1.0, np.inf)
    expected = all(np.all(np.isfinite(x)) for x in tree.values())
    got = jax.jit(gradtx.all_finite)({k: jnp.asarray(v) for k, v in tree.items()})
    assert bool(got) == expected
