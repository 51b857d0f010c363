"""What both Hungarian algorithms share: the input check and the orientation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate

__all__ = ["solve_oriented"]


def _costs(fn: str, cost_matrix: Any) -> jax.Array:
    """``cost_matrix`` as a real floating 2-D array (integers become floats)."""
    costs = validate.as_array(fn, "cost_matrix", cost_matrix)
    if costs.ndim != 2:
        raise validate.error(
            ValueError,
            fn,
            f"cost_matrix has shape {tuple(costs.shape)}; it must be a matrix "
            "(rows, columns). Use jax.vmap for a batch of matrices.",
        )
    if jnp.issubdtype(costs.dtype, jnp.floating):
        return costs.astype(jnp.promote_types(costs.dtype, jnp.float32))
    if jnp.issubdtype(costs.dtype, jnp.integer):
        return costs.astype(jax.dtypes.canonicalize_dtype(jnp.float64))
    raise validate.error(
        TypeError,
        fn,
        f"cost_matrix has dtype {costs.dtype}; it must be real (integer or floating).",
    )


def solve_oriented(
    fn: str, cost_matrix: Any, solve: Callable[[jax.Array], jax.Array]
) -> tuple[jax.Array, jax.Array]:
    """Runs ``solve`` (rows <= columns; row -> column) in the right orientation.

    Returns ``(i, j)``: ``min(n, m)`` pairs, rows ``i`` in increasing order,
    as ``scipy.optimize.linear_sum_assignment``.
    """
    costs = _costs(fn, cost_matrix)
    n, m = costs.shape
    if n == 0 or m == 0:
        return jnp.zeros(0, jnp.int32), jnp.zeros(0, jnp.int32)
    if n <= m:
        return jnp.arange(n, dtype=jnp.int32), solve(costs)
    rows = solve(costs.T)  # the row assigned to each column
    order = jnp.argsort(rows)
    return rows[order], order.astype(jnp.int32)
