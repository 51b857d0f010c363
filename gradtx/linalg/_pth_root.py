"""Shampoo's inverse p-th root of a PSD matrix, by the coupled Newton iteration."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from gradtx._internal import validate
from gradtx.linalg._power_iteration import (
    Precision,
    _iteration_count,
    power_iteration,
    square_matrix,
)

__all__ = ["matrix_inverse_pth_root"]

# The loop's carry: (step, M, H, H before, error of M, error before, last step kept).
_Carry = tuple[
    jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array, jax.Array
]


def _matrix_power(m: jax.Array, p: int, precision: Precision) -> jax.Array:
    """``m ** p`` for a static int ``p >= 1``, by repeated squaring."""
    result: jax.Array | None = None
    while True:
        if p & 1:
            result = m if result is None else jnp.matmul(result, m, precision=precision)
        p >>= 1
        if not p:
            assert result is not None
            return result
        m = jnp.matmul(m, m, precision=precision)


def matrix_inverse_pth_root(
    matrix: Any,
    p: int,
    num_iters: Any = 100,
    ridge_epsilon: Any = 1e-6,
    error_tolerance: Any = 1e-6,
    precision: Precision = lax.Precision.HIGHEST,
) -> tuple[jax.Array, jax.Array]:
    r"""The inverse p-th root :math:`(A + \epsilon\lambda_{\max} I)^{-1/p}` of a
    symmetric PSD matrix, as Shampoo's preconditioners need it.

    The coupled Newton iteration (Higham 2008, eq. 7.18; Anil et al. 2020):
    with :math:`\tilde A = A + \epsilon \lambda_{\max}(A) I` (a relative
    ridge; :math:`\lambda_{\max}` by :func:`power_iteration`) and
    :math:`z = (1 + p) / (2 \|\tilde A\|_F)`,

    .. math::
       M_0 = z \tilde A, \quad H_0 = z^{1/p} I, \quad
       N_k = \frac{(p + 1) I - M_k}{p}, \quad
       M_{k+1} = N_k^p M_k, \quad H_{k+1} = H_k N_k

    keeps :math:`M_k = H_k^p \tilde A`, and :math:`M_k \to I` gives
    :math:`H_k \to \tilde A^{-1/p}`. It stops when the error
    :math:`\max |M_k - I|` is at most ``error_tolerance``, after
    ``num_iters`` steps, or when a step raises the error more than 1.2-fold
    (it may rise a little before converging); that step is then undone.

    Computed in float32 at least (float64 for a float64 matrix); the root is
    returned in ``matrix``'s dtype. A 1 x 1 matrix gets the closed form.

    gradtx differs from optax: any integer ``p >= 1`` is exact (optax computes
    :math:`N^p` only for p = 1, 2, 4, 8: for p = 3 it uses :math:`N^4` and
    converges to another matrix); ``p`` is static (a Python int); the error
    returned is the one of the root returned (optax's is the one of the
    undone step, when a step is undone).

    Args:
      matrix: a symmetric positive semi-definite floating matrix ``(n, n)``.
      p: the root, a Python int >= 1 (Shampoo uses 2 per dimension of a
        matrix: 4 for a 2-D weight).
      num_iters: the most Newton steps, an int >= 0.
      ridge_epsilon: :math:`\epsilon >= 0`, relative to :math:`\lambda_{\max}`
        (at least ``1e-16``), added to the diagonal.
      error_tolerance: the error :math:`\max|M_k - I|` that stops, >= 0.
      precision: the precision of the matrix products
        (``jax.lax.Precision``).

    Returns:
      ``(root, error)``: the approximation of :math:`\tilde A^{-1/p}`, in
      ``matrix``'s dtype, and its error :math:`\max |M - I|`, a scalar.

    Raises:
      TypeError: ``matrix`` is not a floating array.
      ValueError: ``matrix`` is not square, ``p`` is not an int >= 1, or
        ``num_iters``/``ridge_epsilon``/``error_tolerance`` are out of range.

    References:
      Higham, *Functions of Matrices: Theory and Computation*, SIAM 2008,
      eq. 7.18, https://doi.org/10.1137/1.9780898717778;
      Gupta, Koren & Singer, *Shampoo: Preconditioned Stochastic Tensor
      Optimization*, ICML 2018, https://arxiv.org/abs/1802.09568;
      Anil et al., *Scalable Second Order Optimization for Deep Learning*,
      2020, https://arxiv.org/abs/2002.09018

    Example:
      >>> import gradtx.linalg, jax.numpy as jnp
      >>> a = jnp.array([[4.0, 0.0], [0.0, 16.0]])
      >>> root, error = gradtx.linalg.matrix_inverse_pth_root(a, 2, ridge_epsilon=0.0)
      >>> print(jnp.round(root, 4), float(error) < 1e-5)
      [[0.5  0.  ]
       [0.   0.25]] True
    """
    fn = "matrix_inverse_pth_root"
    matrix = square_matrix(fn, matrix)
    validate.integer(
        fn,
        "p",
        p,
        low=1,
        meaning="the root; a static Python int: under jit, pass it in static_argnames",
    )
    _iteration_count(fn, "num_iters", num_iters)
    validate.number(fn, "ridge_epsilon", ridge_epsilon, low=0.0)
    validate.number(fn, "error_tolerance", error_tolerance, low=0.0)
    return _root(matrix, num_iters, ridge_epsilon, error_tolerance, int(p), precision)


@functools.partial(jax.jit, static_argnames=("p", "precision"))
def _root(
    matrix: jax.Array,
    num_iters: Any,
    ridge_epsilon: Any,
    error_tolerance: Any,
    p: int,
    precision: Precision,
) -> tuple[jax.Array, jax.Array]:
    """The iteration of :func:`matrix_inverse_pth_root`, compiled once per p."""
    dtype = jnp.promote_types(matrix.dtype, jnp.float32)
    a = matrix.astype(dtype)
    n = a.shape[0]
    max_ev, _ = power_iteration(
        a, num_iters=100, error_tolerance=1e-6, precision=precision
    )
    ridge = ridge_epsilon * jnp.maximum(max_ev, 1e-16)
    if n == 1:
        root = (a + ridge) ** jnp.asarray(-1.0 / p, dtype)
        return root.astype(matrix.dtype), jnp.zeros((), dtype)

    identity = jnp.eye(n, dtype=dtype)
    damped = a + ridge * identity
    z = (1 + p) / (2 * jnp.linalg.norm(damped))
    m0 = damped * z
    h0 = identity * z ** (1.0 / p)
    e0 = jnp.max(jnp.abs(m0 - identity))

    def running(c: _Carry) -> jax.Array:
        i, _, _, _, error, _, kept = c
        return (i < num_iters) & (error > error_tolerance) & kept

    def step(c: _Carry) -> _Carry:
        i, m, h, _, error, _, _ = c
        n_k = (p + 1) / p * identity - m / p
        m_next = jnp.matmul(_matrix_power(n_k, p, precision), m, precision=precision)
        h_next = jnp.matmul(h, n_k, precision=precision)
        e_next = jnp.max(jnp.abs(m_next - identity))
        return i + 1, m_next, h_next, h, e_next, error, e_next < 1.2 * error

    carry = (jnp.zeros((), jnp.int32), m0, h0, h0, e0, e0, jnp.asarray(True))
    _, _, h, h_before, error, e_before, kept = lax.while_loop(running, step, carry)
    root = jnp.where(kept, h, h_before)
    return root.astype(matrix.dtype), jnp.where(kept, error, e_before)
