"""The global norm of a tree: ``norm`` (L2 by default, L1 and L-infinity).

Numerics, where gradtx differs from ``optax.tree.norm`` on purpose: every
element is accumulated in one real dtype, the widest real dtype among the
leaves and at least float32, and the result has that dtype. So float16 and
bfloat16 gradients neither overflow (float16 squares overflow above 256) nor
lose their small elements, and a norm is always a real floating scalar, also
for integer leaves. optax squares and sums each leaf in its own dtype and
returns the promoted dtype (bfloat16 for a bfloat16 tree; an integer for the
L1 norm of integer leaves; ``-inf`` for the L-infinity norm of an empty
tree, where gradtx returns 0).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gradtx.tree._common import abs_sq, real_dtype, reduce_leaves, validate

__all__ = ["norm"]

_ORDS = "None, 2, 1, inf (or 'inf', 'infinity')"


def _kind(ord: Any) -> str:
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return "l2"
    if not isinstance(ord, str) and ord == 1:
        return "l1"
    if (not isinstance(ord, str) and ord == np.inf) or ord in ("inf", "infinity"):
        return "linf"
    raise validate.error(
        ValueError, "norm", f"unsupported ord={ord!r}; use one of {_ORDS}."
    )


def _accumulation(leaves: list[jax.Array]) -> Any:
    """The widest real dtype of the leaves, at least float32."""
    if not leaves:
        return jnp.dtype(jnp.float32)
    widest = jnp.result_type(*(real_dtype(x.dtype) for x in leaves))
    return jnp.promote_types(widest, jnp.float32)


def norm(tree: Any, ord: Any = None, squared: bool = False) -> jax.Array:
    r"""The vector norm of all elements of a tree, as if they were one vector.

    .. math::
       \lVert x \rVert_2 = \sqrt{\textstyle\sum_i |x_i|^2}, \quad
       \lVert x \rVert_1 = \textstyle\sum_i |x_i|, \quad
       \lVert x \rVert_\infty = \max_i |x_i|

    (:math:`|x_i|` the magnitude of complex elements). Every element is
    accumulated in the widest real dtype of the leaves and at least float32,
    which is also the result's dtype, so float16 and bfloat16 gradients do not
    overflow (optax computes in the leaves' dtypes). The default is the global
    norm used to clip gradients.

    Args:
      tree: a pytree.
      ord: the order: ``None`` or ``2`` (Euclidean), ``1``, or ``jnp.inf``
        (also ``"inf"``, ``"infinity"``).
      squared: return the norm squared (for ``ord=2``, the sum of squares, with
        no square root taken).

    Returns:
      A real floating scalar array (0 for a tree with no elements).

    Raises:
      ValueError: an unsupported ``ord``.

    Example:
      >>> import gradtx.tree, jax.numpy as jnp
      >>> tree = {"a": jnp.array([3.0]), "b": jnp.array([-4.0])}
      >>> gradtx.tree.norm(tree), gradtx.tree.norm(tree, squared=True)
      (Array(5., dtype=float32), Array(25., dtype=float32))
      >>> gradtx.tree.norm(tree, ord=1), gradtx.tree.norm(tree, ord=jnp.inf)
      (Array(7., dtype=float32), Array(4., dtype=float32))
      >>> gradtx.tree.norm({"g": jnp.full(4, 300.0, jnp.float16)})  # no overflow
      Array(600., dtype=float32)
    """
    kind = _kind(ord)
    leaves = [jnp.asarray(x) for x in jax.tree.leaves(tree)]
    acc = _accumulation(leaves)
    if not leaves:
        return jnp.zeros([], acc)

    def wide(x: jax.Array) -> jax.Array:
        return x.astype(jnp.promote_types(x.dtype, acc))

    if kind == "l2":
        total = reduce_leaves(leaves, lambda x: jnp.sum(abs_sq(wide(x))), jnp.sum)
        return total if squared else jnp.sqrt(total)
    if kind == "l1":
        total = reduce_leaves(leaves, lambda x: jnp.sum(jnp.abs(wide(x))), jnp.sum)
    else:
        total = reduce_leaves(
            leaves, lambda x: jnp.max(jnp.abs(wide(x)), initial=0), jnp.max
        )
    return total * total if squared else total
