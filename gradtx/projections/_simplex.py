"""Projections onto the simplex and the l1 ball and sphere (Duchi et al., 2008)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import flatten_util

from gradtx._internal import validate
from gradtx.projections._common import real_tree

__all__ = ["projection_l1_ball", "projection_l1_sphere", "projection_simplex"]


@jax.custom_jvp
def _simplex(v: jax.Array, s: jax.Array) -> jax.Array:
    """The projection of the vector ``v`` onto :math:`\\{p \\ge 0, \\sum p = s\\}`."""
    u = jnp.sort(v)[::-1]
    j = jnp.arange(1, v.shape[0] + 1, dtype=v.dtype)
    excess = jnp.cumsum(u) - s
    # rho: the largest j with u_j > (sum_{i<=j} u_i - s) / j; j = 1 always holds
    # for finite v and s > 0 (the fallback only guards non-finite inputs).
    rho = jnp.max(jnp.where(u * j > excess, j, 1)).astype(jnp.int32)
    theta = excess[rho - 1] / rho.astype(v.dtype)
    return jax.nn.relu(v - theta)


@_simplex.defjvp
def _simplex_jvp(
    primals: tuple[jax.Array, jax.Array], tangents: tuple[jax.Array, jax.Array]
) -> tuple[jax.Array, jax.Array]:
    v, s = primals
    dv, ds = tangents
    p = _simplex(v, s)
    support = (p > 0).astype(v.dtype)
    size = jnp.maximum(jnp.sum(support), 1)
    # On the support p = v - theta with sum(p) = s: dtheta = (sum dv - ds) / |S|.
    dtheta = (jnp.vdot(support, dv) - ds) / size
    return p, support * (dv - dtheta)


def _scale(fn: str, scale: Any) -> None:
    validate.number(fn, "scale", scale, low=0.0, low_open=True)


def projection_simplex(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the simplex :math:`\{p \ge 0, \sum_i p_i = s\}`.

    All the leaves of ``tree`` together form one vector :math:`x` (not one
    simplex per leaf). With :math:`u` the entries of :math:`x` sorted in
    decreasing order (Duchi et al., 2008, Figure 1):

    .. math::
       \rho = \max\Big\{j : u_j - \tfrac{1}{j}\big(\textstyle\sum_{i \le j}
       u_i - s\big) > 0\Big\}, \quad
       \theta = \tfrac{1}{\rho}\big(\textstyle\sum_{i \le \rho} u_i - s\big),
       \quad p = \max(x - \theta, 0)

    in :math:`O(n \log n)`. The Jacobian is exact almost everywhere:
    :math:`\partial p / \partial x = \operatorname{diag}(m) - m m^\top / |S|`,
    with :math:`m` the indicator of the support :math:`S` of :math:`p`.

    Args:
      tree: a pytree of real floating arrays :math:`x`.
      scale: :math:`s > 0`, what the projection sums to (default: the
        probability simplex).

    Returns:
      The projection, with ``tree``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: a concrete ``scale`` is not a finite number > 0.

    References:
      Duchi, Shalev-Shwartz, Singer & Chandra, *Efficient Projections onto
      the l1-Ball for Learning in High Dimensions*, ICML 2008,
      https://doi.org/10.1145/1390156.1390191

      Condat, *Fast projection onto the simplex and the l1 ball*,
      Mathematical Programming 2016, https://doi.org/10.1007/s10107-015-0946-6

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_simplex(jnp.array([2.0, 1.5, -1.0]))
      Array([0.75, 0.25, 0.  ], dtype=float32)
    """
    fn = "projection_simplex"
    _scale(fn, scale)
    return _simplex_tree(real_tree(fn, "tree", tree), scale)


@jax.jit
def _simplex_tree(tree: Any, scale: Any) -> Any:
    """The simplex projection of a checked ``tree`` (one compiled kernel)."""
    flat, unravel = flatten_util.ravel_pytree(tree)
    if flat.size == 0:
        return tree
    return unravel(_simplex(flat, jnp.asarray(scale, flat.dtype)))


