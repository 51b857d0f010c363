"""Both Hungarian algorithms vs scipy.optimize.linear_sum_assignment and optax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.optimize

import gradtx.assignment as ga

FNS = [ga.hungarian_algorithm, ga.base_hungarian_algorithm]


def _check_optimal(costs: np.ndarray, i_: jax.Array, j_: jax.Array) -> None:
    """A valid assignment of min(n, m) pairs, rows increasing, of scipy's cost."""
    i, j = np.asarray(i_), np.asarray(j_)
    r = min(costs.shape)
    assert i.shape == j.shape == (r,) and i.dtype == j.dtype == np.int32
    assert np.all(np.diff(i) > 0) and len(set(j.tolist())) == r
    rows, cols = scipy.optimize.linear_sum_assignment(costs)
    np.testing.assert_allclose(costs[i, j].sum(), costs[rows, cols].sum(), rtol=1e-12)


# (6, 4) is solved transposed: the same compiled (4, 6) kernel, kept fast.
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (0, 4)])
def test_matches_scipy_and_optax(shape: tuple[int, int]) -> None:
    costs = np.random.default_rng(sum(shape)).normal(size=shape)
    for fn in FNS:
        i, j = fn(jnp.asarray(costs))
        _check_optimal(costs, i, j)
    if shape == (4, 6):  # optax's, once (each of its calls compiles its loops)
        oi, oj = optax.assignment.hungarian_algorithm(jnp.asarray(costs))
        np.testing.assert_allclose(costs[i, j].sum(), costs[oi, oj].sum(), rtol=1e-12)


def test_integer_costs_with_ties_under_jit_and_vmap() -> None:
    rng = np.random.default_rng(7)
    batch = rng.integers(0, 3, size=(4, 5, 7))  # small range: many ties
    batch[0] = 1  # all equal
    for fn in FNS:
        i, j = jax.jit(jax.vmap(fn))(jnp.asarray(batch))
        for costs, bi, bj in zip(batch, i, j, strict=True):
            _check_optimal(costs.astype(np.float64), bi, bj)


def test_infinite_costs_forbid_pairs_and_nan_still_ends() -> None:
    costs = np.random.default_rng(8).normal(size=(4, 6))
    costs[[0, 0, 1, 2, 3, 3], [0, 1, 1, 4, 2, 5]] = np.inf  # feasible: as scipy
    for fn in FNS:
        _check_optimal(costs, *fn(jnp.asarray(costs)))
        _check_optimal(costs.T, *fn(jnp.asarray(costs.T)))
        # No finite assignment, or NaN: no meaningful answer, but the loops end.
        for value in (np.inf, np.nan):
            bad = costs.copy()
            bad[1], bad[:, 2] = value, value
            i, j = fn(jnp.asarray(bad))
            assert i.shape == j.shape == (4,)


def test_bad_inputs_name_function_and_argument() -> None:
    for fn in FNS:
        with pytest.raises(
            ValueError, match=rf"^{fn.__name__}: cost_matrix has shape \(3,\)"
        ):
            fn(jnp.ones(3))
        with pytest.raises(TypeError, match=r"cost_matrix has dtype bool"):
            fn(jnp.ones((2, 2), bool))
    assert sorted(ga.__all__) == ga.__all__
    assert set(ga.__all__) == {
        n for n in dir(optax.assignment) if not n.startswith("_")
    }
