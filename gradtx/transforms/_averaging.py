"""Averaged SGD's building block: a running average of the params (Polyak
averaging), kept in the state for evaluation, and the way to read it.

The update rule is written once, on :func:`gradtx.asgd`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx._internal.numerics import safe_increment, zero_count, zeros_like
from gradtx.core import GradientTransformation, Params, Updates, map_leaves
from gradtx.tree import get as tree_get

__all__ = ["PolyakAveragingState", "asgd_eval_params", "polyak_averaging"]

_NEEDS_PARAMS = (
    "polyak_averaging averages the params after each step; pass them to update: "
    "tx.update(grads, state, params)."
)


class PolyakAveragingState(NamedTuple):
    """State of :func:`polyak_averaging`."""

    count: jax.Array  # type: ignore[assignment]  # int32[], steps so far (saturating)
    ax: Any  # like params: the averaged params (PyTorch's name)


def polyak_averaging(t0: Any = 1e6) -> GradientTransformation:
    r"""Keeps the running average of the params in the state (updates unchanged).

    Placed last in a chain, it sees each step's final update :math:`u_t` and
    averages the new params :math:`\theta_t = \theta_{t-1} + u_t`:

    .. math::
       \bar\theta_t = \bar\theta_{t-1} + \mu_t (\theta_t - \bar\theta_{t-1}),
       \qquad \mu_t = 1 / \max(1,\ t - 1 - t_0)

    (:math:`t` counted from 1), as ``torch.optim.ASGD``: :math:`\bar\theta_t =
    \theta_t` until step :math:`t_0 + 2`, then the mean of the params since.
    Read it with :func:`asgd_eval_params`. See :func:`gradtx.asgd`.

    Args:
      t0: :math:`t_0 \ge 0`, the step after which averaging starts.

    Returns:
      A :class:`~gradtx.GradientTransformation` (needs ``params``) with state
      :class:`PolyakAveragingState`.

    Raises:
      ValueError: ``t0`` is out of range; at update time, no params.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.chain(gradtx.sgd(1.0), gradtx.polyak_averaging(t0=0))
      >>> params = jnp.array([0.0])
      >>> state = tx.init(params)
      >>> for g in (-1.0, -2.0, -3.0):  # params 1, 3, 6
      ...     u, state = tx.update(jnp.array([g]), state, params)
      ...     params = params + u
      >>> gradtx.asgd_eval_params(state)  # the mean of 3 and 6
      Array([4.5], dtype=float32)
    """
    fn = validate.who("polyak_averaging")
    validate.number(fn, "t0", t0, low=0.0)

    def init(params: Params) -> PolyakAveragingState:
        validate.params(fn, params)
        return PolyakAveragingState(count=zero_count(), ax=zeros_like(params))

    def update(
        updates: Updates,
        state: PolyakAveragingState,
        params: Params | None = None,
        **_: Any,
    ) -> tuple[Updates, PolyakAveragingState]:
        validate.updates(fn, updates, params, needs_params=_NEEDS_PARAMS)
        validate.updates(fn, updates, None, state.ax, name="polyak_averaging state.ax")
        t = state.count.astype(jnp.result_type(float))  # t - 1, 0-based
        mu = 1.0 / jnp.maximum(1.0, t - t0)
        ax = map_leaves(_average_leaf, state.ax, params, updates, scalars=(mu,))
        return updates, PolyakAveragingState(count=safe_increment(state.count), ax=ax)

    return GradientTransformation(init, update)


def _average_leaf(
    ax: jax.Array, p: jax.Array, u: jax.Array, mu: jax.Array
) -> jax.Array:
    return ax + mu.astype(jnp.real(ax).dtype) * (p + u - ax)


def asgd_eval_params(state: Any) -> Any:
    """The averaged params of a state that holds a :func:`polyak_averaging`.

    ``asgd_eval_params(state)`` is ``gradtx.tree_get(state,
    "PolyakAveragingState").ax``: evaluate the model at these, and keep
    training from the params themselves.

    Args:
      state: the state of :func:`gradtx.asgd` (or of any chain with one
        :func:`polyak_averaging`).

    Returns:
      A tree like the params.

    Raises:
      KeyError: the state holds no :class:`PolyakAveragingState`, or several.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> tx = gradtx.asgd(0.1, t0=0)
      >>> params = {"w": jnp.ones(2)}
      >>> state = tx.init(params)
      >>> u, state = tx.update({"w": jnp.ones(2)}, state, params)
      >>> gradtx.asgd_eval_params(state)["w"]  # after one step: the params
      Array([0.89999, 0.89999], dtype=float32)
    """
    found = tree_get(state, "PolyakAveragingState", None)
    if found is None:
        raise KeyError(
            "asgd_eval_params: the state holds no PolyakAveragingState; pass the "
            "state of gradtx.asgd (or of a chain ending with gradtx.polyak_averaging)."
        )
    return found.ax
