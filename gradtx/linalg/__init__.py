"""Linear algebra for optimizers: eigenpairs, inverse roots, NNLS, a normal.

optax's linear-algebra utilities, under the same names and arguments:
:func:`power_iteration` (the dominant eigenpair, of a matrix or of a
Hessian-vector product), :func:`matrix_inverse_pth_root` (Shampoo's
preconditioner root), :func:`nnls` (non-negative least squares) and
:func:`multi_normal` (a diagonal normal with a log-scale).
"""

from gradtx.linalg._multi_normal import (
    MultiNormalDiagFromLogScale as MultiNormalDiagFromLogScale,
)
from gradtx.linalg._multi_normal import multi_normal as multi_normal
from gradtx.linalg._nnls import nnls as nnls
from gradtx.linalg._power_iteration import power_iteration as power_iteration
from gradtx.linalg._pth_root import matrix_inverse_pth_root as matrix_inverse_pth_root

__all__ = [
    "MultiNormalDiagFromLogScale",
    "matrix_inverse_pth_root",
    "multi_normal",
    "nnls",
    "power_iteration",
]
