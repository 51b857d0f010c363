"""``apply_updates``: the last step of every training loop."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gradtx._internal import numerics, validate
from gradtx.core._types import Params, Updates

__all__ = ["apply_updates"]


def apply_updates(params: Params, updates: Updates) -> Params:
    """Returns ``params + updates``, each leaf keeping its param's dtype.

    Args:
      params: the current params.
      updates: updates shaped like ``params`` (a ``None`` leaf of ``params``
        must be ``None`` in ``updates`` too, and stays ``None``).

    Returns:
      The new params, with the dtype of each leaf of ``params`` (a bfloat16
      param stays bfloat16 even when its update is float32).

    Raises:
      TreeMismatchError: ``updates`` does not have the structure and shapes of
        ``params``; the message names the first leaf path that differs.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> gradtx.apply_updates(jnp.ones(2, jnp.bfloat16), jnp.full(2, 0.5))
      Array([1.5, 1.5], dtype=bfloat16)
    """
    validate.tree_matches(
        "apply_updates",
        updates,
        params,
        got_name="updates",
        expected_name="params",
        dtypes="ignore",
        hint="apply_updates adds each update to the param at the same path.",
    )
    return numerics.leafwise(_add_leaf, params, updates)


def _add_leaf(p: jax.Array, u: jax.Array) -> jax.Array:
    return jnp.asarray(p + u).astype(jnp.result_type(p))
