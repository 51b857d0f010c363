"""Non-negative least squares by the fast projected gradient method."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from gradtx._internal import validate

__all__ = ["nnls"]


def _spectral_bound(q: jax.Array) -> jax.Array:
    """An upper bound of the spectral radius of ``q``: min(Frobenius, 1-norm)."""
    frobenius = jnp.sqrt(jnp.sum(jnp.square(q)))
    if q.size == 0:
        return frobenius
    return jnp.minimum(frobenius, jnp.max(jnp.sum(jnp.abs(q), axis=0)))


def nnls(
    A: Any,
    b: Any,
    iters: int,
    unroll: int | bool = 1,
    L: Any | None = None,
) -> jax.Array:
    r"""Non-negative least squares, :math:`\min_{x \ge 0} \|A x - b\|_2`.

    Polyak's fast projected gradient (FPG), a Nesterov-accelerated projected
    gradient (FISTA's scheme) on :math:`f(x) = \tfrac12 x^\top Q x - q^\top x`,
    :math:`Q = A^\top A`, :math:`q = A^\top b`; from :math:`x_0 = p_0 = 0`,
    :math:`c_0 = 1`:

    .. math::
       x_{k+1} = \max\!\big(0,\; p_k - (Q p_k - q) / L\big), \quad
       c_{k+1} = \tfrac12\big(1 + \sqrt{1 + 4 c_k^2}\big), \quad
       p_{k+1} = x_{k+1} + \frac{c_k - 1}{c_{k+1}} (x_{k+1} - x_k)

    with :math:`L \ge \lambda_{\max}(Q)` (by default
    :math:`\min(\|Q\|_F, \|Q\|_1)`), converging as :math:`O(1/k^2)` in the
    objective (not monotonically). Each column of a 2-D ``b`` is an
    independent problem.

    gradtx differs from optax: it starts from :math:`c_0 = 1`, as FISTA
    (:math:`t_1 = 1`); optax's :math:`c_0 = 0` makes the first momentum
    coefficient -1, which resets :math:`p_1` to 0 and makes the first two
    iterates equal, so ``nnls(A, b, k)`` here is optax's
    ``nnls(A, b, k + 1)``. ``A`` and ``b`` are computed in their common dtype
    (optax takes ``b``'s and fails on a mix); the momentum coefficients in
    float32 at least.

    Args:
      A: a floating matrix ``(M, N)``.
      b: a floating vector ``(M,)`` or matrix ``(M, K)``.
      iters: the number of iterations, a Python int >= 0 (static).
      unroll: ``jax.lax.scan``'s ``unroll``, an int >= 1 or a bool.
      L: None, or an upper bound of the largest eigenvalue of
        :math:`A^\top A`, > 0 (0 is read as 1, as in optax).

    Returns:
      :math:`x \ge 0`, of shape ``(N,)`` or ``(N, K)``.

    Raises:
      TypeError: ``A`` or ``b`` is not floating.
      ValueError: ``A`` is not 2-D, ``b`` is not 1-D or 2-D or has not
        ``A.shape[0]`` rows, or ``iters``, ``unroll`` or ``L`` is out of range.

    References:
      Polyak, *Projected gradient method for non-negative least square*,
      Contemporary Mathematics 636, AMS 2015, http://www.ams.org/books/conm/636/;
      Beck & Teboulle, *A Fast Iterative Shrinkage-Thresholding Algorithm for
      Linear Inverse Problems*, SIAM J. Imaging Sciences 2009,
      https://doi.org/10.1137/080716542

    Example:
      >>> import gradtx.linalg, jax.numpy as jnp
      >>> A = jnp.array([[1.0, 2.0], [3.0, 4.0]])
      >>> x = gradtx.linalg.nnls(A, jnp.array([5.0, 6.0]), 1000)
      >>> print(jnp.round(x, 2))
      [0.  1.7]
    """
    fn = "nnls"
    A = validate.floating(fn, "A", A)
    b = validate.floating(fn, "b", b)
    if A.ndim != 2:
        raise validate.error(
            ValueError, fn, f"A must be a matrix (M, N), got shape {tuple(A.shape)}."
        )
    if b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise validate.error(
            ValueError,
            fn,
            f"b must be of shape ({A.shape[0]},) or ({A.shape[0]}, K), one row "
            f"per row of A {tuple(A.shape)}, got shape {tuple(b.shape)}.",
        )
    validate.integer(fn, "iters", iters, low=0, meaning="the number of iterations")
    if not isinstance(unroll, bool):
        validate.integer(fn, "unroll", unroll, low=1, meaning="lax.scan's unroll")
    validate.optional_number(fn, "L", L, low=0.0)
    dtype = jnp.result_type(A, b)
    return _solve(A.astype(dtype), b.astype(dtype), L, iters, unroll)


@functools.partial(jax.jit, static_argnames=("iters", "unroll"))
def _solve(
    A: jax.Array,
    b: jax.Array,
    L: Any | None,
    iters: int,
    unroll: int | bool,
) -> jax.Array:
    """The iterations of :func:`nnls`, compiled once per shape and ``iters``."""
    dtype = A.dtype
    Q = A.T @ A
    q = A.T @ b
    bound = _spectral_bound(Q) if L is None else jnp.asarray(L, dtype)
    bound = jnp.where(bound == 0, jnp.ones_like(bound), bound)
    c_dtype = jnp.promote_types(dtype, jnp.float32)

    def step(
        carry: tuple[jax.Array, jax.Array, jax.Array], _: None
    ) -> tuple[tuple[jax.Array, jax.Array, jax.Array], None]:
        x, p, c = carry
        c_next = (1 + jnp.sqrt(1 + 4 * c**2)) / 2
        momentum = ((c - 1) / c_next).astype(dtype)
        x_next = jnp.maximum(p - ((Q @ p - q) / bound).astype(dtype), 0)
        p_next = x_next + momentum * (x_next - x)
        return (x_next, p_next, c_next), None

    x0 = jnp.zeros(A.shape[1:] + b.shape[1:], dtype)
    carry = (x0, x0, jnp.ones((), c_dtype))
    (x, _, _), _ = lax.scan(step, carry, length=iters, unroll=unroll)
    return x