@jax.jit
def _l1_sphere(tree: Any, scale: Any) -> Any:
    """The l1-sphere projection of a checked ``tree`` (see projection_l1_sphere)."""
    flat, unravel = flatten_util.ravel_pytree(tree)
    if flat.size == 0:
        return tree
    sign = jnp.where(flat >= 0, 1, -1).astype(flat.dtype)
    return unravel(sign * _simplex(jnp.abs(flat), jnp.asarray(scale, flat.dtype)))


def projection_l1_sphere(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the :math:`\ell_1` sphere :math:`\{y : \|y\|_1 = s\}`.

    Each coordinate keeps the sign of :math:`x` (that is always optimal), and
    the magnitudes are the simplex projection of :math:`|x|`:

    .. math::
       p = \sigma(x) \odot \Pi_{\Delta_s}(|x|), \quad
       \sigma(x)_i = 1 \text{ if } x_i \ge 0 \text{ else } -1

    where :math:`\Pi_{\Delta_s}` is :func:`projection_simplex`. The sphere is
    not convex, so the projection of points with zeros is not unique; zeros
    take the sign +1, so the result always lies on the sphere.

    Args:
      tree: a pytree of real floating arrays :math:`x`.
      scale: the radius :math:`s > 0`.

    Returns:
      The projection, with ``tree``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: a concrete ``scale`` is not a finite number > 0.

    gradtx differs from optax where :math:`x` has zeros: optax multiplies by
    ``sign(0) = 0``, so its result is off the sphere (``0`` maps to ``0``).

    References:
      Duchi, Shalev-Shwartz, Singer & Chandra, *Efficient Projections onto
      the l1-Ball for Learning in High Dimensions*, ICML 2008, Lemma 3,
      https://doi.org/10.1145/1390156.1390191

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_l1_sphere(jnp.array([0.2, -0.2, 0.0]))
      Array([ 0.4, -0.4,  0.2], dtype=float32)
    """
    fn = "projection_l1_sphere"
    _scale(fn, scale)
    return _l1_sphere(real_tree(fn, "tree", tree), scale)


def projection_l1_ball(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the :math:`\ell_1` ball :math:`\{y : \|y\|_1 \le s\}`.

    .. math::
       p = x \text{ if } \|x\|_1 \le s, \text{ else }
       \operatorname{sign}(x) \odot \Pi_{\Delta_s}(|x|)

    (Duchi et al., 2008, §4), with :math:`\Pi_{\Delta_s}` the simplex
    projection of :func:`projection_simplex`. The norm is taken over all the
    leaves together. Differentiable (under ``jax.grad``, only the branch
    taken is differentiated: the gradient at 0 is the identity).

    Args:
      tree: a pytree of real floating arrays :math:`x`.
      scale: the radius :math:`s > 0`.

    Returns:
      The projection, with ``tree``'s structure and dtypes.

    Raises:
      TypeError: a leaf is not real floating.
      ValueError: a concrete ``scale`` is not a finite number > 0.

    References:
      Duchi, Shalev-Shwartz, Singer & Chandra, *Efficient Projections onto
      the l1-Ball for Learning in High Dimensions*, ICML 2008,
      https://doi.org/10.1145/1390156.1390191

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_l1_ball({"w": jnp.array([2.0, -1.0])})
      {'w': Array([ 1., -0.], dtype=float32)}
    """
    fn = "projection_l1_ball"
    _scale(fn, scale)
    return _l1_ball(real_tree(fn, "tree", tree), scale)


@jax.jit
def _l1_ball(tree: Any, scale: Any) -> Any:
    """The l1-ball projection of a checked ``tree`` (one compiled kernel)."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return tree
    l1 = sum(
        jnp.sum(jnp.abs(x), dtype=jnp.promote_types(x.dtype, jnp.float32))
        for x in leaves
    )
    return jax.lax.cond(l1 <= scale, lambda t: t, lambda t: _l1_sphere(t, scale), tree)
