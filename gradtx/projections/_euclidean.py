"""Projections defined by inner products: l2 balls and spheres, lines, hyperplanes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.projections._common import real_tree, same_layout, scaled, tree_size, vdot

__all__ = [
    "projection_halfspace",
    "projection_hyperplane",
    "projection_l2_ball",
    "projection_l2_sphere",
    "projection_vector",
]


def projection_l2_sphere(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the :math:`\ell_2` sphere :math:`\{y : \|y\|_2 = s\}`.

    .. math::
       p = \frac{s}{\|x\|_2}\, x \quad (x \ne 0)

    with the norm over all the leaves together. At :math:`x = 0` every point
    of the sphere is a projection; gradtx returns
    :math:`s\,\mathbf{1}/\sqrt{n}` (with a zero gradient there).

    Args:
      tree: a pytree of real floating arrays :math:`x`.
      scale: the radius :math:`s > 0`.

    Returns:
      The projection, with ``tree``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: a concrete ``scale`` is not a finite number > 0.

    gradtx differs from optax at :math:`x = 0`, where optax returns NaN.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_l2_sphere(jnp.array([3.0, 4.0]), 10.0)
      Array([6., 8.], dtype=float32)
    """
    fn = "projection_l2_sphere"
    validate.number(fn, "scale", scale, low=0.0, low_open=True)
    return _l2_sphere(real_tree(fn, "tree", tree), scale)


@jax.jit
def _l2_sphere(tree: Any, scale: Any) -> Any:
    n = tree_size(tree)
    if n == 0:
        return tree
    squared = vdot(tree, tree)
    zero = squared == 0
    factor = scale / jnp.sqrt(jnp.where(zero, 1, squared))
    default = scale / jnp.sqrt(jnp.asarray(n, squared.dtype))
    return jax.tree.map(
        lambda x: jnp.where(zero, default, factor * x).astype(x.dtype), tree
    )


