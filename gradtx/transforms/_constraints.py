"""Constraints on the updates: NaNs replaced by zeros, params kept >= 0."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import (
    EmptyState,
    GradientTransformation,
    Params,
    Updates,
    init_empty_state,
)

__all__ = [
    "NonNegativeParamsState",
    "ZeroNansState",
    "keep_params_nonnegative",
    "zero_nans",
]

NonNegativeParamsState = EmptyState  # optax's name for the state

_NONNEG_NEEDS_PARAMS = (
    "keep_params_nonnegative clips each step at the params; pass params to "
    "update: tx.update(grads, state, params)."
)


class ZeroNansState(NamedTuple):
    """State of :func:`zero_nans` (optax's field name)."""

    found_nan: Any  # a tree like the params of bool[]: a NaN at the last step


def zero_nans() -> GradientTransformation:
    r"""Replaces each NaN in the updates by 0 and records where there were some.

    .. math::
       u_i \leftarrow \begin{cases} 0 & u_i \text{ is NaN} \\
       u_i & \text{otherwise} \end{cases}

    Infinities pass unchanged (see :func:`~gradtx.apply_if_finite` to skip a
    whole step instead). A complex element is NaN when either part is. The
    state holds, for each leaf, whether it had a NaN at the last step, so a
    silent repair can still be logged.

    Returns:
      A :class:`~gradtx.GradientTransformation` with state
      :class:`ZeroNansState`.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.zero_nans()
      >>> u, state = tx.update({"w": jnp.array([1.0, jnp.nan])},
      ...                      tx.init({"w": jnp.zeros(2)}))
      >>> u["w"], bool(state.found_nan["w"])
      (Array([1., 0.], dtype=float32), True)
    """
    fn = validate.who("zero_nans")

    def init(params: Params) -> ZeroNansState:
        validate.params(fn, params)
        return ZeroNansState(jax.tree.map(lambda _: jnp.array(False), params))

    def update(
        updates: Updates, state: ZeroNansState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, ZeroNansState]:
        validate.updates(fn, updates, params)
        found = jax.tree.map(lambda u: jnp.any(jnp.isnan(u)), updates)
        out = jax.tree.map(
            lambda u: jnp.where(jnp.isnan(u), jnp.zeros_like(u), u), updates
        )
        return out, ZeroNansState(found)

    return GradientTransformation(init, update)


def keep_params_nonnegative() -> GradientTransformation:
    r"""Changes the updates so that the params stay non-negative.

    .. math::
       u_i \leftarrow \begin{cases} -\theta_i & \theta_i + u_i < 0 \\
       u_i & \text{otherwise} \end{cases}

    so :math:`\theta_i + u_i \ge 0`: a step that would cross zero stops at
    zero. Put it last in a chain (after the learning rate). A param that is
    already negative is moved to 0. Real params only.

    Returns:
      A stateless :class:`~gradtx.GradientTransformation` (needs ``params`` at
      update).

    Raises:
      TypeError: at update time, a complex leaf (there is no order on complex
        numbers).
      ValueError: at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.keep_params_nonnegative()
      >>> params = jnp.array([1.0, 0.5])
      >>> tx.update(jnp.array([-2.0, -0.25]), tx.init(params), params)[0]
      Array([-1.  , -0.25], dtype=float32)
    """
    fn = validate.who("keep_params_nonnegative")

    def update(
        updates: Updates, state: EmptyState, params: Params | None = None, **_: Any
    ) -> tuple[Updates, EmptyState]:
        validate.updates(fn, updates, params, needs_params=_NONNEG_NEEDS_PARAMS)
        if any(jnp.iscomplexobj(u) for u in jax.tree.leaves(updates)):
            raise validate.error(
                TypeError,
                fn,
                "updates must be real: non-negativity is not defined for complex "
                "params.",
            )

        def leaf(u: jax.Array, p: jax.Array) -> jax.Array:
            return jnp.where(p + u < 0, -p, u).astype(u.dtype)

        return jax.tree.map(leaf, updates, params), state

    return GradientTransformation(init_empty_state, update)
