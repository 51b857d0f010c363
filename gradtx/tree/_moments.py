"""Running moments of the updates, the state of adaptive optimizers:
``update_moment``, ``update_moment_per_elem_norm``, ``update_infinity_moment``,
``bias_correction``.

Numerics, where gradtx differs from ``optax.tree`` on purpose: the new
moment is computed in at least float32 and rounded once, to the old moment's
dtype, which it keeps. So a bfloat16 moment does not lose the small increment
:math:`(1-\\beta)(g^2 - v)` to intermediate roundings, and a moment's dtype
never drifts between steps (which would retrace a jitted step and change the
optimizer state's layout). optax computes in the leaves' dtypes and returns
the promoted dtype of updates and moments. A real moment of complex updates
(``update_moment``) raises instead of dropping the imaginary part.
For equal dtypes of float32 or wider the results are optax's.

``None`` leaves of the updates give ``None`` moments, as in optax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gradtx.tree import _common
from gradtx.tree._common import abs_sq, is_none, map_trees, real_dtype, up, validate

__all__ = [
    "bias_correction",
    "update_infinity_moment",
    "update_moment",
    "update_moment_per_elem_norm",
]

Leaf = Any


def _moment_map(
    who: str,
    fn: Callable[[jax.Array, jax.Array], jax.Array],
    updates: Any,
    moments: Any,
) -> Any:
    """``fn(g, t)`` in float32+ for each leaf pair, cast to the moment's dtype."""

    def leaf(path: tuple[Any, ...], g: Leaf, t: Leaf) -> Leaf:
        if g is None:
            return None
        t = jnp.asarray(t)
        if not jnp.issubdtype(t.dtype, jnp.inexact):
            raise validate.error(
                TypeError,
                who,
                f"moments{jax.tree_util.keystr(path)} is {t.dtype}; a moment is a "
                "running average and must be floating point (or complex).",
            )
        new = fn(up(g), up(t))
        if jnp.iscomplexobj(new) and not jnp.iscomplexobj(t):
            raise validate.error(
                TypeError,
                who,
                f"moments{jax.tree_util.keystr(path)} is {t.dtype} but the updates "
                f"there are {jnp.result_type(g)}; a real moment would drop the "
                "imaginary part. Make the moment complex (zeros_like(updates)), or "
                "average |g|^order with update_moment_per_elem_norm.",
            )
        return new.astype(t.dtype)

    return map_trees(
        leaf,
        updates,
        moments,
        names=("updates", "moments"),
        is_leaf=is_none,
        with_path=True,
        who=who,
    )


def update_moment(updates: Any, moments: Any, decay: Any, order: Any) -> Any:
    r"""The exponential moving average of the ``order``-th power of the updates.

    .. math:: t \leftarrow (1 - \beta)\, g^{k} + \beta\, t

    with :math:`\beta` = ``decay`` and :math:`k` = ``order``; Adam's first
    moment is ``order=1``. Computed in at least float32, returned in each
    moment's dtype (see the module note).

    Args:
      updates: the new values :math:`g` (``None`` leaves give ``None``).
      moments: the running moments :math:`t`, a tree like ``updates``.
      decay: :math:`\beta`, usually in ``[0, 1)``.
      order: the power :math:`k`.

    Returns:
      The new moments, a tree like ``moments`` with its dtypes.

    Raises:
      TreeMismatchError: the trees differ in structure.
      TypeError: a moment is not floating, or is real for complex updates.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.update_moment({"w": jnp.array([2.0])},
      ...                           {"w": jnp.array([1.0])}, decay=0.75, order=2)
      {'w': Array([1.75], dtype=float32)}
    """
    return _moment_map(
        "update_moment",
        lambda g, t: (1 - decay) * (g**order) + decay * t,
        updates,
        moments,
    )


def _per_elem_norm(g: jax.Array, order: Any) -> jax.Array:
    """:math:`|g|^k`: ``g**k`` for real ``g`` (as optax), ``(|g|^2)^(k/2)`` else."""
    if not jnp.iscomplexobj(g):
        return g**order
    half = order / 2
    if float(half).is_integer():
        half = int(half)  # an integer power compiles to multiplications
    return abs_sq(g) ** half


