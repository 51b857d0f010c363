"""Second-order quantities of a loss: Hessian-vector products and diagonals.

optax's ``optax.second_order``, under the same names and arguments: each
function takes ``loss(params, inputs, targets)`` and returns a vector in the
flattened order of ``jax.flatten_util.ravel_pytree(params)`` (``hvp``: a tree).
"""

from gradtx.second_order._hessian import fisher_diag as fisher_diag
from gradtx.second_order._hessian import hessian_diag as hessian_diag
from gradtx.second_order._hessian import hvp as hvp

__all__ = ["fisher_diag", "hessian_diag", "hvp"]
