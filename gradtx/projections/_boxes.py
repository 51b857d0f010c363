"""Projections onto boxes: the non-negative orthant, boxes, hypercubes, l-inf balls.

A box is a product of intervals, so its Euclidean projection is a clip of each
coordinate: :math:`p_i = \\min(\\max(x_i, l_i), u_i)`.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx._internal import validate

__all__ = [
    "projection_box",
    "projection_hypercube",
    "projection_linf_ball",
    "projection_non_negative",
]


def _bound_tree(fn: str, name: str, bound: Any, tree: Any) -> Any:
    """``bound`` as a tree like ``tree``: itself, or one leaf repeated."""
    tree_def: Any = jax.tree.structure(tree)
    bound_def: Any = jax.tree.structure(bound)
    if bound_def == tree_def:
        return bound
    if jax.tree_util.treedef_is_leaf(bound_def) and bound is not None:
        return jax.tree.unflatten(tree_def, [bound] * tree_def.num_leaves)
    raise validate.error(
        ValueError,
        fn,
        f"{name} must be a scalar, an array, or a tree with the structure of "
        f"tree ({tree_def}), got the structure {bound_def}.",
    )


def _clip_tree(
    fn: str, tree: Any, lower: Any, upper: Any, names: tuple[str, str]
) -> Any:
    """Clips each leaf of ``tree`` to ``[lower, upper]`` (trees of bounds)."""
    lower = _bound_tree(fn, names[0], lower, tree)
    upper = _bound_tree(fn, names[1], upper, tree)
    paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    out = []
    for (path, x), lo, hi in zip(
        paths_leaves, jax.tree.leaves(lower), jax.tree.leaves(upper), strict=True
    ):
        where = jax.tree_util.keystr(path)
        x = validate.as_array(fn, f"tree{where}", x)
        lo = validate.as_array(fn, f"{names[0]}{where}", lo)
        hi = validate.as_array(fn, f"{names[1]}{where}", hi)
        shape = tuple(x.shape)
        validate.fits_shape(fn, f"{names[0]}{where}", lo, shape, f"tree{where}")
        validate.fits_shape(fn, f"{names[1]}{where}", hi, shape, f"tree{where}")
        concrete = validate.is_concrete(lo) and validate.is_concrete(hi)
        if concrete and bool(np.any(np.asarray(lo) > np.asarray(hi))):
            text = (
                f"{names[1]}{where} must be >= 0, got {np.asarray(hi)}."
                if names[0] == "0"
                else f"{names[0]}{where} > {names[1]}{where} somewhere: the box "
                f"is empty (got {np.asarray(lo)} and {np.asarray(hi)})."
            )
            raise validate.error(ValueError, fn, text)
        p = jnp.clip(x, lo, hi)
        out.append(p.astype(x.dtype) if jnp.issubdtype(x.dtype, jnp.inexact) else p)
    return jax.tree.unflatten(treedef, out)


def projection_non_negative(tree: Any) -> Any:
    r"""Projection onto the non-negative orthant, :math:`p = \max(x, 0)`.

    .. math::
       p = \operatorname*{argmin}_{y \ge 0} \|x - y\|_2^2

    Args:
      tree: a pytree of arrays (or numbers) :math:`x`.

    Returns:
      ``max(leaf, 0)`` for every leaf, with ``tree``'s structure.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_non_negative({"w": jnp.array([-1.0, 2.0])})
      {'w': Array([0., 2.], dtype=float32)}
    """
    return jax.tree.map(jax.nn.relu, tree)


def projection_box(tree: Any, lower: Any, upper: Any) -> Any:
    r"""Projection onto the box :math:`\{y : l \le y \le u\}`: a clip.

    .. math::
       p = \operatorname*{argmin}_{l \le y \le u} \|x - y\|_2^2
         = \min(\max(x, l), u)

    Args:
      tree: a pytree of arrays :math:`x`.
      lower: :math:`l`: a scalar or array broadcasting to every leaf, or a tree
        with ``tree``'s structure whose leaves broadcast to its leaves.
      upper: :math:`u`, like ``lower``.

    Returns:
      The projection, with ``tree``'s structure; floating leaves keep their
      dtype.

    Raises:
      ValueError: a bound has another structure, does not broadcast to its
        leaf, or (when concrete) ``lower > upper`` somewhere (an empty box).

    gradtx differs from optax: a scalar bound also works for a tree (optax
    needs a tree of bounds then), and floating leaves keep their dtype (optax
    promotes them to the bounds' dtype).

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_box(jnp.array([-1.0, 0.5, 3.0]), 0.0, 2.0)
      Array([0. , 0.5, 2. ], dtype=float32)
    """
    return _clip_tree("projection_box", tree, lower, upper, ("lower", "upper"))


def projection_hypercube(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the hypercube :math:`[0, s]^n`.

    .. math::
       p = \min(\max(x, 0), s)

    This is :func:`projection_box` with ``lower=0`` and ``upper=scale``.

    Args:
      tree: a pytree of arrays :math:`x`.
      scale: :math:`s \ge 0`, a scalar, an array broadcasting to every leaf, or
        a tree of them with ``tree``'s structure (default: the unit cube).

    Returns:
      The projection, with ``tree``'s structure.

    Raises:
      ValueError: ``scale`` is negative somewhere (when concrete) or does not
        fit ``tree``.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.2, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_hypercube(jnp.array([-1.0, 0.5, 3.0]))
      Array([0. , 0.5, 1. ], dtype=float32)
    """
    return _clip_tree("projection_hypercube", tree, 0, scale, ("0", "scale"))


def projection_linf_ball(tree: Any, scale: Any = 1) -> Any:
    r"""Projection onto the :math:`\ell_\infty` ball of radius :math:`s`.

    .. math::
       p = \operatorname*{argmin}_{\|y\|_\infty \le s} \|x - y\|_2^2
         = \min(\max(x, -s), s)

    Args:
      tree: a pytree of arrays :math:`x`.
      scale: the radius :math:`s \ge 0`, a scalar.

    Returns:
      The projection, with ``tree``'s structure; leaves keep their dtype.

    Raises:
      ValueError: a concrete ``scale`` is negative, not finite, or not a
        scalar.

    References:
      Parikh & Boyd, *Proximal Algorithms*, Foundations and Trends in
      Optimization 2014, §6.5.2, https://web.stanford.edu/~boyd/papers/prox_algs.html

    Example:
      >>> import gradtx.projections, jax.numpy as jnp
      >>> gradtx.projections.projection_linf_ball(jnp.array([-3.0, 0.5]), 2.0)
      Array([-2. ,  0.5], dtype=float32)
    """
    fn = "projection_linf_ball"
    validate.number(fn, "scale", scale, low=0.0)
    return _clip_tree(fn, tree, -jnp.asarray(scale), scale, ("-scale", "scale"))
