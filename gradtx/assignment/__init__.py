"""The linear assignment problem: minimum-cost matchings of rows to columns.

optax's ``optax.assignment``, under the same names and arguments, jit-able
and vmap-able; the results agree with ``scipy.optimize.linear_sum_assignment``.
"""

from gradtx.assignment._crouse import (
    base_hungarian_algorithm as base_hungarian_algorithm,
)
from gradtx.assignment._hungarian import hungarian_algorithm as hungarian_algorithm

__all__ = ["base_hungarian_algorithm", "hungarian_algorithm"]
