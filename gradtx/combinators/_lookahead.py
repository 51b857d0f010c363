"""``lookahead``: k fast steps forward, one slow step back (Zhang et al. 2019)."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gradtx._internal import validate
from gradtx.core import (
    GradientTransformation,
    GradientTransformationExtraArgs,
    Params,
    Updates,
    as_transformation,
    map_leaves,
    with_extra_args_support,
)

__all__ = ["LookaheadParams", "LookaheadState", "lookahead"]


class LookaheadState(NamedTuple):
    """State of :func:`lookahead` (optax's field names)."""

    fast_state: Any  # the fast optimizer's state, built on the fast params
    steps_since_sync: jax.Array  # int32[], fast steps since the last sync


class LookaheadParams(NamedTuple):
    """The fast and the slow params of :func:`lookahead` (optax's).

    Compute the gradients at ``fast``; evaluate and deploy ``slow`` (they
    generalize better, Zhang et al. 2019). A pytree like any NamedTuple:
    :func:`gradtx.apply_updates` adds :func:`lookahead`'s updates to it.

    Example:
      >>> import gradtx, jax.numpy as jnp
      >>> p = gradtx.LookaheadParams.init_synced({"w": jnp.ones(2)})
      >>> p.fast["w"], p.slow["w"]
      (Array([1., 1.], dtype=float32), Array([1., 1.], dtype=float32))
    """

    fast: Params  # the params the fast optimizer steps; compute gradients here
    slow: Params  # the slow params, for evaluation

    @classmethod
    def init_synced(cls, params: Params) -> LookaheadParams:
        """Fast and slow params both equal to ``params``.

        ``slow`` is a copy, not the same buffers: a step that donates the
        params (:func:`gradtx.make_step`) may then write both in place
        (optax's shares the buffers).
        """
        validate.params("LookaheadParams.init_synced", params)
        return cls(fast=params, slow=jax.tree.map(jnp.copy, params))


_NOT_LOOKAHEAD_PARAMS = (
    "params must be a LookaheadParams (fast and slow params), got {got}. Start "
    "from params = gradtx.LookaheadParams.init_synced(params), compute the "
    "gradients at params.fast, and apply the updates to the pair: "
    "params = gradtx.apply_updates(params, updates)."
)


def _is_pair(params: Any) -> bool:
    """Whether ``params`` is a (fast, slow) pair: gradtx's or optax's class."""
    return (
        isinstance(params, tuple)
        and hasattr(params, "fast")
        and hasattr(params, "slow")
    )


def _lookahead_leaf(
    u: jax.Array, slow: jax.Array, fast: jax.Array, sync: jax.Array, alpha: Any
) -> tuple[jax.Array, jax.Array]:
    """The fast and slow updates of one leaf.

    On a sync step the fast step lands at ``fast + u``; the slow params move
    ``alpha`` of the way there and the fast params are reset onto them:
    ``slow' = slow + alpha (fast + u - slow)`` and ``fast' = slow'``.
    """
    diff = fast + u - slow
    fast_u = jnp.where(sync, u - (1 - alpha) * diff, u)
    slow_u = jnp.where(sync, alpha * diff, jnp.zeros_like(diff))
    return fast_u, slow_u


def lookahead(
    fast_optimizer: GradientTransformation,
    sync_period: int,
    slow_step_size: Any,
    reset_state: bool = False,
) -> GradientTransformationExtraArgs:
    r"""Lookahead: the fast optimizer explores, the slow params follow.

    Zhang et al. 2019, Algorithm 1: the fast params :math:`\phi` take
    ``sync_period`` :math:`= k` steps of the fast optimizer from the slow
    params :math:`\theta`; then the slow params move a fraction
    :math:`\alpha` of the way, and the fast params restart from them:

    .. math::
       \phi_{t,0} = \theta_{t-1}, \quad
       \phi_{t,i} = \phi_{t,i-1} + \mathrm{fast}(g_{t,i}) \;\; (i \le k),
       \quad \theta_t = \theta_{t-1} + \alpha\, (\phi_{t,k} - \theta_{t-1})

    Each call to ``update`` is one fast step; every ``k``-th also syncs, in
    the same updates. The params are a :class:`LookaheadParams` pair; the
    updates are one too, for :func:`gradtx.apply_updates` to add as they
    are (changing them breaks the sync). A training loop::

        tx = gradtx.lookahead(gradtx.adam(1e-3), sync_period=5, slow_step_size=0.5)
        params = gradtx.LookaheadParams.init_synced(params)
        state = tx.init(params)
        for batch in batches:
            grads = jax.grad(loss)(params.fast, batch)   # at the fast params
            updates, state = tx.update(grads, state, params)
            params = gradtx.apply_updates(params, updates)
        evaluate(params.slow)                             # the slow params

    The same as ``optax.lookahead``, whose state and params it shares.

    Args:
      fast_optimizer: the inner optimizer (e.g. ``gradtx.adam(1e-3)``); extra
        keyword arguments of ``update`` are passed on to it.
      sync_period: :math:`k \ge 1`, fast steps per slow step (5 or 10 in the
        paper).
      slow_step_size: :math:`\alpha \in [0, 1]` (0.5 or 0.8 in the paper).
      reset_state: reset the fast optimizer's state (to its ``init`` of the
        fast params) at every sync (the paper keeps it).

    Returns:
      A :class:`~gradtx.GradientTransformationExtraArgs` with state
      :class:`LookaheadState`. ``init`` takes the :class:`LookaheadParams`
      (or, as optax allows, the fast params alone); ``update`` needs them.

    Raises:
      TypeError: ``fast_optimizer`` is not a transformation.
      ValueError: ``sync_period`` is not an int >= 1, ``slow_step_size`` is
        outside [0, 1]; at ``update``, params that are not a
        :class:`LookaheadParams`.

    Example:
      >>> import gradtx, jax, jax.numpy as jnp
      >>> tx = gradtx.lookahead(gradtx.sgd(0.1), sync_period=2, slow_step_size=0.5)
      >>> params = gradtx.LookaheadParams.init_synced(jnp.array([1.0]))
      >>> state = tx.init(params)
      >>> for _ in range(2):  # two fast steps of -0.1, then the sync
      ...     updates, state = tx.update(jnp.array([1.0]), state, params)
      ...     params = gradtx.apply_updates(params, updates)
      >>> params.fast, params.slow  # halfway from 1.0 to 0.8
      (Array([0.9], dtype=float32), Array([0.9], dtype=float32))

    References:
      Zhang, Lucas, Hinton & Ba, *Lookahead Optimizer: k steps forward, 1
      step back*, NeurIPS 2019, https://arxiv.org/abs/1907.08610
    """
    fn = validate.who("lookahead")
    inner = with_extra_args_support(
        as_transformation(fast_optimizer, "lookahead's fast_optimizer")
    )
    validate.integer(
        fn, "sync_period", sync_period, low=1, meaning="fast steps per slow step"
    )
    validate.number(fn, "slow_step_size", slow_step_size, low=0.0, high=1.0)
    validate.boolean(fn, "reset_state", reset_state)

    def init(params: Params) -> LookaheadState:
        fast = params.fast if _is_pair(params) else params
        return LookaheadState(
            fast_state=inner.init(fast),
            steps_since_sync=jnp.zeros([], jnp.int32),
        )

    def update(
        updates: Updates,
        state: LookaheadState,
        params: Params | None = None,
        **extra_args: Any,
    ) -> tuple[Any, LookaheadState]:
        if not _is_pair(params):
            got = "None" if params is None else type(params).__name__
            raise validate.error(ValueError, fn, _NOT_LOOKAHEAD_PARAMS.format(got=got))
        pair: Any = params
        validate.updates(fn, updates, pair.fast)
        validate.tree_matches(
            fn,
            pair.slow,
            pair.fast,
            got_name="params.slow",
            expected_name="params.fast",
            hint="The slow params must be shaped like the fast ones.",
        )
        fast_updates, fast_state = inner.update(
            updates, state.fast_state, pair.fast, **extra_args
        )
        sync = state.steps_since_sync == sync_period - 1
        fast_u, slow_u = map_leaves(
            _lookahead_leaf,
            fast_updates,
            pair.slow,
            pair.fast,
            scalars=(sync, slow_step_size),
            outputs=2,
        )
        if reset_state:
            fresh = inner.init(pair.fast)
            fast_state = jax.tree.map(
                lambda now, new: jnp.where(sync, new, now).astype(jnp.result_type(now)),
                fast_state,
                fresh,
            )
        steps = ((state.steps_since_sync + 1) % sync_period).astype(jnp.int32)
        # The pair's own type: optax's LookaheadParams work too.
        new = type(pair)(fast=fast_u, slow=slow_u)
        return new, LookaheadState(fast_state=fast_state, steps_since_sync=steps)

    return GradientTransformationExtraArgs(init, update)