def projection_l2_ball(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the :math:`\ell_2` ball :math:`\{y : \|y\|_2 \le s\}`.

    .. math::
       p = \frac{s}{\max(\|x\|_2, s)}\, x

    with the norm over all the leaves together. Inside the ball the factor is
    exactly 1, and its gradient is never NaN (not at 0, nor for ``scale=0``).

    Args:
      tree: a pytree of real floating arrays :math:`x`.
      scale: the radius :math:`s \ge 0`.

    Returns:
      The projection, with ``tree``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: a concrete ``scale`` is negative or not finite.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.5.1, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_l2_ball(
      ...     {"a": jnp.array([3.0]), "b": jnp.array([4.0])}, 1.0)
      {'a': Array([0.6], dtype=float32), 'b': Array([0.8], dtype=float32)}
    """
    fn = "projection_l2_ball"
    validate.number(fn, "scale", scale, low=0.0)
    return _l2_ball(real_tree(fn, "tree", tree), scale)


@jax.jit
def _l2_ball(tree: Any, scale: Any) -> Any:
    if tree_size(tree) == 0:
        return tree
    squared = vdot(tree, tree)
    inside = squared <= jnp.square(scale)
    # Both branches of the where are finite, so the gradient is too.
    factor = jnp.where(inside, 1, scale / jnp.sqrt(jnp.where(inside, 1, squared)))
    return scaled(factor, tree)


def _pair(fn: str, x: Any, a: Any) -> tuple[Any, Any]:
    """``x`` and ``a`` checked: real floating trees of one structure and shapes."""
    x, a = real_tree(fn, "x", x), real_tree(fn, "a", a)
    same_layout(fn, "a", a, x, "x")
    return x, a


_squared_norm = jax.jit(lambda tree: vdot(tree, tree))


def _nonzero(fn: str, squared: jax.Array, what: str) -> None:
    """Raises ValueError if a concrete :math:`\\|a\\|^2` is 0 (not under jit)."""
    if validate.is_concrete(squared) and float(squared) == 0.0:
        raise validate.error(ValueError, fn, f"a is zero: {what}.")


def projection_vector(x: Any, a: Any) -> Any:
    r"""Projection onto the line spanned by :math:`a`.

    .. math::
       p = \frac{\langle x, a \rangle}{\langle a, a \rangle}\, a

    with the inner product over all the leaves together. For :math:`a = 0` the
    line is :math:`\{0\}`, and the result is 0.

    Args:
      x: a pytree of real floating arrays.
      a: a pytree with ``x``'s structure and shapes.

    Returns:
      The projection, with ``a``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: ``a`` and ``x`` differ in structure or shapes.

    gradtx differs from optax at :math:`a = 0`: optax returns NaN.

    References:
      Boyd & Vandenberghe, *Introduction to Applied Linear Algebra*, Cambridge
      2018, §5.4 (projection on a line), https://web.stanford.edu/~boyd/vmls/

    Example:
      >>> import gradtx.projections
      >>> gradtx.projections.projection_vector((1.0, 2.0), (3.0, 4.0))
      (Array(1.32, dtype=float32), Array(1.76, dtype=float32))
    """
    return _vector(*_pair("projection_vector", x, a))


@jax.jit
def _vector(x: Any, a: Any) -> Any:
    aa = vdot(a, a)
    return scaled(jnp.where(aa == 0, 0, vdot(x, a) / jnp.where(aa == 0, 1, aa)), a)


def projection_hyperplane(x: Any, a: Any, b: Any) -> Any:
    r"""Projection onto the hyperplane :math:`\{y : \langle a, y \rangle = b\}`.

    .. math::
       p = x + \frac{b - \langle a, x \rangle}{\langle a, a \rangle}\, a

    with the inner product over all the leaves together.

    Args:
      x: a pytree of real floating arrays.
      a: the normal, a pytree with ``x``'s structure and shapes, nonzero.
      b: the offset, a scalar.

    Returns:
      The projection, with ``x``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating, or ``b`` is not a number.
      ValueError: ``a`` and ``x`` differ in structure or shapes, ``b`` is not
        a finite scalar, or a concrete ``a`` is zero (under ``jit``, that
        gives NaN unless ``b = 0``).

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2.1, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections
      >>> gradtx.projections.projection_hyperplane((1.0, 2.0), (3.0, 4.0), 5.0)
      (Array(0.28, dtype=float32), Array(1.04, dtype=float32))
    """
    fn = "projection_hyperplane"
    validate.number(fn, "b", b)
    x, a = _pair(fn, x, a)
    aa = _squared_norm(a)
    _nonzero(fn, aa, "the hyperplane <0, y> = b is empty or everything")
    return _hyperplane(x, a, b, aa)


@jax.jit
def _hyperplane(x: Any, a: Any, b: Any, aa: jax.Array) -> Any:
    step = (b - vdot(a, x)) / aa
    return jax.tree.map(lambda xi, ai: (xi + step * ai).astype(xi.dtype), x, a)


def projection_halfspace(x: Any, a: Any, b: Any) -> Any:
    r"""Projection onto the halfspace :math:`\{y : \langle a, y \rangle \le b\}`.

    .. math::
       p = x + \frac{\min(b - \langle a, x \rangle, 0)}{\langle a, a \rangle}\, a

    with the inner product over all the leaves together: :math:`x` itself if
    it lies in the halfspace, else its projection onto the boundary
    hyperplane. For :math:`a = 0` and :math:`b \ge 0` the halfspace is
    everything, and the result is :math:`x`.

    Args:
      x: a pytree of real floating arrays.
      a: the normal, a pytree with ``x``'s structure and shapes.
      b: the offset, a scalar.

    Returns:
      The projection, with ``x``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating, or ``b`` is not a number.
      ValueError: ``a`` and ``x`` differ in structure or shapes, ``b`` is not
        a finite scalar, or a concrete ``a`` is zero with ``b < 0`` (an empty
        halfspace).

    gradtx differs from optax at :math:`a = 0`: optax returns NaN.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2.1, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections
      >>> gradtx.projections.projection_halfspace((1.0, -2.0), (3.0, 4.0), 5.0)
      (Array(1., dtype=float32), Array(-2., dtype=float32))
    """
    fn = "projection_halfspace"
    validate.number(fn, "b", b)
    x, a = _pair(fn, x, a)
    aa = _squared_norm(a)
    if validate.is_concrete(b) and float(b) < 0:
        _nonzero(fn, aa, f"the halfspace <0, y> <= b = {b!r} is empty")
    return _halfspace(x, a, b, aa)


@jax.jit
def _halfspace(x: Any, a: Any, b: Any, aa: jax.Array) -> Any:
    zero = aa == 0
    step = jnp.minimum(b - vdot(a, x), 0) / jnp.where(zero, 1, aa)
    step = jnp.where(zero, 0, step)
    return jax.tree.map(lambda xi, ai: (xi + step * ai).astype(xi.dtype), x, a)
