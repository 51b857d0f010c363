"""The Hungarian algorithm in Crouse's (2016) formulation (scipy's)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx.assignment._common import solve_oriented

__all__ = ["base_hungarian_algorithm"]


@jax.jit
def _solve(costs: jax.Array) -> jax.Array:
    """The optimal column of each row of ``costs`` (rows <= columns).

    Crouse (2016), Algorithm 1 with its shortest-path subroutine: for each
    row, a Dijkstra search over the columns not yet scanned (``scanned``),
    with the path costs ``spc`` and predecessors ``path``, until it reaches an
    unassigned column ``sink``; then the duals ``u``, ``v`` are updated and
    the path is augmented.
    """
    n, m = costs.shape
    inf = jnp.asarray(jnp.inf, costs.dtype)
    rows = jnp.arange(n)

    def add_row(carry: Any, current: jax.Array) -> tuple[Any, None]:
        u, v, col4row, row4col = carry

        def step(state: Any) -> Any:
            i, min_val, visited, scanned, spc, path, _ = state
            visited = visited.at[i].set(True)
            reduced = min_val + costs[i] - u[i] - v
            # A column first reached always gets a predecessor, even at an
            # infinite or NaN cost, so that the augmentation walk ends.
            better = ~scanned & ((reduced < spc) | (path < 0))
            path = jnp.where(better, i, path)
            spc = jnp.where(better, reduced, spc)
            open_spc = jnp.where(scanned, inf, spc)
            lowest = jnp.min(open_spc)
            ties = ~scanned & (open_spc == lowest)
            free_ties = ties & (row4col < 0)  # prefer a column that ends the path
            # A NaN cost makes no column tie: then any unscanned one, so that
            # the search still ends (with a garbage assignment).
            j = jnp.where(
                jnp.any(free_ties),
                jnp.argmax(free_ties),
                jnp.where(jnp.any(ties), jnp.argmax(ties), jnp.argmin(scanned)),
            ).astype(jnp.int32)
            scanned = scanned.at[j].set(True)
            sink = jnp.where(row4col[j] < 0, j, -1).astype(jnp.int32)
            return row4col[j], lowest, visited, scanned, spc, path, sink

        start = (
            current,
            jnp.zeros((), costs.dtype),
            jnp.zeros(n, bool),
            jnp.zeros(m, bool),
            jnp.full(m, inf),
            jnp.full(m, -1, jnp.int32),
            jnp.full((), -1, jnp.int32),
        )
        _, min_val, visited, scanned, spc, path, sink = jax.lax.while_loop(
            lambda s: s[-1] < 0, step, start
        )
        # Dual update, then augmentation along path from the sink.
        u = u.at[current].add(min_val)
        others = visited & (rows != current)
        u = jnp.where(others, u + min_val - spc[col4row], u)
        v = jnp.where(scanned, v + spc - min_val, v)

        def augment(state: Any) -> Any:
            j, col4row, row4col, _ = state
            i = path[j]
            row4col = row4col.at[j].set(i)
            return col4row[i], col4row.at[i].set(j), row4col, i == current

        _, col4row, row4col, _ = jax.lax.while_loop(
            lambda s: ~s[-1], augment, (sink, col4row, row4col, jnp.array(False))
        )
        return (u, v, col4row, row4col), None

    init = (
        jnp.zeros(n, costs.dtype),
        jnp.zeros(m, costs.dtype),
        jnp.full(n, -1, jnp.int32),
        jnp.full(m, -1, jnp.int32),
    )
    (_, _, col4row, _), _ = jax.lax.scan(add_row, init, rows.astype(jnp.int32))
    return col4row


def base_hungarian_algorithm(cost_matrix: Any) -> tuple[jax.Array, jax.Array]:
    r"""A minimum-cost assignment of rows to columns, after Crouse (2016).

    Solves the same problem as :func:`hungarian_algorithm`,

    .. math::
       \min_{X \in \{0, 1\}^{n \times m}} \sum_{ij} C_{ij} X_{ij}
       \quad \text{s.t.} \quad X \mathbf{1} \le \mathbf{1},\;
       X^\top \mathbf{1} \le \mathbf{1},\; \textstyle\sum_{ij} X_{ij} = \min(n, m)

    with the shortest augmenting path algorithm as Crouse's pseudocode
    writes it (that of ``scipy.optimize.linear_sum_assignment``): a Dijkstra
    search per row on reduced costs that keeps the path costs, then one dual
    update per augmentation; among columns of equal path cost it takes an
    unassigned one first. Works under ``jit`` and ``vmap``. An infinite cost
    forbids a pair, as in scipy; if no assignment of finite cost exists, or a
    cost is NaN, the result is arbitrary (scipy raises), but the algorithm
    still ends. The two functions return the same optimal cost; with ties
    they may return different optimal assignments.

    Args:
      cost_matrix: an :math:`n \times m` real array (integers are solved in
        floating point).

    Returns:
      ``(i, j)``, two int32 vectors of length :math:`\min(n, m)`: row
      ``i[k]`` is assigned column ``j[k]``; ``i`` is increasing. The cost is
      ``cost_matrix[i, j].sum()``.

    Raises:
      ValueError: ``cost_matrix`` is not 2-D.
      TypeError: ``cost_matrix`` is not real (bool, complex).

    gradtx differs from optax: the indices are int32 (optax: the default
    int, int64 under x64).

    References:
      Crouse, *On implementing 2D rectangular assignment algorithms*, IEEE
      Transactions on Aerospace and Electronic Systems 2016,
      https://doi.org/10.1109/TAES.2016.140952

      Kuhn, *The Hungarian Method for the Assignment Problem*, Naval Research
      Logistics Quarterly 1955, https://doi.org/10.1002/nav.3800020109

    Example:
      >>> import gradtx.assignment, jax.numpy as jnp
      >>> cost = jnp.array([[90, 80, 75, 70], [35, 85, 55, 65],
      ...                   [125, 95, 90, 95], [45, 110, 95, 115],
      ...                   [50, 100, 90, 100]])
      >>> i, j = gradtx.assignment.base_hungarian_algorithm(cost)
      >>> print(i, j, cost[i, j].sum())
      [0 1 2 3] [3 2 1 0] 265
    """
    return solve_oriented("base_hungarian_algorithm", cost_matrix, _solve)
