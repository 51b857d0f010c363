"""The Hungarian algorithm, as shortest augmenting paths with vectorized steps."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx.assignment._common import solve_oriented

__all__ = ["hungarian_algorithm"]


@jax.jit
def _solve(costs: jax.Array) -> jax.Array:
    """The optimal column of each row of ``costs`` (rows <= columns).

    Columns are numbered from 1; column 0 is a virtual start column, and the
    row number ``n`` means "no row". For each new row a Dijkstra search grows
    the tree of columns reached by reduced-cost-zero edges, moving the
    potentials ``u`` (rows) and ``v`` (columns) by the smallest slack
    ``delta`` each step, until it reaches a free column; the augmenting path
    is then flipped along ``way``.
    """
    n, m = costs.shape
    padded = jnp.concatenate([jnp.zeros((n, 1), costs.dtype), costs], axis=1)
    inf = jnp.asarray(jnp.inf, costs.dtype)
    u = jnp.zeros(n + 1, costs.dtype)
    v = jnp.zeros(m + 1, costs.dtype)
    owner = jnp.full(m + 1, n, jnp.int32)  # the row matched to each column

    def add_row(carry: Any, row: jax.Array) -> tuple[Any, None]:
        u, v, owner = carry
        owner = owner.at[0].set(row)

        def grow(state: Any) -> Any:
            u, v, used, slack, way, col = state
            used = used.at[col].set(True)
            r = owner[col]
            reduced = padded[r] - u[r] - v
            better = ~used & (reduced < slack)
            slack = jnp.where(better, reduced, slack)
            way = jnp.where(better, col, way)
            free_slack = jnp.where(used, inf, slack)
            nxt = jnp.argmin(free_slack)
            # Infinite costs leave every slack infinite: take any unused column,
            # so that the search still ends (with a garbage assignment).
            nxt = jnp.where(used[nxt], jnp.argmin(used), nxt).astype(jnp.int32)
            delta = free_slack[nxt]
            u = u.at[owner].add(jnp.where(used, delta, 0))
            v = jnp.where(used, v - delta, v)
            slack = jnp.where(used, slack, slack - delta)
            return u, v, used, slack, way, nxt

        state = (
            u,
            v,
            jnp.zeros(m + 1, bool),
            jnp.full(m + 1, inf),
            jnp.zeros(m + 1, jnp.int32),
            jnp.zeros((), jnp.int32),
        )
        # Grow until the column reached is free (owned by no row).
        u, v, _, _, way, col = jax.lax.while_loop(
            lambda s: owner[s[-1]] != n, grow, grow(state)
        )

        def flip(state: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
            owner, col = state
            prev = way[col]
            return owner.at[col].set(owner[prev]), prev

        owner, _ = jax.lax.while_loop(lambda s: s[1] != 0, flip, (owner, col))
        return (u, v, owner), None

    (_, _, owner), _ = jax.lax.scan(
        add_row, (u, v, owner), jnp.arange(n, dtype=jnp.int32)
    )
    # Invert column -> row into row -> column (unmatched columns are dropped).
    return (
        jnp.zeros(n, jnp.int32)
        .at[owner[1:]]
        .set(jnp.arange(m, dtype=jnp.int32), mode="drop")
    )


def hungarian_algorithm(cost_matrix: Any) -> tuple[jax.Array, jax.Array]:
    r"""A minimum-cost assignment of rows to columns (the Hungarian algorithm).

    For an :math:`n \times m` cost matrix :math:`C`, it solves

    .. math::
       \min_{X \in \{0, 1\}^{n \times m}} \sum_{ij} C_{ij} X_{ij}
       \quad \text{s.t.} \quad X \mathbf{1} \le \mathbf{1},\;
       X^\top \mathbf{1} \le \mathbf{1},\; \textstyle\sum_{ij} X_{ij} = \min(n, m)

    exactly, in :math:`O(\min(n,m)^2 \max(n,m))`: Kuhn's primal-dual method
    in its shortest-augmenting-path form (rows are added one at a time; a
    Dijkstra search on reduced costs :math:`C_{ij} - u_i - v_j \ge 0` finds
    each augmenting path), each step vectorized over the columns. Works under
    ``jit`` and ``vmap`` (the shapes are static). An infinite cost forbids a
    pair, as in scipy; if no assignment of finite cost exists, or a cost is
    NaN, the result is arbitrary (scipy raises; under ``jit`` that cannot be
    checked), but the algorithm still ends.

    Args:
      cost_matrix: an :math:`n \times m` real array (integers are solved in
        floating point).

    Returns:
      ``(i, j)``, two int32 vectors of length :math:`\min(n, m)`: row
      ``i[k]`` is assigned column ``j[k]``; ``i`` is increasing (as in
      ``scipy.optimize.linear_sum_assignment``). The cost is
      ``cost_matrix[i, j].sum()``.

    Raises:
      ValueError: ``cost_matrix`` is not 2-D.
      TypeError: ``cost_matrix`` is not real (bool, complex).

    gradtx differs from optax: for :math:`n > m`, optax orders the pairs by
    decreasing column, gradtx by increasing row; the indices are int32 (optax:
    the default int, int64 under x64).

    References:
      Kuhn, *The Hungarian Method for the Assignment Problem*, Naval Research
      Logistics Quarterly 1955, https://doi.org/10.1002/nav.3800020109

      Munkres, *Algorithms for the Assignment and Transportation Problems*,
      J. SIAM 1957, https://doi.org/10.1137/0105003

      Jonker & Volgenant, *A shortest augmenting path algorithm for dense and
      sparse linear assignment problems*, Computing 1987,
      https://doi.org/10.1007/BF02278710

    Example:
      >>> import gradtx.assignment, jax.numpy as jnp
      >>> cost = jnp.array([[8, 4, 7], [5, 2, 3], [9, 6, 7], [9, 4, 8]])
      >>> i, j = gradtx.assignment.hungarian_algorithm(cost)
      >>> print(i, j, cost[i, j].sum())
      [0 1 3] [0 2 1] 15
    """
    return solve_oriented("hungarian_algorithm", cost_matrix, _solve)
