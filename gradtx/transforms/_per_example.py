"""Per-example gradient clipping, for differentially private training."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx._internal.numerics import COUNT_DTYPE

__all__ = ["per_example_global_norm_clip", "per_example_layer_norm_clip"]


_INF_OK = "(inf is allowed: no clipping.)"

_NOT_BATCHED = (
    "every array in grads must have the batch of per-example gradients on axis "
    "0 (size {batch}); grads{path} has shape {shape}. Compute them with "
    "jax.vmap(jax.grad(loss), in_axes=(None, 0))."
)


def _first_unbatched(grads: Any) -> str | None:
    """How the first leaf without the common batch axis is wrong; None if none."""
    leaves = jax.tree_util.tree_flatten_with_path(grads)[0]
    if not leaves:
        return "grads has no arrays."
    first = leaves[0][1]
    batch = jnp.shape(first)[0] if jnp.ndim(first) else None
    for path, g in leaves:
        if jnp.ndim(g) == 0 or jnp.shape(g)[0] != batch:
            path_str = jax.tree_util.keystr(path)
            return _NOT_BATCHED.format(batch=batch, path=path_str, shape=jnp.shape(g))
    return None


def _clip_sum(grads: Any, clip: Any) -> tuple[Any, jax.Array]:
    """Sum over axis 0 of each example's gradient scaled to a norm <= clip."""
    norms = jax.vmap(tree.norm)(grads)
    ratio = jnp.minimum(jnp.asarray(clip, norms.dtype) / norms, 1.0)
    multipliers = jnp.where(jnp.isnan(ratio), 1.0, ratio).astype(norms.dtype)
    clipped = jnp.sum(multipliers < 1.0).astype(COUNT_DTYPE)

    def leaf(g: jax.Array) -> jax.Array:
        m = multipliers.astype(jnp.result_type(jnp.real(g).dtype, jnp.float32))
        return jnp.tensordot(m, g, axes=1)

    return jax.tree.map(leaf, grads), clipped


def per_example_global_norm_clip(
    grads: Any, l2_norm_clip: Any
) -> tuple[Any, jax.Array]:
    r"""Clips each example's gradient to a global norm, then sums over examples.

    With :math:`g_i` the gradient of example :math:`i` (all leaves of
    ``grads`` at index ``i`` of axis 0) and :math:`C` the clip norm:

    .. math::
       \textstyle\sum_i \min\!\big(1, C / \lVert g_i \rVert_2\big)\, g_i

    the first step of DP-SGD (add noise and divide by the batch size after).
    An example with a zero gradient is left as it is.

    Args:
      grads: a tree of per-example gradients, each with the batch on axis 0.
      l2_norm_clip: :math:`C \ge 0` (``inf``: no clipping).

    Returns:
      ``(summed, num_clipped)``: the sum of the clipped gradients (a tree like
      one example's) and the number of examples that were clipped (int32).

    Raises:
      ValueError: a leaf has no batch axis or another batch size, or
        ``l2_norm_clip`` is negative or NaN.
      TypeError: ``l2_norm_clip`` is not a number.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> grads = [jnp.array([[0.0, 0, 0], [0, 3, 4], [4, 0, 3], [3, 4, 0]])]
      >>> gradtx.per_example_global_norm_clip(grads, 1.25)
      ([Array([1.75, 1.75, 1.75], dtype=float32)], Array(3, dtype=int32))

    References:
      Abadi et al., *Deep Learning with Differential Privacy*, CCS 2016,
      https://arxiv.org/abs/1607.00133
    """
    fn = validate.who("per_example_global_norm_clip")
    if validate.concrete_float(l2_norm_clip) != math.inf:
        validate.number(fn, "l2_norm_clip", l2_norm_clip, low=0.0, hint=_INF_OK)
    problem = _first_unbatched(grads)
    if problem:
        raise validate.error(ValueError, fn, problem)
    return _clip_sum(grads, l2_norm_clip)


def per_example_layer_norm_clip(
    grads: Any, global_l2_norm_clip: Any, uniform: bool = True
) -> tuple[Any, Any]:
    r"""Clips each example's gradient leaf by leaf, then sums over examples.

    Each of the :math:`K` leaves is clipped as in
    :func:`per_example_global_norm_clip`, to its own norm :math:`C_k`, chosen
    so that :math:`\sum_k C_k^2 = C^2` (the whole example then has a norm of
    at most :math:`C`):

    .. math::
       C_k = C / \sqrt{K} \;\;(\text{uniform}) \quad\text{or}\quad
       C_k = C \sqrt{D_k / D}

    where :math:`D_k` is the size of one example's leaf :math:`k` and
    :math:`D = \sum_k D_k`.

    Args:
      grads: a tree of per-example gradients, each with the batch on axis 0.
      global_l2_norm_clip: :math:`C \ge 0` (``inf``: no clipping).
      uniform: the same :math:`C_k` for every leaf, or one that grows with
        the leaf's size.

    Returns:
      ``(summed, num_clipped)``: the sum of the clipped gradients (a tree like
      one example's) and, a tree like it, the number of examples clipped in
      each leaf (int32).

    Raises:
      ValueError: a leaf has no batch axis or another batch size, or
        ``global_l2_norm_clip`` is negative or NaN.
      TypeError: ``global_l2_norm_clip`` is not a number, or ``uniform`` not
        a bool.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> grads = {"a": jnp.array([[3.0, 4.0]]), "b": jnp.array([[0.0, 0.1]])}
      >>> summed, clipped = gradtx.per_example_layer_norm_clip(grads, 5.0 * 2**0.5)
      >>> summed["a"], clipped["a"], clipped["b"]
      (Array([3., 4.], dtype=float32), Array(0, dtype=int32), Array(0, dtype=int32))

    References:
      McMahan et al., *Learning Differentially Private Recurrent Language
      Models*, ICLR 2018, https://arxiv.org/abs/1710.06963
    """
    fn = validate.who("per_example_layer_norm_clip")
    clip = global_l2_norm_clip
    if validate.concrete_float(clip) != math.inf:
        validate.number(fn, "global_l2_norm_clip", clip, low=0.0, hint=_INF_OK)
    validate.boolean(fn, "uniform", uniform)
    problem = _first_unbatched(grads)
    if problem:
        raise validate.error(ValueError, fn, problem)
    leaves = jax.tree.leaves(grads)
    if uniform:
        fractions = [1.0 / len(leaves)] * len(leaves)
    else:
        sizes = [math.prod(jnp.shape(g)[1:]) for g in leaves]
        fractions = [s / sum(sizes) for s in sizes]
    treedef = jax.tree.structure(grads)
    pairs = [
        _clip_sum(g, global_l2_norm_clip * f**0.5)
        for g, f in zip(leaves, fractions, strict=True)
    ]
    summed = jax.tree.unflatten(treedef, [s for s, _ in pairs])
    clipped = jax.tree.unflatten(treedef, [c for _, c in pairs])
    return summed, clipped
