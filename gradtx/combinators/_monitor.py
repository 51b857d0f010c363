"""``monitor_norms``: norms of the updates and params, kept in the state for logging."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx import tree
from gradtx._internal import validate
from gradtx.core import (
    GradientTransformation,
    Params,
    Updates,
    as_transformation,
    identity,
    with_extra_args_support,
)

__all__ = ["MonitorNormsState", "monitor_norms"]

_NEEDS_PARAMS = (
    "monitor_norms records the params' norm; pass params to update: "
    "tx.update(grads, state, params)."
)


class MonitorNormsState(NamedTuple):
    """State of :func:`monitor_norms`: the last step's norms (float32 scalars)."""

    updates_norm_in: jax.Array  # global norm of the updates coming in
    updates_norm_out: jax.Array  # global norm of the updates going out
    params_norm: jax.Array  # global norm of the params
    update_param_ratio: jax.Array  # updates_norm_out / params_norm
    inner_state: Any  # the state of the wrapped transformation


def monitor_norms(
    inner: GradientTransformation | None = None,
) -> GradientTransformation:
    r"""Records global norms of the updates and params in its state.

    A pass-through (or a wrapper of ``inner``) whose state holds, after each
    step, :math:`\lVert u_{in} \rVert`, :math:`\lVert u_{out} \rVert`,
    :math:`\lVert \theta \rVert` and :math:`\lVert u_{out} \rVert /
    \lVert \theta \rVert` (the update-to-param ratio, ~1e-3 in healthy
    training): read them after a jitted step, with no extra device call,
    e.g. ``gradtx.tree_get(state, "updates_norm_in")``. Without ``inner`` the
    updates pass unchanged (in and out are equal); with it, ``inner``'s input
    and output are measured, so ``monitor_norms(clip_by_global_norm(1.0))`` shows
    the norm before and after clipping. Place several anywhere in a chain;
    :func:`~gradtx.named_chain` gives each a name.

    Each norm reads its tree once more (one reduction pass; small leaves are
    reduced together, see :func:`~gradtx.tree.norm`). Measuring a computed
    update (``inner``'s output, or whatever precedes the monitor in a chain)
    makes XLA keep it in a params-sized buffer, since both the norm and the
    add to the params need it (on CPU: measured,
    ``tests/catalogue/test_step.py``). A zero params norm gives an infinite
    ratio.

    Args:
      inner: the transformation to wrap; default: none (identity).

    Returns:
      A :class:`~gradtx.GradientTransformation` with state :class:`MonitorNormsState`
      (needs ``params`` at update).

    Raises:
      TypeError: ``inner`` is not a transformation.
      ValueError: at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.monitor_norms(gradtx.clip_by_global_norm(1.0))
      >>> params = jnp.array([3.0, 4.0])
      >>> _, state = tx.update(jnp.array([6.0, 8.0]), tx.init(params), params)
      >>> [float(x) for x in state[:4]]
      [10.0, 1.0, 5.0, 0.2]
    """
    fn = validate.who("monitor_norms")
    inner = (
        identity()
        if inner is None
        else with_extra_args_support(as_transformation(inner, "monitor_norms' inner"))
    )

    def init(params: Params) -> MonitorNormsState:
        # Four buffers, not one: a state that shares buffers cannot be donated.
        a, b, c, d = (jnp.zeros([], jnp.float32) for _ in range(4))
        return MonitorNormsState(a, b, c, d, inner.init(params))

    def update(
        updates: Updates,
        state: MonitorNormsState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Updates, MonitorNormsState]:
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        norm_in = tree.norm(updates).astype(jnp.float32)
        out, inner_state = inner.update(
            updates, state.inner_state, params, **extra_args
        )
        # Without an inner transformation the updates pass as they are.
        norm_out = norm_in if out is updates else tree.norm(out).astype(jnp.float32)
        norm_p = tree.norm(params).astype(jnp.float32)
        return out, MonitorNormsState(
            norm_in, norm_out, norm_p, norm_out / norm_p, inner_state
        )

    return GradientTransformation(init, update)