def update_moment_per_elem_norm(
    updates: Any, moments: Any, decay: Any, order: Any
) -> Any:
    r"""The exponential moving average of the elements' magnitudes to a power.

    .. math:: t \leftarrow (1 - \beta)\, |g|^{k} + \beta\, t

    For complex updates :math:`|g|^k = (\mathrm{re}(g)^2 +
    \mathrm{im}(g)^2)^{k/2}`, a real number, so the moment can be real (Adam's
    second moment is ``order=2``); for real updates it is :math:`g^k`, as in
    optax (an odd ``order`` keeps the sign). Computed in at least float32,
    returned in each moment's dtype (see the module note).

    Args:
      updates: the new values :math:`g` (``None`` leaves give ``None``).
      moments: the running moments :math:`t`, a tree like ``updates``.
      decay: :math:`\beta`, usually in ``[0, 1)``.
      order: the power :math:`k`.

    Returns:
      The new moments, a tree like ``moments`` with its dtypes.

    Raises:
      TreeMismatchError: the trees differ in structure.
      TypeError: a moment is not floating.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.update_moment_per_elem_norm(
      ...     {"w": jnp.array([3.0 + 4.0j])}, {"w": jnp.zeros(1)}, decay=0.5, order=2)
      {'w': Array([12.5], dtype=float32)}
    """
    return _moment_map(
        "update_moment_per_elem_norm",
        lambda g, t: (1 - decay) * _per_elem_norm(g, order) + decay * t,
        updates,
        moments,
    )


def update_infinity_moment(updates: Any, moments: Any, decay: Any, eps: Any) -> Any:
    r"""The decaying maximum of the magnitudes (Adamax's second moment).

    .. math:: t \leftarrow \max(|g| + \epsilon,\ \beta\, t)

    Computed in at least float32, returned in each moment's dtype.

    Args:
      updates: the new values :math:`g` (``None`` leaves give ``None``).
      moments: the running maxima :math:`t`, a tree like ``updates``.
      decay: :math:`\beta`.
      eps: :math:`\epsilon`, keeps the moment positive.

    Returns:
      The new moments, a tree like ``moments`` with its dtypes.

    Raises:
      TreeMismatchError: the trees differ in structure.
      TypeError: a moment is not floating.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.update_infinity_moment({"w": jnp.array([-3.0, 0.5])},
      ...     {"w": jnp.array([1.0, 2.0])}, decay=0.5, eps=0.0)
      {'w': Array([3., 1.], dtype=float32)}
    """
    return _moment_map(
        "update_infinity_moment",
        lambda g, t: jnp.maximum(jnp.abs(g) + eps, decay * t),
        updates,
        moments,
    )


def bias_correction(moment: Any, decay: Any, count: Any) -> Any:
    r"""The moments divided by :math:`1 - \beta^{n}` (Adam's bias correction).

    .. math:: \hat t = t \,/\, (1 - \beta^{n})

    with :math:`\beta` = ``decay`` and :math:`n` = ``count``, the number of
    updates averaged so far (:math:`n \ge 1`; at :math:`n = 0` it divides by
    zero). The factor is computed in float32 (float64 with
    ``jax_enable_x64``) even for a low-precision ``decay``, and the division
    in at least float32, rounded once to each moment's dtype (optax divides
    in the moment's dtype, by the factor rounded to it).

    Args:
      moment: a pytree of moments.
      decay: :math:`\beta`.
      count: :math:`n`, an integer (array).

    Returns:
      A tree like ``moment`` with its dtypes.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> gradtx.tree.bias_correction({"m": jnp.array([0.1])}, 0.9, jnp.array(1))
      {'m': Array([1.], dtype=float32)}
    """
    factor = _common.bias_correction(decay, jnp.asarray(count))

    def leaf(t: Leaf) -> jax.Array:
        t = jnp.asarray(t)
        wide = up(t)
        return (wide / factor.astype(real_dtype(wide.dtype))).astype(t.dtype)

    return jax.tree.map(leaf, moment)
