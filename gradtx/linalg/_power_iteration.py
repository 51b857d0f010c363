"""The power iteration: the dominant eigenpair of a matrix or of a linear map."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gradtx._internal import validate

__all__ = ["power_iteration"]

Precision = lax.Precision | str | None


def _iteration_count(fn: str, name: str, value: Any) -> None:
    """Raises unless ``value`` is an int >= 0 (a traced one is let through)."""
    if isinstance(value, jax.core.Tracer):
        return
    is_array = isinstance(value, jax.Array | np.ndarray) and value.shape == ()
    if is_array and jnp.issubdtype(value.dtype, jnp.integer):
        value = int(value)
    validate.integer(fn, name, value, low=0, meaning="the most iterations to run")


def square_matrix(fn: str, matrix: Any) -> jax.Array:
    """``matrix`` as a real floating array of shape ``(n, n)``, else an error."""
    matrix = validate.floating(fn, "matrix", matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise validate.error(
            ValueError,
            fn,
            f"matrix must be a square matrix of shape (n, n), got shape "
            f"{tuple(matrix.shape)}.",
        )
    return matrix


def _vdot(a: Any, b: Any) -> jax.Array:
    """The inner product of two pytrees of the same structure."""
    parts = [
        jnp.vdot(x, y)
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    ]
    return sum(parts[1:], parts[0])


def _norm(tree: Any) -> jax.Array:
    """The L2 norm of a pytree seen as one vector."""
    return jnp.sqrt(jnp.real(_vdot(tree, tree)))


def _normalized(tree: Any) -> Any:
    """``tree / ||tree||``; the zero vector stays zero (optax: NaN)."""
    norm = _norm(tree)
    denom = jnp.where(norm > 0, norm, jnp.ones_like(norm))
    return jax.tree.map(lambda x: (x / denom).astype(x.dtype), tree)


def _shapes(tree: Any) -> Any:
    """``tree`` with each leaf replaced by its shape, as a tuple (for messages)."""
    return jax.tree.map(lambda x: tuple(jnp.shape(x)), tree)


def power_iteration(
    matrix: Any | Callable[[Any], Any],
    *,
    v0: Any | None = None,
    num_iters: Any = 100,
    error_tolerance: Any = 1e-6,
    precision: Precision = lax.Precision.HIGHEST,
    key: jax.Array | None = None,
) -> tuple[jax.Array, Any]:
    r"""The dominant eigenvalue of a matrix and its eigenvector, by power iteration.

    .. math::
       v_{k+1} = \frac{A v_k}{\|A v_k\|_2}, \qquad
       \lambda_{k+1} = v_{k+1}^\top A\, v_{k+1}

    from :math:`v_0 / \|v_0\|`, until the residual is small relative to the
    eigenvalue, :math:`\|A v_k - \lambda_k v_k\| / |\lambda_k|` below
    ``error_tolerance``, or after ``num_iters`` steps. :math:`\lambda` is the
    Rayleigh quotient: the eigenvalue of largest modulus, with its sign. It
    converges when that eigenvalue is unique in modulus (as the largest
    eigenvalue of a positive semi-definite matrix, a Hessian near a minimum);
    at the rate :math:`|\lambda_2 / \lambda_1|^k`.

    ``matrix`` is an array ``(n, n)``, or a function computing :math:`v
    \mapsto A v` on pytrees (a Hessian-vector product, say), which never forms
    :math:`A`; ``v0`` then sets the structure of the vectors and must be given.

    Args:
      matrix: a real floating array of shape ``(n, n)``, or a function
        ``v -> A v`` returning a pytree of ``v``'s structure and shapes.
      v0: the starting vector: shape ``(n,)`` for an array ``matrix``, a
        pytree for a function. None (arrays only): uniform in [-1, 1],
        drawn with ``key``.
      num_iters: the most iterations, an int >= 0.
      error_tolerance: the relative residual that stops the iteration, >= 0.
      precision: the precision of ``matrix @ v`` (``jax.lax.Precision``);
        unused for a function.
      key: the PRNG key of the random ``v0``; None means
        ``jax.random.PRNGKey(0)``.

    Returns:
      ``(eigenvalue, eigenvector)``: a scalar, and the unit-norm eigenvector
      (an array ``(n,)``, or a pytree like ``v0``). For :math:`A = 0` they
      are 0 and the zero vector (optax returns NaN).

    Raises:
      TypeError: ``matrix`` is neither a floating array nor callable, or
        ``key`` is not a key.
      ValueError: ``matrix`` is not square, ``v0`` is missing (for a function)
        or of the wrong shape, the function does not map ``v0``'s structure to
        itself, or ``num_iters``/``error_tolerance`` are out of range.

    References:
      von Mises & Pollaczek-Geiringer, *Praktische Verfahren der
      Gleichungsauflösung*, ZAMM 9, 1929; Golub & Van Loan, *Matrix
      Computations*, 4th ed., 2013, §8.2.1.

    Example:
      >>> import gradtx.linalg, jax.numpy as jnp
      >>> a = jnp.array([[2.0, 1.0], [1.0, 2.0]])
      >>> value, vector = gradtx.linalg.power_iteration(a, v0=jnp.array([1.0, 0.0]))
      >>> print(f"{float(value):.4f}", jnp.round(vector, 4))
      3.0000 [0.7071 0.7071]
    """
    fn = "power_iteration"
    _iteration_count(fn, "num_iters", num_iters)
    validate.number(fn, "error_tolerance", error_tolerance, low=0.0)
    if callable(matrix):
        if v0 is None:
            raise validate.error(
                ValueError,
                fn,
                "v0 must be given when matrix is a function: it sets the structure "
                "of the vectors the function maps, e.g. "
                "v0=gradtx.tree.ones_like(params).",
            )
        mvp = matrix
        v0 = jax.tree.map(jnp.asarray, v0)
        try:
            out = jax.eval_shape(mvp, v0)
        except (TypeError, ValueError) as e:
            raise validate.error(
                ValueError, fn, f"matrix failed on v0's structure and shapes: {e}"
            ) from e
        same_structure = str(jax.tree.structure(out)) == str(jax.tree.structure(v0))
        if not same_structure or _shapes(out) != _shapes(v0):
            raise validate.error(
                ValueError,
                fn,
                "matrix must map v0 to a pytree of the same structure and shapes "
                f"(a square linear map): v0 has shapes {_shapes(v0)}, matrix(v0) "
                f"{_shapes(out)}.",
            )
    else:
        if not hasattr(matrix, "shape") and not isinstance(matrix, list | tuple):
            raise validate.error(
                TypeError,
                fn,
                "matrix must be an array (n, n) or a function v -> matrix @ v, got "
                f"{type(matrix).__name__}.",
            )
        a = square_matrix(fn, matrix)
        n = a.shape[0]
        if v0 is None:
            if key is None:
                key = jax.random.PRNGKey(0)
            validate.key(fn, "key", key)
            v0 = jax.random.uniform(key, (n,), a.dtype, minval=-1.0, maxval=1.0)
        v0 = validate.as_array(fn, "v0", v0)
        if v0.shape != (n,):
            raise validate.error(
                ValueError,
                fn,
                f"v0 must be a vector of shape ({n},) for a matrix of shape "
                f"{tuple(a.shape)}, got shape {tuple(v0.shape)}.",
            )
        v0 = v0.astype(a.dtype)
        return _iterate_matrix(a, v0, num_iters, error_tolerance, precision)
    return _iterate(mvp, v0, num_iters, error_tolerance)


def _iterate(
    mvp: Callable[[Any], Any], v0: Any, num_iters: Any, error_tolerance: Any
) -> tuple[jax.Array, Any]:
    """The power iteration's loop, from ``v0``; see :func:`power_iteration`."""
    v = _normalized(v0)
    z = mvp(v)
    v = jax.tree.map(lambda x, y: x.astype(jnp.result_type(y)), v, z)
    eig = jnp.zeros_like(_vdot(v, z))

    def not_converged(carry: tuple[Any, Any, jax.Array, jax.Array]) -> jax.Array:
        v, z, eig, i = carry
        residual = jax.tree.map(lambda zi, vi: zi - eig * vi, z, v)
        converged = jnp.abs(_norm(residual) / eig) < error_tolerance
        return jnp.logical_and(~converged, i < num_iters)

    def step(
        carry: tuple[Any, Any, jax.Array, jax.Array],
    ) -> tuple[Any, Any, jax.Array, jax.Array]:
        _, z, _, i = carry
        v = _normalized(z)
        z = mvp(v)
        return v, z, _vdot(v, z).astype(eig.dtype), i + 1

    carry = (v, z, eig, jnp.zeros((), jnp.int32))
    _, z, eig, _ = lax.while_loop(not_converged, step, carry)
    return eig, _normalized(z)


@functools.partial(jax.jit, static_argnames="precision")
def _iterate_matrix(
    a: jax.Array,
    v0: jax.Array,
    num_iters: Any,
    error_tolerance: Any,
    precision: Precision,
) -> tuple[jax.Array, jax.Array]:
    """:func:`_iterate` on ``v -> a @ v``, compiled once per shape and dtype."""
    return _iterate(
        lambda v: jnp.matmul(a, v, precision=precision), v0, num_iters, error_tolerance
    )
